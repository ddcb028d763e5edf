"""Read-only views of the desk for the command line: records.py the JSON of `stats`
and `tickets list/show` (clocks.py: a ticket's SLA part), report_html.py the page
of `report --html`."""
