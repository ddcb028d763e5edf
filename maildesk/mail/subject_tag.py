"""Our ticket tag in subjects, e.g. `[Ticket#42]`: written into our mail, found in replies.

Only our own template matches; other systems' tags (`[RT #12]`) are not ours.
"""

import re


class SubjectTag:
    """Formats and finds our tag, e.g. `[Ticket#{number}]`; other systems' tags don't match."""

    def __init__(self, template: str) -> None:
        self.template = template
        before, _, after = template.partition("{number}")
        self.pattern = re.compile(re.escape(before) + r"\s*(\d{1,12})\s*" + re.escape(after), re.I)

    def format(self, number: int) -> str:
        return self.template.replace("{number}", str(number))

    def find(self, subject: str) -> int | None:
        match = self.pattern.search(subject)
        return int(match[1]) if match else None
