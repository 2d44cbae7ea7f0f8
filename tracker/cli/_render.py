"""Shared rendering helpers for the CLI: consoles, tables, frames as csv/json."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


def stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def say(console: Console, *lines: str) -> None:
    """Print each line as it is: no markup, no wrapping (lines quote paths and user text)."""
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None:
        return ""
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:,.4g}"
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.date().isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def print_table(frame: pd.DataFrame, title: str | None = None, console: Console | None = None) -> None:
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
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (value != value):
        return None
    if value is pd.NaT:
        return None
    return value


def write_json(records: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(records), ensure_ascii=False, indent=2) + "\n")


def write_csv(frame: pd.DataFrame) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, list | tuple)).any():
            out[col] = out[col].map(lambda v: "; ".join(v) if isinstance(v, list | tuple) else v)
    out.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d")
