"""Loading, validating, listing and appending the calls kept in ``recs/*.yaml``.

One YAML file per report (``YYYY-MM-DD-broker-slug.yaml``); rating scales in
``recs/scales/*.yaml``. Loading validates everything and reports *all*
problems of all files at once as ``file:line: field: message``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tracker.errors import InputFileError, InvalidInput, Problem
from tracker.recs.models import RatingScale, Report
from tracker.recs.yamlio import load_validated, load_yaml, problems_from, read_text


def _today() -> date:
    from tracker import sessions  # pandas: imported only when a file is loaded

    return sessions.today_hk()


if TYPE_CHECKING:
    import pandas as pd

    from tracker.registry.resolve import Registry

#: Columns of the calls frame, one row per recommendation.
CALL_COLUMNS = [
    "call_id",
    "report",
    "file",
    "broker",
    "broker_local",
    "analysts",
    "published",
    "seen",
    "start_date",
    "scale",
    "name",
    "ticker",
    "rating",
    "target_price",
    "target_currency",
    "previous_rating_stated",
    "previous_target_stated",
    "target_horizon_months",
    "horizon_min_months",
    "horizon_max_months",
    "note",
]


@dataclass(frozen=True)
class LoadedReport:
    path: Path
    report: Report

    @property
    def id(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class CallBook:
    """Every report and scale, validated together."""

    reports: tuple[LoadedReport, ...]
    scales: dict[str, RatingScale]

    def calls(self) -> pd.DataFrame:
        return calls_frame(self.reports, self.scales)

    def calls_known_by(self, as_of: date | None) -> pd.DataFrame:
        """The calls frame cut at ``as_of``: a call whose scoring starts later is not known.

        This is the one place the point-in-time cut of the calls is made.
        """
        import pandas as pd

        calls = self.calls()
        if as_of is None:
            return calls
        return calls.loc[calls["start_date"] <= pd.Timestamp(as_of)].reset_index(drop=True)

    def call_records(self) -> list[dict]:
        return call_records(self.reports, self.scales)


def _validate(model: type, path: Path, context: dict[str, Any]) -> tuple[Any, list[Problem]]:
    def validate(data: dict) -> Any:
        return model.model_validate(data, context=_context(model, data, context))

    try:
        return load_validated(path, validate), []
    except InvalidInput as exc:
        return None, list(exc.problems)


def _context(model: type, data: dict, context: dict[str, Any]) -> dict[str, Any]:
    """Validation context of a file: ``context`` plus, for a report, its rating scale."""
    ctx = dict(context)
    if model is Report:
        scale_id = data.get("scale")  # a list or mapping here is reported by validation
        scales = context.get("scales") or {}
        ctx["scale"] = scales.get(scale_id) if isinstance(scale_id, str) else None
    return ctx


def load_scales(scales_dir: Path) -> dict[str, RatingScale]:
    """Every ``*.yaml`` in ``scales_dir`` as a validated :class:`RatingScale`.

    Raises
    ------
    InvalidInput
        Listing every problem in every file; also a scale whose ``id`` does not
        match its file name, or two files with one id.
    """
    if not scales_dir.is_dir():
        raise InputFileError(scales_dir, "no such folder of rating scales")
    scales: dict[str, RatingScale] = {}
    problems: list[Problem] = []
    for path in sorted(scales_dir.glob("*.yaml")):
        scale, found = _validate(RatingScale, path, {})
        problems += found
        if scale is None:
            continue
        if scale.id != path.stem:
            problems.append(
                Problem(
                    str(path), 1, "id", f"id {scale.id!r} must match the file name {path.stem!r}"
                )
            )
            continue
        scales[scale.id] = scale
    if problems:
        raise InvalidInput(problems)
    return scales


def report_paths(paths: Sequence[Path]) -> list[Path]:
    """The report files named by ``paths`` (folders expand to their ``*.yaml``, scales excluded)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.glob("*.yaml") if q.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise InputFileError(p, "no such file or folder")
    return out


def load_report(
    path: Path,
    scales: dict[str, RatingScale],
    registry: Registry | None = None,
    today: date | None = None,
) -> LoadedReport:
    """Load and validate one report file.

    Raises
    ------
    InvalidInput
        With every problem in the file.
    """
    context = {"scales": scales, "registry": registry, "today": today or _today()}
    report, problems = _validate(Report, path, context)
    if problems:
        raise InvalidInput(problems)
    return LoadedReport(path, report)


def load_book(
    recs_dir: Path,
    paths: Sequence[Path] | None = None,
    registry: Registry | None = None,
    today: date | None = None,
) -> CallBook:
    """Load the scales of ``recs_dir`` and every report in ``paths`` (default: ``recs_dir``).

    All files are validated before anything is raised, so one run reports every
    problem.
    """
    scales = load_scales(recs_dir / "scales")
    files = report_paths(paths or [recs_dir])
    reports: list[LoadedReport] = []
    problems: list[Problem] = []
    for path in files:
        try:
            reports.append(load_report(path, scales, registry, today))
        except InvalidInput as exc:
            problems += exc.problems
    problems += duplicate_reports(reports)
    if problems:
        raise InvalidInput(problems)
    return CallBook(tuple(reports), scales)


def duplicate_reports(reports: Sequence[LoadedReport]) -> list[Problem]:
    """One problem per file that repeats an earlier file's report.

    Two files are one report when they name the same broker (English or local
    name) and publication date, and either the same title (case and spacing
    aside; names are already normalised) or the same calls (tickers and
    ratings): loading both would count each call twice.
    """
    first: dict[tuple, Path] = {}
    problems = []
    for loaded in reports:
        rep = loaded.report
        brokers = {rep.broker.casefold()}
        if rep.broker_local:
            brokers.add(rep.broker_local.casefold())
        title = " ".join(rep.title.split()).casefold()
        calls = tuple(sorted((r.ticker, r.rating) for r in rep.recommendations))
        keys = [(b, rep.published, "title", title) for b in brokers]
        if calls:
            keys += [(b, rep.published, "calls", calls) for b in brokers]
        earlier = next((first[k] for k in keys if k in first), None)
        if earlier is not None:
            problems.append(
                Problem(
                    str(loaded.path),
                    None,
                    "",
                    f"the same report as {earlier} ({rep.broker}, published {rep.published}):"
                    " its calls would count twice; keep one of the two files",
                )
            )
            continue
        for k in keys:
            first[k] = loaded.path
    return problems


def call_records(reports: Iterable[LoadedReport], scales: dict[str, RatingScale]) -> list[dict]:
    """One plain dict per recommendation (dates as ``datetime.date``), ordered by publication.

    The report's fields are repeated on each call, with the effective horizon
    (the call's override, else its scale's horizon for the rating).
    """
    rows = []
    for loaded in reports:
        rep = loaded.report
        scale = scales[rep.scale]
        hk_lines = {r.ticker for r in rep.recommendations if r.listing == "HK"}
        for i, rec in enumerate(rep.recommendations):
            if rec.listing == "ADR" and rec.ticker in hk_lines:
                continue  # one rating of one company: its HK line is the call scored
            horizon = rec.horizon_months or scale.horizon(rec.rating)
            rows.append(
                {
                    "call_id": f"{loaded.id}#{i + 1}",
                    "report": loaded.id,
                    "file": str(loaded.path),
                    "broker": rep.broker,
                    "broker_local": rep.broker_local,
                    "analysts": [a.name for a in rep.analysts],
                    "published": rep.published,
                    "seen": rep.seen,
                    "start_date": rep.start_date,
                    "scale": rep.scale,
                    "name": rec.name,
                    "ticker": rec.ticker,
                    "rating": rec.rating,
                    "target_price": rec.target.value if rec.target else None,
                    "target_currency": rec.target.currency if rec.target else None,
                    "previous_rating_stated": rec.previous_rating,
                    "previous_target_stated": rec.previous_target,
                    "target_horizon_months": scale.target_horizon_months,
                    "horizon_min_months": horizon.min_months,
                    "horizon_max_months": horizon.max_months,
                    "note": rec.note,
                }
            )
    # Stable: calls of one report keep their order in the file.
    return sorted(rows, key=lambda r: (r["published"], r["report"]))


def calls_frame(reports: Iterable[LoadedReport], scales: dict[str, RatingScale]) -> pd.DataFrame:
    """:func:`call_records` as a frame, dates as naive ``Timestamp`` (``seen``: NaT if none)."""
    import pandas as pd

    frame = pd.DataFrame(call_records(reports, scales), columns=CALL_COLUMNS)
    for col in ("published", "seen", "start_date"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def call_matcher(
    brokers: Sequence[str] = (),
    analysts: Sequence[str] = (),
    ratings: Sequence[str] = (),
    tickers: Sequence[str] = (),
    reports: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate on one call record: true when it matches every given filter.

    Each list matches any of its values; broker and analyst match
    case-insensitively, against the English or the local name, after
    :func:`tracker.fields.normalise_name` (a zero-width space typed in a filter
    matches as if absent).
    """
    from tracker.fields import normalise_name

    # The same rule as the names in the files: NFKC, no invisible characters.
    want_brokers = {normalise_name(b).casefold() for b in brokers}
    want_analysts = {normalise_name(a).casefold() for a in analysts}

    def day(value: Any) -> date:
        return value.date() if hasattr(value, "date") and callable(value.date) else value

    def match(call: Mapping[str, Any]) -> bool:
        names = {call["broker"].casefold(), (call.get("broker_local") or "").casefold()}
        return (
            (not want_brokers or bool(names & want_brokers))
            and (not want_analysts or any(n.casefold() in want_analysts for n in call["analysts"]))
            and (not ratings or call["rating"] in ratings)
            and (not tickers or call["ticker"] in tickers)
            and (not reports or call["report"] in reports)
            and (since is None or day(call["published"]) >= since)
            and (until is None or day(call["published"]) <= until)
        )

    return match


def filter_calls(calls: pd.DataFrame, **filters: Any) -> pd.DataFrame:
    """The rows of a calls frame matching :func:`call_matcher` ``(**filters)``."""
    import pandas as pd

    match = call_matcher(**filters)
    # A boolean Series: an empty list would select no *columns* from an empty frame.
    keep = pd.Series(
        [match(row) for row in calls.to_dict(orient="records")], index=calls.index, dtype=bool
    )
    return calls[keep].reset_index(drop=True)


def append_recommendation(
    path: Path,
    scales: dict[str, RatingScale],
    registry: Registry,
    name: str,
    rating: str,
    target: float | None = None,
    currency: str = "HKD",
    note: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Resolve ``name`` and append a recommendation to the report file at ``path``.

    The file keeps its comments, key order, flow style, indentation, line
    ends, byte-order mark and permission bits (:mod:`tracker.recs.edit`); it is
    validated with the new call before it is written (atomically), so a bad
    call never reaches disk. Writers of one file take turns: the file is read
    under a lock, so concurrent appends all land.

    Returns
    -------
    dict
        The recommendation as written.

    Raises
    ------
    InvalidInput
        The file is invalid, or would be with the new call (whose problems
        carry no line number: it is not in the file).
    FileBusy
        Another writer kept the file locked too long.
    """
    from tracker.recs.edit import dump, exclusive, form_of, write_in_form

    ticker = registry.resolve(name)
    with exclusive(path):
        loaded = load_report(path, scales, registry, today)  # valid to begin with
        original = read_text(path)
        data = load_yaml(path, original)
        form = form_of(path, original, data)
        # Store the canonical rating; an unknown word is kept so validation names it.
        canonical = scales[loaded.report.scale].canonical_rating(rating) or rating
        entry: dict[str, Any] = {"name": name, "ticker": ticker, "rating": canonical}
        if target is not None:
            entry["target"] = {"value": target, "currency": currency}
        if note:
            entry["note"] = note
        if "recommendations" not in data or data["recommendations"] is None:
            data["recommendations"] = []
        data["recommendations"].append(entry)
        new_index = len(data["recommendations"]) - 1
        text = dump(data, form.layout)
        candidate = load_yaml(path, text)
        context = {"scales": scales, "registry": registry, "today": today or _today()}
        context["scale"] = scales.get(candidate.get("scale"))
        try:
            Report.model_validate(candidate, context=context)
        except ValidationError as exc:
            found = problems_from(exc, path, candidate)
            new = f"recommendations.{new_index}"
            # The new call's lines exist only in the candidate text: give no line.
            raise InvalidInput(
                [
                    Problem(p.file, None, p.field, p.message)
                    if p.field == new or p.field.startswith(new + ".")
                    else p
                    for p in found
                ]
            ) from None
        write_in_form(path, text, form)
    return entry
