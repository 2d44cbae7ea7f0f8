"""``tracker recs``: validate, list and add calls."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tracker.config import Settings

from tracker.cli._options import load_settings, parse_date

app = typer.Typer(help="The calls kept as YAML in recs/.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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
    stderr().print(
        f"ok: {len(book.reports)} report(s), {calls} call(s), {len(book.scales)} scale(s)"
    )


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
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """List the calls, one row per recommendation.

    Example: tracker recs list --broker "Huaan Securities" --format json
    """
    from tracker.cli._render import print_rows, write_csv_rows, write_json
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
    if fmt is Format.json:
        write_json([{k: c[k] for k in LIST_FIELDS} for c in calls])
    elif fmt is Format.csv:
        write_csv_rows(calls, LIST_FIELDS)
    else:
        shown = ["published", "broker", "name", "ticker", "rating", "target_price", "report"]
        print_rows(calls, shown, title=f"{len(calls)} call(s)")


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

    Example: tracker recs add recs/2025-09-15-caitong-ai-race.yaml --name 小米集团 --rating 买入 --target 60
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
    stderr().print(f"added {entry['name']} ({entry['ticker']}) {entry['rating']} to {report_file}")


from tracker.cli.extract import extract as _extract  # noqa: E402  (extract imports this module's app)

app.command("extract")(_extract)
