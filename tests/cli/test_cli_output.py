"""tracker.cli.output: one way to print rows (table, tsv, csv, json) and stderr lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.cli import output
from tracker.cli.output import Col, OutputFormat, chosen_format, emit_rows, fitted_columns


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("given_fmt", "tty", "expected"),
    [
        pytest.param(None, True, OutputFormat.table, id="terminal-table"),
        pytest.param(None, False, OutputFormat.tsv, id="pipe-tsv"),
        pytest.param("csv", True, OutputFormat.csv, id="asked-csv-on-terminal"),
        pytest.param("table", False, OutputFormat.table, id="asked-table-in-pipe"),
    ],
)
def test_default_format_follows_the_terminal(given_fmt, tty, expected):
    assert chosen_format(given_fmt, _Stream(tty)) is expected


ROWS = [
    {"ticker": "0700.HK", "day": date(2025, 5, 6), "px": 479.969, "note": "a\tb\nc", "n": None},
    {"ticker": "^HSI", "day": datetime(2025, 5, 7), "px": 22_000, "note": ["x", "y"], "n": True},
]


def test_tsv_is_a_header_and_one_line_per_row():
    out = io.StringIO()
    emit_rows(ROWS, ["ticker", "day", "px", "note", "n"], "tsv", title="ignored", file=out)
    # Tabs and line breaks inside a cell become spaces; lists are joined with "; ";
    # a midnight datetime is its date; None is empty; no title in data output.
    assert out.getvalue() == (
        "ticker\tday\tpx\tnote\tn\n"
        "0700.HK\t2025-05-06\t479.969\ta b c\t\n"
        "^HSI\t2025-05-07\t22000\tx; y\tTrue\n"
    )


def test_csv_quotes_and_json_keeps_types():
    out = io.StringIO()
    rows = [{"name": "Huaan, Securities", "day": date(2025, 5, 6), "px": float("nan")}]
    emit_rows(rows, None, "csv", file=out)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "day", "px"],
        ["Huaan, Securities", "2025-05-06", ""],
    ]
    out = io.StringIO()
    emit_rows(rows, None, "json", file=out)
    assert json.loads(out.getvalue()) == [
        {"name": "Huaan, Securities", "day": "2025-05-06", "px": None}
    ]


def test_a_frame_prints_like_its_records():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"ticker": ["0700.HK"], "close": [410.2]})
    out = io.StringIO()
    emit_rows(frame, None, "tsv", file=out)
    assert out.getvalue() == "ticker\tclose\n0700.HK\t410.2\n"


COLS = [
    Col("A"),
    Col("B", kind="number", priority=2),
    Col("C", kind="text", priority=1),
    Col("D", priority=3),
]
CELLS = {
    "A": ["0700.HK", "9988.HK"],  # 7 wide
    "B": ["12", "3456"],  # 4 wide
    "C": ["a long piece of text here"],  # 25 wide; needs MIN_TEXT_WIDTH = 12
    "D": ["2025-05-06"],  # 10 wide
}


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        # 7 + 4 + 12 + 10 + 3 separators x 3 = 42 <= 80: all kept; 38 spare, C takes the 13
        # it lacks (25 - 12).
        pytest.param(80, [("A", 7), ("B", 4), ("C", 25), ("D", 10)], id="wide"),
        # 42 > 30: D (priority 3) goes; 7 + 4 + 12 + 6 = 29, 1 spare cell for C.
        pytest.param(30, [("A", 7), ("B", 4), ("C", 13)], id="drop-one"),
        # 29 > 20: B (priority 2) goes; 7 + 12 + 3 = 22 > 20: C goes; A alone.
        pytest.param(20, [("A", 7)], id="drop-three"),
        # Priority 0 stays even when it does not fit.
        pytest.param(5, [("A", 7)], id="too-narrow"),
    ],
)
def test_columns_are_dropped_by_priority(width, expected):
    kept = fitted_columns(COLS, CELLS, width)
    assert [(c.key, w) for c, w in kept] == expected


def test_equal_priorities_drop_the_rightmost_first_and_cjk_counts_double():
    cols = [Col("t"), Col("x", priority=1), Col("y", priority=1)]
    cells = {"t": ["腾讯控股"], "x": ["xxxxx"], "y": ["yyyyy"]}
    # 8 (four double-width characters) + 5 + 5 + 6 = 24 > 20: y goes; 8 + 5 + 3 = 16.
    assert [(c.key, w) for c, w in fitted_columns(cols, cells, 20)] == [("t", 8), ("x", 5)]


def _table(rows, cols, width):
    out = io.StringIO()
    emit_rows(rows, cols, "table", file=out, width=width, title="calls")
    return out.getvalue().splitlines()


def test_a_table_keeps_tokens_whole_and_each_row_on_one_line():
    rows = [
        {
            "ticker": f"{code:04d}.HK",
            "published": date(2025, 5, 6),
            "name": "腾讯控股 Tencent Holdings Limited",
            "note": "a thesis long enough to need folding or cutting in a narrow table",
        }
        for code in (700, 9988, 1810)
    ]
    cols = [
        Col("ticker"),
        Col("published"),
        Col("name", kind="text", priority=1, cut=True),
        Col("note", kind="text", priority=2, cut=True),
    ]
    for width in (40, 80, 200):
        lines = _table(rows, cols, width)
        body = lines[3:]  # title, header, rule
        assert len(body) == len(rows), lines
        for row, line in zip(rows, body, strict=True):
            assert row["ticker"] in line and "2025-05-06" in line
        assert all(len(line) <= width for line in lines)
    # At 200 columns nothing is cut; at 40 the text columns are cut or gone.
    assert rows[0]["note"] in "\n".join(_table(rows, cols, 200))
    assert "…" in "\n".join(_table(rows, cols, 60))


TOKEN = st.text(alphabet="0123456789ABCDEFGHK.-^", min_size=1, max_size=14)


@given(
    cells=st.lists(st.tuples(TOKEN, TOKEN, TOKEN), min_size=1, max_size=6),
    width=st.integers(min_value=50, max_value=200),
)
def test_kept_token_cells_are_never_broken(cells, width):
    rows = [{"a": a, "b": b, "c": c} for a, b, c in cells]
    cols = [Col("a"), Col("b", priority=1), Col("c", kind="number", priority=2)]
    lines = _table(rows, cols, width)
    assert len(lines) == 3 + len(rows)
    for row, line in zip(rows, lines[3:], strict=True):
        assert row["a"] in line  # priority 0: always there, whole


def test_stderr_lines_honour_quiet_and_verbose(capsys, monkeypatch):
    monkeypatch.setattr(output, "OPTIONS", output.Options(quiet=True))
    output.note("a note")
    output.problem("f.csv:3: date: bad")
    assert capsys.readouterr().err == "f.csv:3: date: bad\n"
    monkeypatch.setattr(output, "OPTIONS", output.Options(verbose=True))
    output.note("a note")
    output.detail("a detail")
    assert capsys.readouterr().err == "a note\na detail\n"
    monkeypatch.setattr(output, "OPTIONS", output.Options())
    output.detail("hidden")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("fmt", "out", "err"),
    [
        pytest.param("table", "SIM\n", "", id="table"),
        pytest.param("tsv", "# SIM\n", "", id="tsv"),
        pytest.param("json", "", "SIM\n", id="json"),
    ],
)
def test_banner_opens_the_output_without_breaking_it(capsys, fmt, out, err):
    output.banner("SIM", fmt)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (out, err)
