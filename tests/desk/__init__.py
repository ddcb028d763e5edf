"""Tests of maildesk.desk."""
