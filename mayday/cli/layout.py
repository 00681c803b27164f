"""Tables that fit the terminal: ids whole, one free-text column cut with an ellipsis.

Rich squeezes every column of a table that is too wide, so at 80 columns an id loses its tail
and each column shows three letters. A fitted table keeps ids and short columns whole and gives
the rest of the line to one free-text column (title, message text); `--wide` prints every column
uncut and lets the terminal wrap.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

WIDE_OPTION = typer.Option(False, "--wide", help="Show every column, uncut.")

GAP = 2
UNLIMITED = 100_000
MIN_FREE_TEXT = 12
"""Narrower than this, the free text is useless: each row goes on two lines instead."""


def fitted_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    free: int,
    key: int = 0,
    header: bool = True,
) -> RenderableType:
    """Rows under `headers` within `width` cells; column `free` takes what is left, cut with ….

    When even that leaves no room, each row's `key` (its id) gets a line of its own.
    """
    fixed = [i for i in range(len(headers)) if i != free]
    widths = {i: max(cell_len(str(c)) for c in [headers[i], *(r[i] for r in rows)]) for i in fixed}
    room = width - sum(widths.values()) - GAP * (len(headers) - 1)
    if room < MIN_FREE_TEXT:
        return _stacked(rows, width=width, free=free, key=key)
    table = Table(
        *(
            Column(
                header,
                no_wrap=True,
                overflow="ellipsis",
                max_width=room if i == free else None,
            )
            for i, header in enumerate(headers)
        ),
        box=None,
        padding=(0, GAP, 0, 0),
        pad_edge=False,
        header_style="bold",
        show_header=header,
    )
    for row in rows:
        table.add_row(*(Text(str(cell), no_wrap=True, overflow="ellipsis") for cell in row))
    return table


def _stacked(rows: Sequence[Sequence[str]], *, width: int, free: int, key: int) -> RenderableType:
    """The key cell alone on a line (an id is never cut), the others indented below it."""
    lines: list[Text] = []
    for row in rows:
        lines.append(Text(str(row[key]), overflow="fold"))
        rest = "  ".join(str(c) for i, c in enumerate(row) if i not in (key, free) and c)
        detail = Text(f"  {rest}  {row[free]}".rstrip())
        detail.truncate(width, overflow="ellipsis")
        lines.append(detail)
    return Group(*lines)


def print_wide(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    header: bool = True,
) -> None:
    """Every column uncut, one line per row however long; the terminal wraps what it must."""
    table = Table(
        *headers,
        box=None,
        padding=(0, GAP, 0, 0),
        pad_edge=False,
        header_style="bold",
        show_header=header,
    )
    for row in rows:
        table.add_row(*(Text(str(cell), no_wrap=True) for cell in row))
    needed = Measurement.get(console, console.options.update(width=UNLIMITED), table).maximum
    if needed <= console.width:
        console.print(table)
        return
    Console(width=needed, file=console.file).print(table)


def one_line(text: str, width: int) -> Text:
    """`text` on one line of at most `width` cells, cut with an ellipsis."""
    line = Text(" ".join(text.split()), no_wrap=True, overflow="ellipsis")
    line.truncate(max(width, 1), overflow="ellipsis")
    return line
