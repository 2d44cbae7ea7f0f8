"""The HKEX ticker registry: company names and codes to Yahoo-style tickers.

Two sources, merged by stock code:

* a small curated file bundled with the package (``tracker/registry/data/registry.csv``):
  the companies in the reports we track and the large names brokers cover,
  with English, simplified and traditional Chinese names and the aliases
  reports use (``金蝶集团``, ``美团-W``...);
* optionally, HKEX's own "List of Securities" imported with
  :func:`tracker.registry.hkex.import_hkex` (or downloaded with
  :func:`tracker.registry.hkex.update_registry`) into ``<home>/registry.csv``,
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
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tracker.errors import AmbiguousTicker, InputFileError, InvalidInput, Problem, TickerNotFound
from tracker.fields import Label

#: File name of the imported registry under the tracker home.
STORE_NAME = "registry.csv"
#: The bundled, curated registry.
CURATED_PATH = Path(__file__).resolve().parent / "data" / "registry.csv"
#: Columns of both the curated file and the imported store, in order.
COLUMNS = (
    "code",
    "name_en",
    "name_zh_hans",
    "name_zh_hant",
    "aliases",
    "suffix",
    "board_lot",
    "category",
    "stamp_duty",
)
#: HKEX name markers: W = weighted voting rights, SW = secondary listing with
#: WVR, S = secondary listing, B = pre-revenue biotech (Main Board Rules ch. 18A).
SUFFIXES = ("W", "SW", "S", "B")

_DASHES = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"
)
_SUFFIX = re.compile(r"-(?:sw|w|s|b)$")
_COUNTER = re.compile(r"-(?:sw|w|s|b)?[ru]$")
_NAME_SUFFIX = re.compile(r"-(SW|W|S|B)[RU]?$")
_CODE = re.compile(r"^(?:hk[.:]?)?(\d{1,5})(?:\.?hk)?$")


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


def simplified(text: str) -> str:
    """``text`` with traditional Chinese characters turned into simplified (OpenCC t2s)."""
    return _t2s().convert(text)


def name_key(text: str) -> str:
    """The lookup key of a name: squashed, HKEX suffix stripped, simplified Chinese."""
    key = _SUFFIX.sub("", _squash(text))
    if not key.isascii():
        key = simplified(key)
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
    # Label: a control character in a name would reach the terminal (ESC, BEL, CR...).
    name_en: Label = Field(description="HKEX short English name; empty if only Chinese is known")
    name_zh_hans: Label | None = None
    name_zh_hant: Label | None = None
    aliases: tuple[Label, ...] = ()
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


def format_registry(securities: Iterable[Security]) -> str:
    """The text of a registry file: the header, then one row a security by code."""
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
