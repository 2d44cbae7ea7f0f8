"""A folder of CSV files as a price source, so data from any vendor can be used.

One file per symbol, named after the symbol without a leading ``^``
(``0700.HK.csv`` for ``0700.HK``, ``HSI.csv`` for ``^HSI``), with the header
``date,open,high,low,close,adj_close,volume``. Every column must be present;
values may be empty (an index file may hold only ``close``). Optional
``dividends`` and ``splits`` columns are read too; other columns are ignored.
Header names are matched case-insensitively, with spaces read as ``_``
(``Adj Close`` = ``adj_close``).

Dates are ISO ``YYYY-MM-DD``; a timestamp such as ``2025-01-02 00:00:00+08:00``
is read as its own local date (never shifted to UTC), and one in another zone
is first brought to Hong Kong time (``2024-01-01T16:00:00Z`` is 2 January in
Hong Kong). Rows must be in
ascending date order without repeats. Numbers are plain decimals; an empty
cell or ``nan`` is missing. Each problem is reported as ``file:line: column: message``.

What ``close`` means is the vendor's: files made from yfinance with
``auto_adjust=True`` hold dividend-adjusted closes (see ``docs/prices.md``).
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.errors import InvalidInput, Problem
from tracker.prices.source import BAR_COLUMNS, EmptyResult, FetchFailed, check_bars

REQUIRED_COLUMNS: tuple[str, ...] = (
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("dividends", "splits")
_ALIASES = {"adjclose": "adj_close", "stock_splits": "splits", "dividend": "dividends"}
_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
#: Stop listing problems after this many in one file.
MAX_PROBLEMS = 50


def symbol_file(symbol: str) -> str:
    """File name holding ``symbol``: ``^HSI`` -> ``HSI.csv``, ``0700.HK`` -> ``0700.HK.csv``."""
    return f"{symbol.lstrip('^')}.csv"


def _column_name(raw: str) -> str:
    name = raw.strip().lower().replace(" ", "_")
    return _ALIASES.get(name, name)


def _parse_date(text: str) -> date | None:
    m = _DATE.match(text.strip())
    if m is None:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    stamp = text.strip()
    if stamp.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", stamp):
        # A zoned time: its date in Hong Kong, where the session is (UTC+8, no DST).
        from datetime import datetime
        from zoneinfo import ZoneInfo

        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.astimezone(ZoneInfo("Asia/Hong_Kong")).date()
    return day


def _parse_number(text: str) -> float | None:
    """The value, NaN when missing; None when unparsable."""
    t = text.strip()
    if t == "" or t.lower() == "nan":
        return math.nan
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_bars_csv(path: Path) -> pd.DataFrame:
    """Read and validate one price file.

    Returns
    -------
    pandas.DataFrame
        In the bar schema of :mod:`tracker.prices.source` (index ``date``).

    Raises
    ------
    InvalidInput
        Listing every problem as ``file:line: column: message``: unreadable
        file, missing column, unparsable date or number, negative value, empty
        close, repeated date, rows out of order.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([Problem(name, None, "", f"cannot read file: {exc}")]) from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise InvalidInput(
            [
                Problem(
                    name, 1, "", f"empty file: expected a header line {','.join(REQUIRED_COLUMNS)}"
                )
            ]
        )
    columns = [_column_name(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInput(
            [
                Problem(
                    name, 1, c, f"missing column; the header must name {','.join(REQUIRED_COLUMNS)}"
                )
                for c in missing
            ]
        )
    wanted = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns]
    pos = {c: columns.index(c) for c in wanted}
    problems: list[Problem] = []
    records: list[dict] = []
    seen: dict[date, int] = {}
    previous: tuple[date, int] | None = None
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(name, line, "", f"{len(row)} fields, the header has {len(header)}")
            )
            continue
        day = _parse_date(row[pos["date"]])
        if day is None:
            problems.append(
                Problem(name, line, "date", f"{row[pos['date']]!r} is not a date (YYYY-MM-DD)")
            )
        record: dict = {"date": day}
        for col in wanted[1:]:
            value = _parse_number(row[pos[col]])
            if value is None:
                problems.append(Problem(name, line, col, f"{row[pos[col]]!r} is not a number"))
            elif value < 0 or (col in ("open", "high", "low", "close", "adj_close") and value == 0):
                problems.append(Problem(name, line, col, f"{value:g} must be positive"))
            record[col] = value
        if record.get("close") is not None and math.isnan(record["close"]):
            problems.append(Problem(name, line, "close", "empty: every row needs a close"))
        if day is not None:
            if day in seen:
                problems.append(
                    Problem(name, line, "date", f"{day} repeats line {seen[day]}: keep one row")
                )
            elif previous is not None and day < previous[0]:
                problems.append(
                    Problem(
                        name,
                        line,
                        "date",
                        f"{day} comes after {previous[0]} (line {previous[1]}): "
                        "sort the rows by date",
                    )
                )
            seen.setdefault(day, line)
            previous = (day, line)
        records.append(record)
    if problems:
        if len(problems) > MAX_PROBLEMS:
            extra = len(problems) - MAX_PROBLEMS
            problems = problems[:MAX_PROBLEMS] + [
                Problem(name, None, "", f"... and {extra} more problems")
            ]
        raise InvalidInput(problems)
    frame = pd.DataFrame.from_records(records, columns=["date", *wanted[1:]])
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date")), name="date")
    return check_bars(frame, name)


class CsvFolderSource:
    """Bars from ``<folder>/<symbol>.csv`` files (see the module docstring).

    Parameters
    ----------
    folder
        The folder holding the files; its resolved path names the source.
    """

    simulated = False

    def __init__(self, folder: Path):
        self.folder = Path(folder).resolve()
        self.name = f"csv:{self.folder}"

    def path_for(self, symbol: str) -> Path:
        return self.folder / symbol_file(symbol)

    def fetch(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Rows of ``<symbol>.csv`` dated in ``[start, end]``.

        Raises
        ------
        FetchFailed
            No such file.
        InvalidInput
            The file has problems (each as ``file:line``).
        EmptyResult
            The file has no row in the range.
        """
        path = self.path_for(symbol)
        if not path.is_file():
            raise FetchFailed(symbol, f"no file {path.name} in {self.folder}")
        bars = read_bars_csv(path)
        inside = bars[(bars.index >= start) & (bars.index <= end)]
        if inside.empty:
            span = f"{bars.index[0].date()}..{bars.index[-1].date()}" if len(bars) else "no rows"
            raise EmptyResult(
                symbol, f"{path.name} has no rows {start.date()}..{end.date()} (it holds {span})"
            )
        return inside[list(BAR_COLUMNS)]
