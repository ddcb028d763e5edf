"""Tests of maildesk.daemon."""
