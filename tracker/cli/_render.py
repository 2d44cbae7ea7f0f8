"""Shared rendering helpers for the CLI: consoles, tables, frames as csv/json."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table


def stdout() -> Console:
    from rich.console import Console

    from tracker.cli.output import color_system

    return Console(highlight=False, soft_wrap=False, color_system=color_system())


def stderr() -> Console:
    from rich.console import Console

    from tracker.cli.output import OPTIONS, color_system

    # quiet: progress bars and status lines go nowhere; say() lets warnings through.
    return Console(stderr=True, highlight=False, color_system=color_system(), quiet=OPTIONS.quiet)


def say(console: Console, *lines: str) -> None:
    """Print each line as it is: no markup, no wrapping (lines quote paths and user text).

    Under ``--quiet`` only lines starting with ``warning:`` or ``error:`` are printed.
    """
    from tracker.cli.output import OPTIONS

    if OPTIONS.quiet and console.stderr:
        import sys

        for line in lines:
            if line.startswith(("warning:", "error:")):
                sys.stderr.write(f"{line}\n")
        return
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _missing(value: Any) -> bool:
    """None, NaN and NaT (NaN and NaT are the values not equal to themselves)."""
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):
        return False


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def text_table(frame: pd.DataFrame, title: str, index: bool = False) -> Table:
    """A rich table of a frame whose cells are already text (None shows as empty).

    Every table the CLI prints is built here or by :func:`print_table` /
    :func:`print_rows`, so a change of terminal or pipe output is made in one module.
    """
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    if index:
        table.add_column(str(frame.index.name or ""))
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for key, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = ["" if v is None else str(v) for v in row]
        table.add_row(*([str(key)] if index else []), *cells)
    return table


def print_table(
    frame: pd.DataFrame, title: str | None = None, console: Console | None = None
) -> None:
    """Render a frame as a rich table on stdout."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        numeric = frame[col].dtype.kind in "iuf"
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    (console or stdout()).print(table)


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO strings, NaN/NaT as null, numpy scalars as Python ones."""
    from tracker.render.formats import jsonable as render_jsonable

    return render_jsonable(value)


def write_json(records: Any) -> None:
    from tracker.render.formats import json_dumps

    sys.stdout.write(json_dumps(jsonable(records)) + "\n")


def print_rows(
    rows: list[dict], columns: list[str], title: str | None = None, console: Console | None = None
) -> None:
    """Render plain records as a rich table on stdout (no pandas needed)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in columns:
        numeric = all(isinstance(r.get(col), int | float) for r in rows if not _missing(r.get(col)))
        table.add_column(col, justify="right" if numeric and rows else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    (console or stdout()).print(table)


def write_csv_rows(rows: list[dict], columns: list[str]) -> None:
    """Plain records as CSV on stdout: lists joined with "; ", dates ISO, missing empty."""
    import csv

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(columns)
    for row in rows:
        cells = []
        for col in columns:
            value = row.get(col)
            cells.append("; ".join(value) if isinstance(value, list | tuple) else _cell_csv(value))
        out.writerow(cells)


def _cell_csv(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, date):
        return _cell(value)
    return str(value)


def write_csv(frame: pd.DataFrame) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, list | tuple)).any():
            out[col] = out[col].map(lambda v: "; ".join(v) if isinstance(v, list | tuple) else v)
    out.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d")
