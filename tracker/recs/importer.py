"""Calls from a spreadsheet (CSV or XLSX): one row per call, one YAML file per broker and date.

Columns are recognised by their header, English or Chinese (:data:`HEADERS`), or
mapped with ``COLUMN=field``. Every row is checked, and every bad row reported as
``FILE:ROW: column: message``; the files are assembled per broker and date and
validated as any call file (:class:`~tracker.recs.models.Report`). Nothing is
written while a row is bad, unless bad rows are skipped. A file that already
holds exactly what would be written is left alone, so importing the same sheet
again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tracker.errors import InputFileError, Problem, TrackerError
from tracker.recs.models import Report

if TYPE_CHECKING:
    from tracker.recs.models import RatingScale
    from tracker.registry.resolve import Registry

FIELDS = (
    "date",
    "broker",
    "analyst",
    "company",
    "code",
    "rating",
    "target",
    "currency",
    "previous_rating",
    "previous_target",
    "note",
    "title",
    "source",
)
#: Header words per field (compared case-folded, without spaces, after t2s).
HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("date", "published", "publicationdate", "日期", "发布日期", "报告日期", "更新日期"),
    "broker": ("broker", "house", "券商", "证券商", "机构", "经纪", "大行"),
    "analyst": ("analyst", "analysts", "分析师"),
    "company": ("company", "name", "stock", "公司", "股份", "股票", "名称", "公司名称"),
    "code": ("code", "ticker", "symbol", "代码", "股票代码", "编号"),
    "rating": ("rating", "评级", "投资评级"),
    "target": ("target", "targetprice", "tp", "pricetarget", "目标价", "目标价格"),
    "currency": ("currency", "货币", "币种"),
    "previous_rating": ("previousrating", "oldrating", "前评级", "原评级", "之前评级"),
    "previous_target": ("previoustarget", "oldtarget", "原目标价", "前目标价", "之前目标价"),
    "note": ("note", "notes", "comment", "thesis", "备注", "观点"),
    "title": ("title", "标题", "报告标题"),
    "source": ("source", "url", "link", "来源", "出处"),
}
_CURRENCIES = {
    "hkd": "HKD",
    "hk$": "HKD",
    "港元": "HKD",
    "港币": "HKD",
    "usd": "USD",
    "us$": "USD",
    "美元": "USD",
    "cny": "CNY",
    "rmb": "CNY",
    "人民币": "CNY",
}
MAX_SHEET_BYTES = 20 * 1024 * 1024


@dataclass
class PlannedFile:
    path: Path
    text: str
    status: str  # "new", "unchanged", "replaced"
    calls: int


@dataclass
class ImportPlan:
    files: list[PlannedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    skipped: int = 0


def _key(text: str) -> str:
    from tracker.extract.text import to_simplified

    return re.sub(r"[\s_\-().（）*:：]", "", to_simplified(str(text))).casefold()


def read_sheet(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the data rows (with their 1-based row numbers) of a CSV or XLSX file.

    Raises
    ------
    InputFileError
        Unreadable, empty, too large, or not a CSV/XLSX file.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise InputFileError(path, "the file is empty")
    if size > MAX_SHEET_BYTES:
        raise InputFileError(path, f"file is {size:,} bytes; the limit is {MAX_SHEET_BYTES:,}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif path.suffix.lower() in (".csv", ".tsv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise InputFileError(path, "not a spreadsheet: give a .csv or .xlsx file")
    numbered = [(i, r) for i, r in enumerate(rows, start=1) if any(_blank(v) is False for v in r)]
    if not numbered:
        raise InputFileError(path, "the sheet has no rows")
    (_, header), *data = numbered
    return [str(h or "").strip() for h in header], data


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _csv_rows(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "not UTF-8: save the sheet as UTF-8 CSV", line=line) from None
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    return [list(r) for r in csv.reader(io.StringIO(text), dialect=dialect)]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise InputFileError(path, f"not a readable XLSX file: {exc}") from None
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def column_fields(header: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """Column index -> field, from ``mapping`` (header -> field) first, then :data:`HEADERS`.

    Raises
    ------
    TrackerError
        A mapped field that does not exist, or a mapped column missing from the header.
    """
    words = {w: f for f, ws in HEADERS.items() for w in ws}
    out: dict[int, str] = {}
    wanted = {_key(k): v for k, v in mapping.items()}
    for col, target in mapping.items():
        if target not in FIELDS:
            raise TrackerError(
                f"--map {col}={target}: unknown field; use one of {', '.join(FIELDS)}"
            )
        if _key(col) not in {_key(h) for h in header}:
            raise TrackerError(f"--map {col}={target}: no column {col!r} in the sheet")
    for i, h in enumerate(header):
        k = _key(h)
        f = wanted.get(k) or words.get(k)
        if f is not None and f not in out.values():
            out[i] = f
    return out


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    from tracker.extract.dates import numeric_date

    text = str(v).strip()
    got = numeric_date(text)
    if got is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")
    return got


def _number(v: Any) -> float:
    if isinstance(v, int | float):
        value = float(v)
    else:
        text = re.sub(r"(?i)hk\$|us\$|港元|港币|美元|元|,", "", str(v)).strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{str(v).strip()!r} is not a number") from None
    if not 0 < value < 1e7:
        raise ValueError(f"{value:g} is not a price")
    return value


def _currency(v: Any) -> str:
    got = _CURRENCIES.get(str(v).strip().casefold())
    if got is None:
        raise ValueError(f"{str(v).strip()!r}: use HKD, USD or CNY")
    return got


def plan_import(
    path: Path,
    recs_dir: Path,
    registry: Registry,
    scales: Mapping[str, RatingScale],
    *,
    today: date,
    mapping: Mapping[str, str] | None = None,
    skip_bad: bool = False,
) -> ImportPlan:
    """What importing the sheet at ``path`` would write into ``recs_dir`` (nothing is written).

    Parameters
    ----------
    path : Path
        The sheet, CSV (UTF-8) or XLSX (first worksheet; the first non-empty row is the header).
    recs_dir : Path
        Where the call files go (``recs/``).
    registry : Registry
        Resolves companies and codes.
    scales : mapping
        The kept scales; a broker with its own scale (by id) uses it, else ``default-hk``.
    today : date
        A date after it is refused.
    mapping : mapping, optional
        Header -> field for columns whose header is not recognised.
    skip_bad : bool
        Leave bad rows out (each still reported) instead of refusing the import.
    """
    from tracker.extract.meta import broker_named
    from tracker.extract.text import to_simplified as simple
    from tracker.extract.vocab import rating_of

    header, rows = read_sheet(path)
    cols = column_fields(header, mapping or {})
    plan = ImportPlan(rows=len(rows))
    have = set(cols.values())
    missing = [f for f in ("date", "broker", "rating") if f not in have]
    if "company" not in have and "code" not in have:
        missing.append("company or code")
    if missing:
        raise InputFileError(
            path,
            f"no column for {', '.join(missing)} (headers: {', '.join(header)}); "
            "name them with --map COLUMN=field",
            line=rows[0][0] - 1 if rows else 1,
        )
    name_of = {f: header[i] for i, f in cols.items()}
    groups: dict[tuple[str, date], list[tuple[int, dict[str, Any]]]] = {}
    for rownum, values in rows:
        cells = {f: values[i] for i, f in cols.items() if i < len(values) and not _blank(values[i])}
        problems: list[Problem] = []

        def bad(f: str, message: str, rownum: int = rownum, problems: list = problems) -> None:
            problems.append(Problem(str(path), rownum, name_of.get(f, f), message))

        entry: dict[str, Any] = {}
        for f in ("date", "broker", "rating"):
            if f not in cells:
                bad(f, "empty")
        try:
            if "date" in cells:
                entry["date"] = _date(cells["date"])
                if entry["date"] > today:
                    bad("date", f"{entry['date']} is in the future (today is {today})")
        except ValueError as exc:
            bad("date", str(exc))
        if "broker" in cells:
            known = broker_named(str(cells["broker"]))
            entry["broker"] = known.english if known else str(cells["broker"]).strip()
            entry["broker_local"] = known.local if known else None
            entry["broker_id"] = known.id if known else _slug(entry["broker"])
        query = cells.get("code") or cells.get("company")
        if query is None:
            bad("company", "empty: give the company or its code")
        else:
            try:
                entry["ticker"] = registry.resolve(str(query).strip())
            except TrackerError as exc:
                bad("code" if "code" in cells else "company", str(exc).splitlines()[0])
            from tracker.registry.resolve import parse_code

            sec = registry.get(entry["ticker"]) if "ticker" in entry else None
            company = cells.get("company")
            if company is None or parse_code(str(company)) is not None:
                company = (sec.name_zh_hans or sec.name_en) if sec else query
            entry["name"] = str(company).strip()
        for f in ("rating", "previous_rating"):
            if f in cells:
                word = str(cells[f]).strip()
                canonical = word.lower() if word.lower() in _RATINGS else rating_of(simple(word))
                if canonical is None:
                    bad(f, f"unknown rating {word!r}")
                else:
                    entry[f] = canonical
        for f in ("target", "previous_target"):
            if f in cells:
                try:
                    entry[f] = _number(cells[f])
                except ValueError as exc:
                    bad(f, str(exc))
        if "currency" in cells:
            try:
                entry["currency"] = _currency(cells["currency"])
            except ValueError as exc:
                bad("currency", str(exc))
        for f in ("analyst", "note", "title", "source"):
            if f in cells:
                entry[f] = str(cells[f]).strip()
        plan.problems += problems
        if problems:
            plan.skipped += 1
            continue
        groups.setdefault((entry["broker_id"], entry["date"]), []).append((rownum, entry))
    for (bid, day), members in groups.items():
        _plan_file(plan, path, recs_dir, registry, scales, today, bid, day, members)
    if plan.problems and not skip_bad:
        plan.files = []
    return plan


_RATINGS = ("buy", "overweight", "neutral", "underweight", "sell")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "broker"


def _plan_file(
    plan: ImportPlan,
    path: Path,
    recs_dir: Path,
    registry: Registry,
    scales: Mapping[str, RatingScale],
    today: date,
    bid: str,
    day: date,
    members: list[tuple[int, dict[str, Any]]],
) -> None:
    from tracker.recs.yamlio import dump_yaml

    first = members[0][1]
    analysts: list[str] = []
    for _, e in members:
        for a in re.split(r"[,，、;/]", e.get("analyst", "")):
            if a.strip() and a.strip() not in analysts:
                analysts.append(a.strip())
    recs = []
    for _, e in members:
        rec: dict[str, Any] = {"name": e["name"], "ticker": e["ticker"], "rating": e["rating"]}
        if "target" in e:
            rec["target"] = {"value": _plain(e["target"]), "currency": e.get("currency", "HKD")}
        if "previous_rating" in e:
            rec["previous_rating"] = e["previous_rating"]
            rec["action"] = _action(e["previous_rating"], e["rating"])
        if "previous_target" in e:
            rec["previous_target"] = _plain(e["previous_target"])
        if "note" in e:
            rec["note"] = e["note"]
        recs.append(rec)
    chinese = any(not str(r["name"]).isascii() for r in recs)
    data: dict[str, Any] = {
        "broker": first["broker"],
        **({"broker_local": first["broker_local"]} if first.get("broker_local") else {}),
        "title": first.get("title") or f"{first['broker']} calls of {day.isoformat()}",
        "published": day,
        **({"analysts": [{"name": a} for a in analysts]} if analysts else {}),
        "source": first.get("source") or path.name,
        "language": "zh-Hans" if chinese else "en",
        "scale": bid if bid in scales else "default-hk",
        "recommendations": recs,
    }
    context = {"scales": dict(scales), "registry": registry, "today": today}
    try:
        Report.model_validate(data, context=context)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            row = members[loc[1]][0] if len(loc) > 1 and loc[0] == "recommendations" else None
            column = str(loc[-1]) if loc else ""
            rows = [row] if row is not None else [m[0] for m in members]
            for r in rows:
                plan.problems.append(Problem(str(path), r, column, err["msg"]))
        plan.skipped += len(members)
        return
    target = recs_dir / f"{day.isoformat()}-{bid}-import.yaml"
    text = (
        f"# Imported by `tracker recs import` from {path.name}, rows "
        f"{', '.join(str(m[0]) for m in members)}.\n" + dump_yaml(data)
    )
    if target.exists():
        status = "unchanged" if target.read_text(encoding="utf-8") == text else "replaced"
    else:
        status = "new"
    plan.files.append(PlannedFile(target, text, status, len(recs)))


def _plain(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def _action(previous: str, rating: str) -> str:
    order = {r: -i for i, r in enumerate(_RATINGS)}
    a, b = order.get(previous), order.get(rating)
    if a is None or b is None or a == b:
        return "maintain"
    return "upgrade" if b > a else "downgrade"


def write_plan(plan: ImportPlan, recs_dir: Path) -> list[PlannedFile]:
    """Write the plan's new and changed files under a lock; return those written.

    All the files change or none does (:func:`tracker.storage.write_files`).

    Raises
    ------
    NotWritable, DiskFull
        The calls folder cannot be written; every file is as it was.
    """
    from filelock import FileLock

    from tracker.storage import output_dir, output_error, write_files

    output_dir(recs_dir, "calls folder")
    written = [f for f in plan.files if f.status != "unchanged"]
    lock = FileLock(str(recs_dir / ".import.lock"), timeout=30)
    try:
        lock.acquire()
    except OSError as exc:
        raise output_error(recs_dir / ".import.lock", exc, "no call file was changed") from None
    try:
        write_files({f.path: f.text for f in written}, "no call file was changed")
    finally:
        lock.release()
    return written


__all__ = [
    "FIELDS",
    "HEADERS",
    "ImportPlan",
    "PlannedFile",
    "column_fields",
    "plan_import",
    "read_sheet",
    "write_plan",
]
