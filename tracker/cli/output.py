"""Rows on stdout in the form the reader needs, and messages on stderr.

One function, :func:`emit_rows`, prints every command's rows:

- ``table`` (the default on a terminal): a rich table that fits the width. Columns are
  dropped by priority until the rest fit; ticker, date and number cells are never broken,
  long text is folded or cut with "…".
- ``tsv`` (the default when stdout is not a terminal): a header line, then one row per
  line, cells separated by tabs, no box drawing, no colour (as gh prints rows in a pipe).
- ``csv`` and ``json``: the same rows for programs.

The process-wide switches of the root command (``--quiet``, ``--verbose``, ``--no-color``)
live in :data:`OPTIONS`; :func:`note`, :func:`detail` and :func:`problem` write stderr lines
that honour them.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any, Literal

from tracker.render.formats import HIDDEN, json_dumps

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


class OutputFormat(StrEnum):
    """How rows are printed (``--format``)."""

    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"


@dataclass
class Options:
    """Switches of the root command, set once per run by its callback."""

    quiet: bool = False
    verbose: bool = False
    no_color: bool = False


#: The current run's switches (reset by the root callback on every invocation).
OPTIONS = Options()

Kind = Literal["token", "number", "text"]


@dataclass(frozen=True)
class Col:
    """One column of rows.

    Parameters
    ----------
    key
        The row's key (and the header in tsv, csv and json).
    header
        The header in a table (default: ``key``).
    kind
        ``token`` (a ticker, a date, a code: never broken), ``number`` (never broken,
        right-aligned) or ``text`` (may be folded, or cut with "…" when ``cut``).
    priority
        0: always shown in a table; a higher number is dropped earlier when the table
        does not fit the width.
    cut
        For text: cut long cells to one line with "…" instead of folding them.
    """

    key: str
    header: str | None = None
    kind: Kind = "token"
    priority: int = 0
    cut: bool = False

    @property
    def title(self) -> str:
        return self.key if self.header is None else self.header


#: Narrowest a text column is made before lower-priority columns are dropped.
MIN_TEXT_WIDTH = 12


def chosen_format(fmt: str | None, stream: IO[str] | None = None) -> OutputFormat:
    """``fmt`` if given, else ``table`` when ``stream`` (stdout) is a terminal, else ``tsv``."""
    if fmt is not None:
        return OutputFormat(str(fmt))
    out = sys.stdout if stream is None else stream
    isatty = getattr(out, "isatty", None)
    return OutputFormat.table if isatty is not None and isatty() else OutputFormat.tsv


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False


def plain_cell(value: Any) -> str:
    """A cell for tsv and csv: exact values, ISO dates, lists joined with "; ", missing empty.

    Tabs and line breaks become spaces so that a row stays one line; other control
    characters are escaped (:func:`visible`).
    """
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)  # True/False, as pandas has always written these files
    if isinstance(value, datetime):
        value = value.date() if _midnight(value) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(plain_cell(v) for v in value)
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return plain_cell(value.item())
    text = str(value).replace("\r\n", " ")
    return visible(text.replace("\t", " ").replace("\n", " ").replace("\r", " "))


def _shown(c: str) -> str:
    code = ord(c)
    if code < 0x20 or 0x7F <= code <= 0x9F:  # C0, DEL, C1: what a terminal obeys
        return f"\\x{code:02x}"
    if c in HIDDEN:
        return f"\\u{code:04x}"
    return c


def visible(text: str) -> str:
    """``text`` with every control character written as a visible escape.

    C0 and C1 controls and DEL become ``\\xNN`` (ESC is ``\\x1b``), bidirectional
    controls, zero-width marks and the line and paragraph separators ``\\uNNNN``, so
    that a name from any source never moves the cursor, rings, clears or reorders the
    terminal, nor splits a tsv or csv row. Other characters are kept as they are.
    """
    if text.isprintable() and not any(c in HIDDEN for c in text):
        return text  # the usual case, at the cost of one scan
    return "".join(_shown(c) for c in text)


def _midnight(value: datetime) -> bool:
    return (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)


def table_cell(value: Any) -> str:
    """A cell for a table: as :func:`plain_cell`, with floats rounded for reading."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:.6g}"
    return plain_cell(value)


def _records(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict(orient="records")  # type: ignore[union-attr]
    return list(rows)  # type: ignore[arg-type]


def infer_columns(records: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[Col]:
    """Columns for rows given without a spec: the first kept always, the rest in order.

    A column is ``number`` when every value is a number, ``token`` when no cell holds a
    space (tickers, dates, codes), else ``text``.
    """
    cols = []
    for i, key in enumerate(keys):
        values = [r.get(key) for r in records if not _missing(r.get(key))]
        if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            kind: Kind = "number"
        elif any(" " in table_cell(v) for v in values):
            kind = "text"
        else:
            kind = "token"
        cols.append(Col(key, kind=kind, priority=i))
    return cols


def _width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def fitted_columns(
    columns: Sequence[Col], cells: Mapping[str, Sequence[str]], width: int
) -> list[tuple[Col, int]]:
    """The columns a table ``width`` cells wide keeps, each with its width.

    A token or number column is as wide as its widest cell (or header); a text column
    needs :data:`MIN_TEXT_WIDTH` (less if its cells are shorter). Columns of the highest
    priority number go first (the rightmost of equals first) until the rest fit with the
    separators (3 cells between two columns); priority 0 columns always stay. The width
    left is shared by the text columns, up to their widest cell, in proportion to what
    each lacks.
    """
    natural, need = {}, {}
    for col in columns:
        natural[col.key] = max([_width(col.title), *(_width(c) for c in cells[col.key])])
        need[col.key] = (
            natural[col.key]
            if col.kind != "text"
            else min(natural[col.key], max(MIN_TEXT_WIDTH, _width(col.title)))
        )
    kept = list(columns)

    def total() -> int:
        return sum(need[c.key] for c in kept) + 3 * max(len(kept) - 1, 0)

    while total() > width:
        droppable = [c for c in kept if c.priority > 0]
        if not droppable:
            break
        worst = max(droppable, key=lambda c: (c.priority, kept.index(c)))
        kept.remove(worst)
    widths = {c.key: need[c.key] for c in kept}
    spare = max(width - total(), 0)
    lacking = {c.key: natural[c.key] - need[c.key] for c in kept if c.kind == "text"}
    wanted = sum(lacking.values())
    if wanted:
        share = min(spare, wanted)
        given = {k: share * v // wanted for k, v in lacking.items()}
        rest = share - sum(given.values())
        for k in lacking:  # the rounding remainder, one cell each, left to right
            extra = min(rest, lacking[k] - given[k])
            given[k] += extra
            rest -= extra
        for k, v in given.items():
            widths[k] += v
    return [(c, widths[c.key]) for c in kept]


def stdout_console(file: IO[str] | None = None, width: int | None = None) -> Console:
    """A rich console on stdout that honours ``--no-color`` and ``NO_COLOR``: no escapes."""
    from rich.console import Console

    return Console(
        file=file, width=width, highlight=False, soft_wrap=False, color_system=color_system()
    )


def color_system() -> str | None:
    """rich's colour system: none with ``--no-color`` or a non-empty ``NO_COLOR``.

    None rather than rich's ``no_color``, which keeps bold and italic escapes.
    """
    import os

    return None if OPTIONS.no_color or os.environ.get("NO_COLOR") else "auto"


def render_table(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[Col],
    title: str | None,
    console: Console,
) -> None:
    """Print ``records`` as a rich table that fits ``console.width``."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cells = {c.key: [table_cell(r.get(c.key)) for r in records] for c in columns}
    table = Table(
        # Text, not str: a "[red]" or "[/x]" in a name is shown as written, not as markup.
        title=None if title is None else Text(visible(title)),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
    )
    kept = fitted_columns(columns, cells, console.width)
    for col, col_width in kept:
        text = col.kind == "text"
        table.add_column(
            col.title,
            width=col_width,
            # Tokens and numbers fit by construction; text folds, or is cut when asked.
            no_wrap=not text or col.cut,
            overflow="fold" if text and not col.cut else "ellipsis",
            justify="right" if col.kind == "number" else "left",
        )
    for i in range(len(records)):
        table.add_row(*(Text(cells[col.key][i]) for col, _ in kept))
    console.print(table)


def emit_rows(
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    columns: Sequence[Col | str] | None = None,
    fmt: str | None = None,
    *,
    title: str | None = None,
    file: IO[str] | None = None,
    width: int | None = None,
) -> OutputFormat:
    """Print rows in the chosen format on stdout (or ``file``).

    Parameters
    ----------
    rows
        Records (mappings) or a DataFrame (one record per row).
    columns
        The columns, in order, as :class:`Col` or keys (kinds then inferred); default: the
        keys of the first record, or the frame's columns.
    fmt
        ``table``, ``tsv``, ``csv`` or ``json``; None chooses :func:`chosen_format`.
    title
        Shown above a table only; tsv and csv stay pure data.
    file, width
        Where to print (default: stdout) and the table width (default: the terminal's).

    Returns
    -------
    OutputFormat
        The format used.
    """
    out = sys.stdout if file is None else file
    chosen = chosen_format(fmt, out)
    records = _records(rows)
    if columns is None:
        if hasattr(rows, "columns"):
            columns = [str(c) for c in rows.columns]  # type: ignore[union-attr]
        else:
            columns = list(records[0]) if records else []
    specs = [c if isinstance(c, Col) else None for c in columns]
    if any(s is None for s in specs):
        inferred = infer_columns(records, [c if isinstance(c, str) else c.key for c in columns])
        specs = [s or inferred[i] for i, s in enumerate(specs)]
    cols: list[Col] = [s for s in specs if s is not None]
    keys = [c.key for c in cols]
    if chosen is OutputFormat.json:
        from tracker.cli._render import jsonable

        doc = [{k: r.get(k) for k in keys} for r in records]
        out.write(json_dumps(jsonable(doc)) + "\n")
    elif chosen is OutputFormat.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keys)
        writer.writerows([plain_cell(r.get(k)) for k in keys] for r in records)
    elif chosen is OutputFormat.tsv:
        out.write("\t".join(keys) + "\n")
        for r in records:
            out.write("\t".join(plain_cell(r.get(k)) for k in keys) + "\n")
    else:
        render_table(records, cols, title, stdout_console(file, width))
    out.flush()
    return chosen


def problem(*lines: str) -> None:
    """Problems (``file:line: field: message``): plain stderr lines, always, one per problem."""
    for line in lines:
        sys.stderr.write(f"{line}\n")
    sys.stderr.flush()


def note(*lines: str) -> None:
    """Messages for a person on stderr, unless ``--quiet``; never wrapped."""
    if OPTIONS.quiet:
        return
    for line in lines:
        sys.stderr.write(f"{line}\n")
    sys.stderr.flush()


def detail(*lines: str) -> None:
    """Details on stderr only with ``--verbose`` (and not ``--quiet``)."""
    if OPTIONS.verbose:
        note(*lines)


def banner(text: str, fmt: str | None = None) -> None:
    """A line that must open the output (simulated data): as it is above a table, as a
    ``# `` comment line before tsv or csv, on stderr beside json (which it would break).
    """
    chosen = chosen_format(fmt)
    if chosen is OutputFormat.json:
        sys.stderr.write(f"{text}\n")
        return
    prefix = "" if chosen is OutputFormat.table else "# "
    sys.stdout.write(f"{prefix}{text}\n")
    sys.stdout.flush()
