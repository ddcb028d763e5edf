"""Tests of maildesk.transport."""
