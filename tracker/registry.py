"""The HKEX ticker registry: company names and codes to Yahoo-style tickers.

Two sources, merged by stock code:

* a small curated file bundled with the package (``tracker/data/registry.csv``):
  the companies in the reports we track and the large names brokers cover,
  with English, simplified and traditional Chinese names and the aliases
  reports use (``金蝶集团``, ``美团-W``...);
* optionally, HKEX's own "List of Securities" imported with :func:`import_hkex`
  (or downloaded with :func:`update_registry`) into ``<home>/registry.csv``,
  which adds the whole exchange. Imported rows give the names, board lots and
  categories; the curated aliases stay.

Resolution (:meth:`Registry.resolve`) is exact, never a guess: a query is
normalised (NFKC, so full-width ``美團－Ｗ`` becomes ``美團-W``; dashes unified;
whitespace dropped; Latin case-folded; the HKEX suffixes ``-W`` (weighted
voting rights), ``-SW``, ``-S`` (secondary listing) and ``-B`` (pre-revenue
biotech) stripped; traditional Chinese turned into simplified with OpenCC),
then looked up among names, aliases and codes normalised the same way. RMB and
USD counters (``80700 TENCENT-R``, ``09010 ISHARES AXJ-U``) resolve only by
code, so ``TENCENT`` means 0700.HK.

Tickers follow Yahoo Finance: four digits below 10000 (``0700.HK``), five
from 10000 (``80700.HK``).
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tracker.errors import (
    AmbiguousTicker,
    InputFileError,
    InvalidInput,
    Problem,
    TickerNotFound,
    TrackerError,
)

#: HKEX's public address of the English "List of Securities" workbook.
HKEX_LIST_URL = (
    "https://www.hkex.com.hk/eng/services/trading/securities/securitieslists/ListOfSecurities.xlsx"
)
#: File name of the imported registry under the tracker home.
STORE_NAME = "registry.csv"
#: The bundled, curated registry.
CURATED_PATH = Path(__file__).resolve().parent / "data" / "registry.csv"
#: Columns of both the curated file and the imported store, in order.
COLUMNS = (
    "code", "name_en", "name_zh_hans", "name_zh_hant", "aliases",
    "suffix", "board_lot", "category", "stamp_duty",
)  # fmt: skip
#: HKEX name markers: W = weighted voting rights, SW = secondary listing with
#: WVR, S = secondary listing, B = pre-revenue biotech (Main Board Rules ch. 18A).
SUFFIXES = ("W", "SW", "S", "B")
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

_DASHES = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"
)
_SUFFIX = re.compile(r"-(?:sw|w|s|b)$")
_COUNTER = re.compile(r"-(?:sw|w|s|b)?[ru]$")
_NAME_SUFFIX = re.compile(r"-(SW|W|S|B)[RU]?$")
_CODE = re.compile(r"^(?:hk[.:]?)?(\d{1,5})(?:\.?hk)?$")


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


# --------------------------------------------------------------------------- codes and names


def ticker_from_code(code: int) -> str:
    """The Yahoo ticker of an HKEX stock code.

    Parameters
    ----------
    code : int
        HKEX stock code, 1 to 99999.

    Returns
    -------
    str
        Four digits below 10000 (``700 -> "0700.HK"``), five otherwise
        (``80700 -> "80700.HK"``).

    Raises
    ------
    ValueError
        ``code`` is outside 1..99999.
    """
    if not 1 <= code <= 99_999:
        raise ValueError(f"HKEX stock codes run from 1 to 99999, not {code}")
    return f"{code:04d}.HK" if code < 10_000 else f"{code:05d}.HK"


def _squash(text: str) -> str:
    """NFKC, unified dashes, no whitespace, Latin case-folded."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return "".join(text.split()).casefold()


def parse_code(text: str) -> int | None:
    """The stock code in a code-like query, or None for a name.

    Accepts ``700``, ``00700``, ``0700.HK``, ``HK.00700``, ``HK:700``,
    ``700 HK`` and ``0700 HK`` (full-width digits too).

    Returns
    -------
    int or None
        The code (1..99999); None when ``text`` is not a code (``"腾讯"``).
    """
    m = _CODE.match(_squash(text))
    if m is None:
        return None
    code = int(m.group(1))
    return code or None


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def name_key(text: str) -> str:
    """The lookup key of a name: squashed, HKEX suffix stripped, simplified Chinese."""
    key = _SUFFIX.sub("", _squash(text))
    if not key.isascii():
        key = _t2s().convert(key)
    return key


def suffix_of(name: str) -> str | None:
    """The HKEX marker at the end of a name (``"BABA-W" -> "W"``, ``"JD-SWR" -> "SW"``)."""
    m = _NAME_SUFFIX.search(unicodedata.normalize("NFKC", name).translate(_DASHES).strip())
    return m.group(1) if m else None


def _is_counter_name(name: str) -> bool:
    """An RMB or USD trading counter: ``TENCENT-R``, ``BABA-WR``, ``ISHARES AXJ-U``."""
    return bool(_COUNTER.search(_squash(name)))


# --------------------------------------------------------------------------- the record


class Security(BaseModel):
    """One HKEX security as the registry knows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticker: str = Field(description="Yahoo ticker, e.g. 0700.HK")
    code: int = Field(ge=1, le=99_999, description="HKEX stock code")
    name_en: str = Field(description="HKEX short English name; empty if only Chinese is known")
    name_zh_hans: str | None = None
    name_zh_hant: str | None = None
    aliases: tuple[str, ...] = ()
    suffix: Literal["W", "SW", "S", "B"] | None = None
    board_lot: int | None = Field(default=None, gt=0, description="shares per board lot")
    category: str = Field(min_length=1, description="Equity, ETF, REIT or Unknown")
    stamp_duty: bool = Field(description="transfers pay Hong Kong stamp duty (ETFs are exempt)")

    @model_validator(mode="after")
    def _consistent(self) -> Security:
        expected = ticker_from_code(self.code)
        if self.ticker != expected:
            raise ValueError(
                f"ticker: {self.ticker!r} does not match code {self.code}: use {expected}"
            )
        if not (self.name_en or self.name_zh_hans or self.name_zh_hant):
            raise ValueError("name_en: a security needs an English or a Chinese name")
        if any(not a.strip() for a in self.aliases):
            raise ValueError("aliases: blank alias")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the security is known by: English, Chinese, aliases."""
        return (
            tuple(n for n in (self.name_en, self.name_zh_hans, self.name_zh_hant) if n)
            + self.aliases
        )

    @property
    def is_counter(self) -> bool:
        """An RMB or USD counter (``-R`` / ``-U`` names): resolved only by code."""
        main = self.name_en or self.name_zh_hans or self.name_zh_hant or ""
        return _is_counter_name(main)

    @property
    def label(self) -> str:
        """``0700.HK 腾讯控股 (TENCENT)``, the form used in messages."""
        zh = self.name_zh_hans or self.name_zh_hant
        if zh and self.name_en:
            return f"{self.ticker} {zh} ({self.name_en})"
        return f"{self.ticker} {zh or self.name_en}"


# --------------------------------------------------------------------------- registry files


def _format_row(sec: Security) -> list[str]:
    return [
        f"{sec.code:05d}",
        sec.name_en,
        sec.name_zh_hans or "",
        sec.name_zh_hant or "",
        "|".join(sec.aliases),
        sec.suffix or "",
        "" if sec.board_lot is None else str(sec.board_lot),
        sec.category,
        "Y" if sec.stamp_duty else "N",
    ]


def _registry_text(securities: Iterable[Security]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_format_row(s) for s in sorted(securities, key=lambda s: s.code))
    return out.getvalue()


def _parse_row(row: dict[str, str]) -> dict[str, object]:
    """A registry-file row as Security fields (validation happens in the model)."""
    code_text = row["code"].strip()
    code: object = int(code_text) if code_text.isdigit() else code_text
    lot = row["board_lot"].strip()
    duty = row["stamp_duty"].strip().upper()
    return {
        "ticker": ticker_from_code(code) if isinstance(code, int) and 1 <= code <= 99_999 else "",
        "code": code,
        "name_en": row["name_en"].strip(),
        "name_zh_hans": row["name_zh_hans"].strip() or None,
        "name_zh_hant": row["name_zh_hant"].strip() or None,
        "aliases": tuple(a.strip() for a in row["aliases"].split("|") if a.strip()),
        "suffix": row["suffix"].strip() or None,
        "board_lot": None if not lot else int(lot) if lot.isdigit() else lot,
        "category": row["category"].strip(),
        "stamp_duty": {"Y": True, "N": False}.get(duty, duty),
    }


def read_registry_file(path: Path) -> tuple[Security, ...]:
    """Read and validate a registry file (the curated one or the imported store).

    Raises
    ------
    InvalidInput
        Unreadable file, missing columns, or rows that fail validation; every
        problem is listed as ``file:line: field: message``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(
            path, f"cannot read the registry: {exc}; run `tracker registry import` again"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InputFileError(
            path, f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", line=1
        )
    securities: list[Security] = []
    problems: list[Problem] = []
    seen: dict[int, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            problems.append(Problem(str(path), line, "", f"expected {len(COLUMNS)} columns"))
            continue
        try:
            sec = Security.model_validate(_parse_row(row))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = ".".join(str(p) for p in err["loc"]) or "row"
                msg = re.sub(r"^Value error, ", "", err["msg"])
                problems.append(Problem(str(path), line, field, msg))
            continue
        if sec.code in seen:
            problems.append(
                Problem(
                    str(path),
                    line,
                    "code",
                    f"duplicate code {sec.code:05d} (first on line {seen[sec.code]})",
                )
            )
            continue
        seen[sec.code] = line
        securities.append(sec)
    if problems:
        raise InvalidInput(problems)
    return tuple(securities)


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, stat: tuple[int, int, int]) -> tuple[Security, ...]:
    return read_registry_file(Path(path))


def _merge(curated: Iterable[Security], imported: Iterable[Security]) -> list[Security]:
    """Imported rows win on names, lot and category; curated names and aliases stay as aliases."""
    by_code = {s.code: s for s in imported}
    for cur in curated:
        imp = by_code.get(cur.code)
        if imp is None:
            by_code[cur.code] = cur
            continue
        zh_hans = imp.name_zh_hans or cur.name_zh_hans
        zh_hant = imp.name_zh_hant or cur.name_zh_hant
        known = {imp.name_en, zh_hans, zh_hant}
        extra = [n for n in cur.names if n not in known]
        aliases = tuple(dict.fromkeys([*imp.aliases, *extra]))
        by_code[cur.code] = imp.model_copy(
            update={"name_zh_hans": zh_hans, "name_zh_hant": zh_hant, "aliases": aliases}
        )
    return list(by_code.values())


# --------------------------------------------------------------------------- the registry


class Registry:
    """Securities by code, with exact name lookup. Build with :meth:`load` or :meth:`curated`."""

    def __init__(self, securities: Iterable[Security]):
        self._by_code: dict[int, Security] = {}
        for sec in securities:
            if sec.code in self._by_code:
                raise ValueError(f"duplicate code {sec.code} in registry")
            self._by_code[sec.code] = sec
        self._index: dict[str, tuple[int, ...]] | None = None
        self._all_keys: list[tuple[str, int]] | None = None

    @classmethod
    def curated(cls) -> Registry:
        """The bundled, curated registry only."""
        return _registry_for(_stat_key(CURATED_PATH), None, None)

    @classmethod
    def load(cls, home: Path | None = None) -> Registry:
        """The curated registry plus the store imported under ``home`` (if any).

        Parameters
        ----------
        home : Path, optional
            Tracker home; ``Settings().home`` when omitted.

        Raises
        ------
        InvalidInput
            The imported store is damaged (import the HKEX list again).
        """
        if home is None:
            from tracker.config import Settings

            home = Settings().home
        store = Path(home) / STORE_NAME
        stat = _stat_key(store)
        return _registry_for(_stat_key(CURATED_PATH), str(store) if stat else None, stat)

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Security]:
        return iter(sorted(self._by_code.values(), key=lambda s: s.code))

    def knows(self, ticker: str) -> bool:
        """Whether ``ticker`` (any code form: 0700.HK, 700, HK.00700) is in the registry."""
        code = parse_code(ticker)
        return code is not None and code in self._by_code

    def get(self, ticker: str) -> Security:
        """The security of a ticker or code.

        Raises
        ------
        TickerNotFound
            Not a code, or a code the registry does not know.
        """
        code = parse_code(ticker)
        if code is None or code not in self._by_code:
            raise TickerNotFound(ticker, self.closest(ticker))
        return self._by_code[code]

    def board_lot(self, ticker: str) -> int | None:
        """Shares per board lot (None when unknown). Raises TickerNotFound."""
        return self.get(ticker).board_lot

    def resolve(self, query: str) -> str:
        """The ticker of a company name, alias or code.

        Accepts simplified or traditional Chinese, English in any case, with or
        without the HKEX suffix (``美团-W``, ``美团- W``), and every code form
        of :func:`parse_code`.

        Returns
        -------
        str
            The Yahoo ticker, e.g. ``"0700.HK"``.

        Raises
        ------
        TickerNotFound
            No exact match (or a code not in the registry); lists the closest names.
        AmbiguousTicker
            The name matches several securities; lists them all.
        """
        code = parse_code(query)
        if code is not None:
            if code in self._by_code:
                return ticker_from_code(code)
            raise TickerNotFound(query, self.closest(query))
        codes = self._lookup(name_key(query)) if query.strip() else ()
        if len(codes) == 1:
            return ticker_from_code(codes[0])
        if codes:
            raise AmbiguousTicker(query, [self._by_code[c].label for c in codes])
        raise TickerNotFound(query, self.closest(query))

    def closest(self, query: str, n: int = 5) -> list[str]:
        """Up to ``n`` candidates for a query, formatted ``0700.HK 腾讯控股 (TENCENT)``.

        For a code: the code itself if known, else codes one digit off (a
        changed digit or two neighbours swapped). For a name: exact matches
        (counters included), then names starting with the query, names
        containing it or contained in it, then difflib's close matches.
        """
        code = parse_code(query)
        if code is not None:
            codes = [code] if code in self._by_code else _near_codes(code, self._by_code)
        elif query.strip():
            codes = self._near_names(name_key(query), n)
        else:
            codes = []
        return [self._by_code[c].label for c in codes[:n]]

    # -- lookup internals

    def _lookup(self, key: str) -> tuple[int, ...]:
        if self._index is None:
            self._build_index()
        assert self._index is not None
        return self._index.get(key, ())

    def _build_index(self) -> None:
        index: dict[str, set[int]] = {}
        all_keys: set[tuple[str, int]] = set()
        for sec in self._by_code.values():
            counter = sec.is_counter
            for name in sec.names:
                key = name_key(name)
                if not key:
                    continue
                all_keys.add((key, sec.code))
                if not counter:
                    index.setdefault(key, set()).add(sec.code)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}
        self._all_keys = sorted(all_keys)

    def _near_names(self, key: str, n: int) -> list[int]:
        import difflib

        if self._all_keys is None:
            self._build_index()
        assert self._all_keys is not None
        exact = [c for k, c in self._all_keys if k == key]
        prefix = sorted(
            ((len(k) - len(key), c) for k, c in self._all_keys if k != key and k.startswith(key)),
        )
        inside = sorted(
            (abs(len(k) - len(key)), c)
            for k, c in self._all_keys
            if len(k) >= 2
            and len(key) >= 2
            and k != key
            and not k.startswith(key)
            and (key in k or k in key)
        )
        keys = sorted({k for k, _ in self._all_keys})
        # A one-character slip in a two-character Chinese name scores 0.5.
        close = difflib.get_close_matches(key, keys, n=n, cutoff=0.5 if len(key) <= 3 else 0.6)
        by_key: dict[str, list[int]] = {}
        for k, c in self._all_keys:
            by_key.setdefault(k, []).append(c)
        fuzzy = [c for k in close for c in by_key[k]]
        ordered = [*exact, *(c for _, c in prefix), *(c for _, c in inside), *fuzzy]
        return list(dict.fromkeys(ordered))


def _near_codes(code: int, known: dict[int, Security]) -> list[int]:
    """Known codes one typo away: one digit changed, or two neighbouring digits swapped."""
    text = f"{code:05d}"
    near: set[int] = set()
    for i in range(5):
        for d in "0123456789":
            near.add(int(text[:i] + d + text[i + 1 :]))
        if i < 4:
            near.add(int(text[:i] + text[i + 1] + text[i] + text[i + 2 :]))
    near.discard(code)
    return sorted(c for c in near if c in known)


@functools.lru_cache(maxsize=8)
def _registry_for(
    curated_stat: tuple[int, int, int] | None,
    store: str | None,
    store_stat: tuple[int, int, int] | None,
) -> Registry:
    if curated_stat is None:
        raise InputFileError(CURATED_PATH, "the bundled registry is missing: reinstall tracker")
    curated = _read_cached(str(CURATED_PATH), curated_stat)
    if store is None or store_stat is None:
        return Registry(curated)
    return Registry(_merge(curated, _read_cached(store, store_stat)))


# --------------------------------------------------------------------------- importing HKEX's list


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
    "stockcode": "code", "code": "code",
    "nameofsecurities": "name_en", "nameen": "name_en",
    "category": "category",
    "subcategory": "sub_category",
    "boardlot": "board_lot",
    "subjecttostampduty": "stamp_duty", "stampduty": "stamp_duty",
    "namezhhant": "name_zh_hant", "namezhhans": "name_zh_hans",
}  # fmt: skip
_LIST_REQUIRED = ("code", "name_en", "category", "board_lot")
_LIST_LAYOUT = (
    "HKEX's List of Securities (Stock Code, Name of Securities, Category, Board Lot, ...)"
)
_FIX = "fix the row or download the list again"
_NAMES_HEADERS = {
    "code": "code", "stockcode": "code", "股份代號": "code", "股份代号": "code",
    "namezhhant": "name_zh_hant", "zhhant": "name_zh_hant", "nametc": "name_zh_hant",
    "traditional": "name_zh_hant",
    "namezhhans": "name_zh_hans", "zhhans": "name_zh_hans", "namesc": "name_zh_hans",
    "simplified": "name_zh_hans",
}  # fmt: skip


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
        "name_en": name,
        "board_lot": int(lot),
        "category": HKEX_CATEGORIES[category],
        "stamp_duty": duty,
        "name_zh_hant": table.get(cells, "name_zh_hant") or None,
        "name_zh_hans": table.get(cells, "name_zh_hans") or None,
    }


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


def _read_names(path: Path) -> tuple[dict[int, tuple[str | None, str | None]], int]:
    """Chinese names by code, as (traditional, simplified); and the rows read."""
    header, rows, _ = _read_csv_rows(path)
    table = _Table(path, header, _NAMES_HEADERS)
    layout = "a header with code and name_zh_hant and/or name_zh_hans, e.g. code,name_zh_hant,name_zh_hans"
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
        hant = table.get(cells, "name_zh_hant") or None
        hans = table.get(cells, "name_zh_hans") or None
        if hant and not hans:
            hans = _t2s().convert(hant)
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
    """
    from tracker.yamlio import write_atomic

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
    store = Path(home) / STORE_NAME
    write_atomic(store, _registry_text(securities))
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
    dest.write_bytes(data)
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
