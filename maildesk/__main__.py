"""`python -m maildesk` runs the command line."""

from maildesk.cli import main

main()
