"""What the commands print for people: tables that measure display width, and JSON.

Chinese subjects and names take two terminal cells per character; padding
by character count misaligns them, so text tables go through rich, which
measures cells. JSON output stays plain `json.dumps` for scripts.
"""

import json
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """One table: a header row, then a row per item, columns aligned by display width.

    No colours, so the output reads the same in a terminal, a pipe or a log;
    in a terminal long cells wrap inside their column rather than cutting.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console = Console(highlight=False, color_system=None, soft_wrap=False, width=_width())
    with console.capture() as captured:
        console.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _width() -> int:
    """The terminal's width; unbounded when the output is not a terminal, so a line
    read by a script is one row, never wrapped."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else 100_000
