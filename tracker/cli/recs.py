"""``tracker recs``: validate, list and add calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tracker.config import Settings

from tracker.cli._options import load_settings, parse_date
from tracker.cli.output import Col, OutputFormat, emit_rows

app = typer.Typer(help="The calls kept as YAML in recs/.", no_args_is_help=True)


#: JSON keys of `recs list --format json`, in order (a stable, documented schema).
LIST_FIELDS = [
    "report",
    "broker",
    "analysts",
    "published",
    "seen",
    "name",
    "ticker",
    "rating",
    "target_price",
    "target_currency",
    "scale",
    "note",
]

#: Columns of `recs list`, in LIST_FIELDS order: a narrow table keeps date, ticker and
#: rating, then the name, the broker, the target; the report and the thesis go first.
LIST_COLUMNS = [
    Col("report", priority=7),
    Col("broker", kind="text", priority=3, cut=True),
    Col("analysts", kind="text", priority=8, cut=True),
    Col("published"),
    Col("seen", priority=6),
    Col("name", kind="text", priority=1, cut=True),
    Col("ticker"),
    Col("rating"),
    Col("target_price", "target", kind="number", priority=2),
    Col("target_currency", "ccy", priority=5),
    Col("scale", priority=9),
    Col("note", kind="text", priority=10, cut=True),
]


def _registry(settings: Settings):
    from tracker.registry.resolve import Registry

    return Registry.load(settings.home)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Report files or folders (default: recs/).")
    ] = None,
) -> None:
    """Validate call files and report every problem as file:line: field: message.

    Example: tracker recs validate recs/2025-05-06-huaan-hk-internet-ai.yaml
    """
    from tracker.cli._render import stderr
    from tracker.recs.book import load_book

    settings = load_settings()
    book = load_book(settings.recs_dir, paths, registry=_registry(settings))
    calls = sum(len(r.report.recommendations) for r in book.reports)
    err = stderr()
    for line in _revision_warnings(book):
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    err.print(f"ok: {len(book.reports)} report(s), {calls} call(s), {len(book.scales)} scale(s)")


def _revision_warnings(book) -> list[str]:
    """``file:line: field: warning: ...`` for stated previous ratings or targets that the
    book contradicts."""
    from pathlib import Path

    from tracker.errors import Problem
    from tracker.recs.yamlio import line_of, load_yaml
    from tracker.scoring.revisions import disagreements

    out = []
    for row in disagreements(book.calls()).itertuples(index=False):
        i = int(row.call_id.rsplit("#", 1)[1]) - 1
        loc = ["recommendations", i, row.field]
        line = line_of(load_yaml(Path(row.file)), loc)
        field = f"recommendations.{i}.{row.field}"
        out.append(str(Problem(row.file, line, field, f"warning: {row.message}")))
    return out


@app.command("list")
def list_calls(
    broker: Annotated[
        list[str] | None, typer.Option(help="Broker (English or local name).")
    ] = None,
    analyst: Annotated[list[str] | None, typer.Option(help="Analyst name.")] = None,
    rating: Annotated[list[str] | None, typer.Option(help="Canonical rating, e.g. buy.")] = None,
    ticker: Annotated[list[str] | None, typer.Option(help="Ticker or company name.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (YYYY-MM-DD).")] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format", help="table (default on a terminal), tsv (default in a pipe), csv or json."
        ),
    ] = None,
) -> None:
    """List the calls, one row per recommendation.

    Example: tracker recs list --broker "Huaan Securities" | grep 0700.HK
    """
    from tracker.recs.book import call_matcher, load_book

    settings = load_settings()
    registry = _registry(settings)
    match = call_matcher(
        brokers=broker or [],
        analysts=analyst or [],
        ratings=rating or [],
        tickers=[registry.resolve(t) for t in ticker or []],
        since=parse_date(since, "--since"),
        until=parse_date(until, "--until"),
    )
    calls = [c for c in load_book(settings.recs_dir).call_records() if match(c)]
    emit_rows(calls, LIST_COLUMNS, fmt, title=f"{len(calls)} call(s)")


@app.command()
def add(
    report_file: Annotated[Path, typer.Argument(help="The report's YAML file.")],
    name: Annotated[str, typer.Option(help="Company as written in the report, or a code.")],
    rating: Annotated[str, typer.Option(help="Rating, canonical or as the report words it.")],
    target: Annotated[float | None, typer.Option(help="Target price.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency of the target price (default HKD).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Short thesis.")] = None,
) -> None:
    """Resolve a company name and append a call to a report file, keeping its comments.

    Example: tracker recs add recs/2025-09-15-caitong-ai-race.yaml
    --name 小米集团 --rating 买入 --target 60
    """
    from tracker.cli._render import stderr
    from tracker.recs.book import append_recommendation, load_scales

    if currency is not None and target is None:
        raise typer.BadParameter("a currency is only for a target price: add --target")
    settings = load_settings()
    entry = append_recommendation(
        report_file,
        load_scales(settings.scales_dir),
        _registry(settings),
        name=name,
        rating=rating,
        target=target,
        currency=currency or "HKD",
        note=note,
    )
    stderr().print(
        f"added {entry['name']} ({entry['ticker']}) {entry['rating']} to {report_file}",
        markup=False,  # a "[/x]" in a name is text, not a closing tag
    )


@app.command("import")
def import_sheet(
    sheet: Annotated[Path, typer.Argument(help="A CSV (UTF-8) or XLSX file, one call per row.")],
    column_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=field for a header not recognised (repeatable)."),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows; report the bad ones.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
) -> None:
    """Import calls from a spreadsheet: one YAML file per broker and date, validated.

    Headers in English or Chinese (date/日期, broker/券商, analyst/分析师, company/公司,
    code/代码, rating/评级, target/目标价, currency/货币, previous rating/原评级, previous
    target/原目标价, note/备注); others with --map. Any bad row stops the import (each one
    reported as FILE:ROW: column: message) unless --skip-bad. Importing the same sheet
    again changes nothing.

    Example: tracker recs import calls.xlsx --map 券商名称=broker --dry-run
    """
    from tracker import sessions
    from tracker.cli._render import stderr
    from tracker.constants import EXIT_PARTIAL
    from tracker.errors import InvalidInput
    from tracker.recs.book import load_scales
    from tracker.recs.importer import plan_import, write_plan

    mapping: dict[str, str] = {}
    for item in column_map or []:
        col, sep, target = item.partition("=")
        if not sep or not col.strip() or not target.strip():
            raise typer.BadParameter(f"{item!r}: write COLUMN=field", param_hint="--map")
        mapping[col.strip()] = target.strip()
    from tracker.storage import folder_problem

    settings = load_settings()
    blocked = folder_problem(settings.recs_dir, "calls folder")
    if blocked is not None:  # else it would read as a folder without scales
        raise blocked
    scales = load_scales(settings.scales_dir) if settings.scales_dir.is_dir() else {}
    plan = plan_import(
        sheet,
        settings.recs_dir,
        _registry(settings),
        scales,
        today=sessions.today_hk(),
        mapping=mapping,
        skip_bad=skip_bad,
    )
    console = stderr()
    if plan.problems and not skip_bad:
        raise InvalidInput(plan.problems)
    for problem in plan.problems:
        console.print(str(problem), markup=False, highlight=False)
    written = plan.files if dry_run else write_plan(plan, settings.recs_dir)
    verb = "would write" if dry_run else "wrote"
    for f in plan.files:
        if f.status == "unchanged":
            console.print(f"unchanged {f.path} ({f.calls} call(s))", markup=False)
        elif f in written:
            console.print(f"{verb} {f.path} ({f.calls} call(s), {f.status})", markup=False)
    done = sum(f.calls for f in plan.files)
    console.print(
        f"{plan.rows} row(s): {done} call(s) in {len(plan.files)} file(s), "
        f"{plan.skipped} row(s) skipped",
        markup=False,
    )
    if plan.problems:
        raise typer.Exit(EXIT_PARTIAL)  # some rows were left out


from tracker.cli.extract import extract as _extract  # noqa: E402  (extract imports this module's app)

app.command("extract")(_extract)
