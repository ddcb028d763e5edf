"""Tests of maildesk.views."""
