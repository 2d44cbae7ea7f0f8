"""Importing HKEX's "List of Securities" into the local registry store.

:func:`import_hkex` reads HKEX's English list (the ``.xlsx`` workbook as
published, or a CSV with the same columns) and optional CSV files of Chinese
names, keeps equities, ETFs and REITs, and writes ``<home>/registry.csv``
atomically, only once everything has been read without error.
:func:`update_registry` downloads the published workbook first. Every bad row
is reported as ``file:row: column: message``.

:class:`tracker.registry.resolve.Registry` reads the store; this module only writes it.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tracker.errors import InputFileError, InvalidInput, Problem, TrackerError
from tracker.registry.resolve import (
    STORE_NAME,
    Security,
    format_registry,
    simplified,
    suffix_of,
    ticker_from_code,
)

#: HKEX's public address of the English "List of Securities" workbook.
HKEX_LIST_URL = (
    "https://www.hkex.com.hk/eng/services/trading/securities/securitieslists/ListOfSecurities.xlsx"
)
#: HKEX categories kept on import, and what we call them.
HKEX_CATEGORIES = {
    "Equity": "Equity",
    "Exchange Traded Products": "ETF",
    "Real Estate Investment Trusts": "REIT",
}
#: Category of a code found only in a Chinese-names file (no English list row).
UNKNOWN_CATEGORY = "Unknown"
#: An xlsx whose header row is not within this many rows is refused.
MAX_TITLE_ROWS = 20
#: Problems listed before an import gives up.
MAX_PROBLEMS = 20
#: Largest download accepted (HKEX's workbook is about 2 MB).
MAX_DOWNLOAD_BYTES = 50_000_000

Progress = Callable[[int, int | None], None]


class DownloadFailed(TrackerError):
    """The HKEX list could not be downloaded; nothing was changed."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot download the HKEX list from {url}: {reason}; check the connection or the"
            " --url, or download the file in a browser and run `tracker registry import FILE`"
            " (the registry was not changed)"
        )


class ImportSummary(BaseModel):
    """What an import read, kept, skipped and wrote."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    as_of: date | None = Field(description="the list's 'Updated as at' date, if it has one")
    rows_read: int = Field(description="data rows in the list (blank rows not counted)")
    kept: dict[str, int] = Field(description="rows kept, by category (Equity, ETF, REIT)")
    skipped: dict[str, int] = Field(description="rows skipped, by reason")
    names_sources: tuple[str, ...] = ()
    names_read: int = 0
    names_merged: int = Field(0, description="codes of the list that got Chinese names")
    names_only: int = Field(0, description="codes only in a names file, added without English name")
    without_chinese: int = Field(0, description="securities written with no Chinese name")
    written: int
    store: Path

    @property
    def equities(self) -> int:
        return self.kept.get("Equity", 0)


#: Header of the main list, normalised (case-folded, letters and digits only) -> field.
_LIST_HEADERS = {
    "stockcode": "code",
    "code": "code",
    "nameofsecurities": "name_en",
    "nameen": "name_en",
    "category": "category",
    "subcategory": "sub_category",
    "boardlot": "board_lot",
    "subjecttostampduty": "stamp_duty",
    "stampduty": "stamp_duty",
    "namezhhant": "name_zh_hant",
    "namezhhans": "name_zh_hans",
}
_LIST_REQUIRED = ("code", "name_en", "category", "board_lot")
_LIST_LAYOUT = (
    "HKEX's List of Securities (Stock Code, Name of Securities, Category, Board Lot, ...)"
)
_FIX = "fix the row or download the list again"
_NAMES_HEADERS = {
    "code": "code",
    "stockcode": "code",
    "股份代號": "code",
    "股份代号": "code",
    "namezhhant": "name_zh_hant",
    "zhhant": "name_zh_hant",
    "nametc": "name_zh_hant",
    "traditional": "name_zh_hant",
    "namezhhans": "name_zh_hans",
    "zhhans": "name_zh_hans",
    "namesc": "name_zh_hans",
    "simplified": "name_zh_hans",
}


def _norm_header(text: object) -> str:
    return "".join(ch for ch in str(text or "").casefold() if ch.isalnum())


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _code_of(text: str) -> int | None:
    """A stock code cell ("00700", "700") as an int; None if it is not one."""
    return int(text) if text.isdigit() and len(text) <= 5 and int(text) else None


class _Table:
    """The columns of an input file and its problems, reported as ``file:row: column: ...``."""

    def __init__(self, path: Path, header: Sequence[object], known: dict[str, str]):
        self.path = path
        self.header = header
        self.cols: dict[str, tuple[int, str]] = {}
        for i, text in enumerate(header):
            field = known.get(_norm_header(text))
            if field and field not in self.cols:
                self.cols[field] = (i, str(text).strip())
        self.problems: list[Problem] = []

    def require(self, fields: Sequence[str], layout: str) -> None:
        missing = [f for f in fields if f.split(" or ")[0] not in self.cols]
        if missing:
            found = ", ".join(str(h).strip() for h in self.header if h not in (None, ""))
            raise InputFileError(
                self.path,
                f"missing column(s) {', '.join(missing)}; expected {layout}"
                f" (found: {found or 'nothing'})",
            )

    def get(self, cells: Sequence[str], field: str) -> str:
        i = self.cols[field][0] if field in self.cols else None
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def problem(self, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), line, self.cols[field][1], message))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def raise_problems(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems[:MAX_PROBLEMS])


def _read_csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], int | None]:
    """Header, (line, cells) rows and row count of a UTF-8 CSV."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8 text: save the CSV as UTF-8") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InputFileError(path, "the file is empty: expected a header row")
    total = max(text.count("\n") - 1, 0) or None  # physical lines: a hint for progress

    def rows() -> Iterator[tuple[int, list[str]]]:
        for cells in reader:
            yield reader.line_num, cells

    return header, rows(), total


def _open_xlsx(path: Path):
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputFileError(
            path, f"not an Excel workbook (.xlsx) ({exc}); download HKEX's List of Securities again"
        ) from None


def _as_of(row: Sequence[object]) -> date | None:
    """The date of an "Updated as at dd/mm/yyyy" title row."""
    for value in row:
        m = re.search(r"updated as at\s*(\d{1,2})/(\d{1,2})/(\d{4})", _cell(value), re.I)
        if m:
            day, month, year = (int(g) for g in m.groups())
            return date(year, month, day)
    return None


def _read_xlsx_rows(
    path: Path,
) -> tuple[_Table, Iterator[tuple[int, list[str]]], int | None, date | None]:
    """Find the "Stock Code" header under optional title rows, then stream the data rows."""
    wb = _open_xlsx(path)
    ws = wb.worksheets[0]
    as_of = None
    header_line = 0
    for line, row in enumerate(ws.iter_rows(max_row=MAX_TITLE_ROWS, values_only=True), start=1):
        if row and _norm_header(_cell(row[0])) == "stockcode":
            header_line, table = line, _Table(path, row, _LIST_HEADERS)
            break
        as_of = as_of or _as_of(row)
    if not header_line:
        wb.close()
        raise InputFileError(
            path,
            f'no header row starting "Stock Code" in the first {MAX_TITLE_ROWS} rows:'
            " is this HKEX's List of Securities workbook?",
        )
    table.require(_LIST_REQUIRED, _LIST_LAYOUT)
    width = max(i for i, _ in table.cols.values()) + 1

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            cells = ws.iter_rows(min_row=header_line + 1, max_col=width, values_only=True)
            for line, row in enumerate(cells, start=header_line + 1):
                yield line, [_cell(v) for v in row]
        finally:
            wb.close()

    # The sheet's recorded dimension gives the row count; files written without one say 0.
    return table, rows(), max((ws.max_row or 0) - header_line, 0) or None, as_of


def _list_fields(table: _Table, line: int, cells: Sequence[str]) -> dict[str, object] | None:
    """The fields of a kept row of the list; None (with problems noted) if it is bad."""
    before = len(table.problems)
    code_text = table.get(cells, "code")
    code = _code_of(code_text)
    if code is None:
        table.problem(line, "code", f"{code_text!r} is not a stock code (1 to 5 digits); {_FIX}")
    lot_text = table.get(cells, "board_lot")
    lot = lot_text.replace(",", "").replace(" ", "")
    if not lot.isdigit() or int(lot) == 0:
        table.problem(line, "board_lot", f"{lot_text!r} is not a whole number of shares; {_FIX}")
    name = table.get(cells, "name_en")
    if not name:
        table.problem(line, "name_en", f"the name is blank; {_FIX}")
    for field in ("name_en", "name_zh_hant", "name_zh_hans"):
        _name_problem(table, line, field, table.get(cells, field))
    if len(table.problems) > before:
        return None
    category = table.get(cells, "category")
    if "stamp_duty" in table.cols:
        duty = table.get(cells, "stamp_duty").upper() == "Y"
    else:
        # Without HKEX's flag: equities pay, ETFs and REITs do not, and neither do
        # "Trading Only Securities" (foreign shares), as HKEX's own list marks them.
        duty = (
            category == "Equity" and table.get(cells, "sub_category") != "Trading Only Securities"
        )
    return {
        "code": code,
        "name_en": _label(name),
        "board_lot": int(lot),
        "category": HKEX_CATEGORIES[category],
        "stamp_duty": duty,
        "name_zh_hant": _label(table.get(cells, "name_zh_hant")) or None,
        "name_zh_hans": _label(table.get(cells, "name_zh_hans")) or None,
    }


def _name_problem(table: _Table, line: int, field: str, value: str) -> bool:
    """Note a name holding a control character (ESC, BEL, NUL, C1...); True if it does."""
    from tracker.fields import label_problem

    problem = label_problem(value)
    if problem is not None:
        table.problem(line, field, f"{problem}; {_FIX}")
    return problem is not None


def _label(value: str) -> str:
    """``value`` without zero-width and bidirectional marks (as the registry stores names)."""
    from tracker.fields import INVISIBLE

    return "".join(c for c in value if c not in INVISIBLE).strip()


def _open_list(
    path: Path,
) -> tuple[_Table, Iterator[tuple[int, list[str]]], int | None, date | None]:
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx_rows(path)
    if suffix == ".csv":
        header, rows, total = _read_csv_rows(path)
        table = _Table(path, header, _LIST_HEADERS)
        table.require(_LIST_REQUIRED, _LIST_LAYOUT)
        return table, rows, total, None
    raise InputFileError(
        path, f"unsupported file type {path.suffix!r}: give HKEX's .xlsx list or a .csv"
    )


def _read_list(path: Path, progress: Progress | None) -> tuple[dict[int, dict], dict]:
    """Kept rows by code, and the counts for the summary."""
    table, rows, total, as_of = _open_list(path)
    kept: dict[int, dict] = {}
    first_line: dict[int, int] = {}
    counts = {"rows_read": 0, "kept": Counter(), "skipped": Counter(), "as_of": as_of}
    done = 0
    for done, (line, cells) in enumerate(rows, start=1):
        if progress is not None and done % 1000 == 0:
            progress(done, total if total and total >= done else None)
        if not any(cells):
            continue
        counts["rows_read"] += 1
        category = table.get(cells, "category")
        if category not in HKEX_CATEGORIES:
            counts["skipped"][category or "(blank category)"] += 1
            continue
        fields = _list_fields(table, line, cells)
        if fields is not None and fields["code"] in first_line:
            code = fields["code"]
            table.problem(
                line, "code", f"duplicate stock code {code:05d} (first on line {first_line[code]})"
            )
            fields = None
        if table.full:
            break
        if fields is not None:
            first_line[fields["code"]] = line
            kept[fields["code"]] = fields
            counts["kept"][fields["category"]] += 1
    table.raise_problems()
    if not kept:
        raise InputFileError(
            path, "no equities, ETFs or REITs found: is this HKEX's List of Securities?"
        )
    if progress is not None:
        progress(done, done)
    return kept, counts


_ZH_FIELDS = ("name_zh_hant", "name_zh_hans")


def _read_names(path: Path) -> tuple[dict[int, tuple[str | None, str | None]], int]:
    """Chinese names by code, as (traditional, simplified); and the rows read."""
    header, rows, _ = _read_csv_rows(path)
    table = _Table(path, header, _NAMES_HEADERS)
    layout = (
        "a header with code and name_zh_hant and/or name_zh_hans,"
        " e.g. code,name_zh_hant,name_zh_hans"
    )
    table.require(["code"], layout)
    if "name_zh_hant" not in table.cols and "name_zh_hans" not in table.cols:
        table.require(["name_zh_hant or name_zh_hans"], layout)
    names: dict[int, tuple[str | None, str | None]] = {}
    read = 0
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        read += 1
        code = _code_of(table.get(cells, "code"))
        if code is None:
            table.problem(
                line,
                "code",
                f"{table.get(cells, 'code')!r} is not a stock code (1 to 5 digits); fix the row",
            )
            if table.full:
                break
            continue
        bad = [_name_problem(table, line, f, table.get(cells, f)) for f in _ZH_FIELDS]
        if any(bad):
            if table.full:
                break
            continue
        hant = _label(table.get(cells, "name_zh_hant")) or None
        hans = _label(table.get(cells, "name_zh_hans")) or None
        if hant and not hans:
            hans = simplified(hant)
        if hant or hans:
            names[code] = (hant, hans)
    table.raise_problems()
    return names, read


def _as_paths(names_path: Path | Sequence[Path] | None) -> list[Path]:
    if names_path is None:
        return []
    if isinstance(names_path, str | os.PathLike):
        return [Path(names_path)]
    return [Path(p) for p in names_path]


def import_hkex(
    list_path: Path,
    names_path: Path | Sequence[Path] | None,
    home: Path,
    progress: Progress | None = None,
    *,
    source: str | None = None,
) -> ImportSummary:
    """Import HKEX's List of Securities (and Chinese names) into ``<home>/registry.csv``.

    Parameters
    ----------
    list_path : Path
        HKEX's English "List of Securities" workbook (``.xlsx``, with or
        without the "List of Securities" / "Updated as at" title rows), or a
        CSV with columns ``code,name_en,board_lot,category`` (optionally
        ``sub_category,name_zh_hant,name_zh_hans,stamp_duty``). Equities, ETFs
        (Exchange Traded Products) and REITs are kept; warrants, CBBCs and
        debt are skipped and counted.
    names_path : Path or sequence of Path, optional
        CSV file(s) of Chinese names: a header with ``code`` and
        ``name_zh_hant`` and/or ``name_zh_hans`` (missing simplified names are
        converted from traditional). Later files win. Codes absent from the
        list are added with category ``Unknown`` and no board lot.
    home : Path
        Tracker home; the store is written there atomically, only once
        everything has been read without error.
    progress : callable, optional
        Called as ``progress(rows_done, rows_total_or_None)`` while reading.
    source : str, optional
        Name shown in the summary instead of ``list_path`` (e.g. a URL).

    Returns
    -------
    ImportSummary

    Raises
    ------
    InputFileError, InvalidInput
        Unreadable file, wrong layout, missing columns, bad rows (all listed
        as ``file:row: column: message``). The store is left untouched.
    NotWritable, DiskFull
        The store cannot be written (the home is a file or read-only, the disk
        is full); the store is left untouched.
    """
    from tracker.storage import folder_problem, write_files

    store = Path(home) / STORE_NAME
    blocked = folder_problem(store.parent, "tracker home")
    if blocked is not None:  # before reading a list of thousands of rows
        raise blocked
    list_path = Path(list_path)
    kept, counts = _read_list(list_path, progress)
    names_files = _as_paths(names_path)
    names_read = merged = 0
    only: dict[int, tuple[str | None, str | None]] = {}
    matched: set[int] = set()
    for path in names_files:
        names, read = _read_names(path)
        names_read += read
        for code, (hant, hans) in names.items():
            if code in kept:
                kept[code]["name_zh_hant"] = hant or kept[code]["name_zh_hant"]
                kept[code]["name_zh_hans"] = hans or kept[code]["name_zh_hans"]
                matched.add(code)
            else:
                only[code] = (hant, hans)
    merged = len(matched)
    securities = [_security_from_list(f) for f in kept.values()]
    securities += [_security_from_names(code, hant, hans) for code, (hant, hans) in only.items()]
    write_files({store: format_registry(securities)}, "the registry is unchanged")
    return ImportSummary(
        source=source or str(list_path),
        as_of=counts["as_of"],
        rows_read=counts["rows_read"],
        kept=dict(counts["kept"]),
        skipped=dict(counts["skipped"].most_common()),
        names_sources=tuple(str(p) for p in names_files),
        names_read=names_read,
        names_merged=merged,
        names_only=len(only),
        without_chinese=sum(1 for s in securities if not (s.name_zh_hans or s.name_zh_hant)),
        written=len(securities),
        store=store,
    )


def _security_from_list(f: dict) -> Security:
    return Security(
        ticker=ticker_from_code(f["code"]),
        code=f["code"],
        name_en=f["name_en"],
        name_zh_hans=f["name_zh_hans"],
        name_zh_hant=f["name_zh_hant"],
        suffix=suffix_of(f["name_en"]),
        board_lot=f["board_lot"],
        category=f["category"],
        stamp_duty=f["stamp_duty"],
    )


def _security_from_names(code: int, hant: str | None, hans: str | None) -> Security:
    """A code known only from a Chinese-names file: no English name, category or lot.

    Stamp duty is assumed payable (the costlier assumption) until the English
    list, which has the flag, includes the code.
    """
    return Security(
        ticker=ticker_from_code(code),
        code=code,
        name_en="",
        name_zh_hans=hans,
        name_zh_hant=hant,
        suffix=suffix_of(hant or hans or ""),
        board_lot=None,
        category=UNKNOWN_CATEGORY,
        stamp_duty=True,
    )


def download_hkex_list(url: str, dest: Path, timeout_s: float = 60.0) -> Path:
    """Download the HKEX workbook at ``url`` to ``dest``.

    Raises
    ------
    DownloadFailed
        Network error, HTTP error, a response that is not an .xlsx workbook,
        or one larger than ``MAX_DOWNLOAD_BYTES``.
    """
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadFailed(url, "only http:// and https:// addresses are supported")
    request = urllib.request.Request(url, headers={"User-Agent": "tracker (HKEX list import)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise DownloadFailed(url, f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadFailed(url, str(exc.reason)) from None
    except (TimeoutError, OSError) as exc:
        raise DownloadFailed(url, str(exc) or type(exc).__name__) from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise DownloadFailed(url, f"the response is larger than {MAX_DOWNLOAD_BYTES:,} bytes")
    if not data.startswith(b"PK\x03\x04"):
        raise DownloadFailed(url, "the response is not an Excel workbook (.xlsx)")
    try:
        dest.write_bytes(data)
    except OSError as exc:
        from tracker.storage import output_error

        raise output_error(dest, exc, "the registry is unchanged") from None
    return dest


def update_registry(
    home: Path,
    url: str = HKEX_LIST_URL,
    names_path: Path | Sequence[Path] | None = None,
    progress: Progress | None = None,
    timeout_s: float = 60.0,
) -> ImportSummary:
    """Download HKEX's published list and import it (see :func:`import_hkex`).

    The store changes only if both the download and the import succeed.

    Raises
    ------
    DownloadFailed, InputFileError, InvalidInput
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tracker-hkex-") as tmp:
        path = download_hkex_list(url, Path(tmp) / "ListOfSecurities.xlsx", timeout_s)
        return import_hkex(path, names_path, home, progress, source=url)
