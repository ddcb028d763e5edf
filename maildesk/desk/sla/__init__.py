"""SLA: the business calendar, the clocks and their ledger, the escalation ladder, the sweep."""
