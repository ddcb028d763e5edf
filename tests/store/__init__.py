"""Tests of maildesk.store."""
