"""Tests of maildesk.mail."""
