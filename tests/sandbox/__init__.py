"""Tests of maildesk.sandbox."""
