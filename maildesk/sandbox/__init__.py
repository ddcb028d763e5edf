"""The parse sandbox: customer bytes are parsed in a budgeted child process.

Intake machinery above the mail library: worker.py decides what to send and
whom to blame, child.py is the process, its pipes and its clock. The mail
library it runs stays functions over bytes.
"""
