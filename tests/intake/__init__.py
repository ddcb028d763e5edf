"""Tests of maildesk.intake."""
