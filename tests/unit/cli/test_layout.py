"""Tables at 3 a.m.: an 80-column terminal shows ids whole and cuts only the free text."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from mayday.cli.layout import fitted_table, one_line, print_wide

HEADERS = ("id", "severity", "phase", "title")
LONG_TITLE = "Card payments failing at checkout for every customer in Europe and North America"


def _lines(renderable: RenderableType, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(width=width, file=out).print(renderable)
    return out.getvalue().splitlines()


def test_ids_stay_whole_and_the_title_is_cut_with_an_ellipsis() -> None:
    rows = [
        ("incident-checkout-3f9a1c2e", "SEV1", "investigating", LONG_TITLE),
        ("incident-payments-api-error-rate-eu", "SEV2", "identified", "Short"),
    ]
    lines = _lines(fitted_table(HEADERS, rows, width=80, free=3))
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == list(HEADERS)
    assert lines[1].split()[:3] == ["incident-checkout-3f9a1c2e", "SEV1", "investigating"]
    assert lines[1].rstrip().endswith("…") and "Card payments" in lines[1]
    assert "incident-payments-api-error-rate-eu" in lines[2]
    assert "identified" in lines[2] and "Short" in lines[2]


def test_an_id_too_long_for_a_row_gets_a_line_of_its_own() -> None:
    long_id = "incident-" + "alertmanager-checkout-latency-p99-" * 2
    rows = [(long_id, "SEV1", "investigating", LONG_TITLE)]
    lines = _lines(fitted_table(HEADERS, rows, width=80, free=3))
    assert lines[0] == long_id
    assert lines[1].startswith("  SEV1  investigating  Card payments")
    assert max(len(line) for line in lines) <= 80


def test_wide_prints_every_column_uncut() -> None:
    out = io.StringIO()
    row = ("incident-checkout-3f9a1c2e", "SEV1", "identified", LONG_TITLE)
    print_wide(Console(width=80, file=out), HEADERS, [row])
    [header, line] = out.getvalue().splitlines()
    assert header.split() == list(HEADERS)
    assert line.split()[:3] == list(row[:3]) and line.rstrip().endswith(LONG_TITLE)


def test_one_line_folds_whitespace_and_cuts() -> None:
    assert one_line("a  b\nc", 10).plain == "a b c"
    assert one_line(LONG_TITLE, 20).plain == LONG_TITLE[:19] + "…"
