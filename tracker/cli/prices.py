"""``tracker prices``: fetch daily bars into the local store, show them, check freshness."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.cli._render import say

if TYPE_CHECKING:
    from rich.console import Console

    from tracker.config import Settings
    from tracker.prices import PriceSource, PriceStore, UpdateSummary

app = typer.Typer(
    help="Daily prices: fetch them into the local store, show them, check how fresh they are.",
    no_args_is_help=True,
)


class Format(StrEnum):
    table = "table"
    csv = "csv"


def _symbol(raw: str) -> str:
    from tracker.prices.symbols import canonical_symbol

    return canonical_symbol(raw)


def _staleness(store: PriceStore, symbols: list[str]) -> list[str]:
    from tracker.prices.symbols import staleness_lines

    return staleness_lines(store, symbols)


def _recs_symbols(settings: Settings) -> list[str]:
    from tracker.prices.symbols import symbols_of_book
    from tracker.recs.book import load_book

    return symbols_of_book(load_book(settings.recs_dir))


def _render_summary(summary: UpdateSummary) -> None:
    import pandas as pd

    from tracker.cli._render import print_table

    rows = []
    for r in summary.results:
        span = f"{r.first}..{r.last}" if r.first else ""
        detail = r.reason if r.status == "failed" else (r.note or "")
        if r.status == "failed" and r.note:
            detail = f"{detail}; {r.note}"
        rows.append([r.symbol, r.status, r.rows_added, span, detail])
    frame = pd.DataFrame(
        rows, columns=["symbol", "result", "new rows", "new bars", "reason / note"]
    )
    counts = {
        s: sum(r.status == s for r in summary.results) for s in ("fetched", "up to date", "failed")
    }
    print_table(frame, title=f"{summary.source}, up to {summary.until}")
    typer.echo(
        f"{counts['fetched']} fetched, {counts['up to date']} up to date, {counts['failed']} failed"
    )


@app.command()
def update(
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Symbols, e.g. 0700.HK ^HSI 2800.HK.")
    ] = None,
    recs: Annotated[
        bool, typer.Option("--recs", help="Every ticker in the calls, plus ^HSI and 2800.HK.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="Fetch history from this date (YYYY-MM-DD; default 2018-01-01)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this date (default: the last closed session).")
    ] = None,
    source: Annotated[
        str, typer.Option(help="yahoo, csv:DIR (files <SYMBOL>.csv) or simulated.")
    ] = "yahoo",
    offline: Annotated[
        bool, typer.Option("--offline", help="Fetch nothing: say how stale each stored series is.")
    ] = False,
) -> None:
    """Fetch the daily bars the store lacks (only the missing sessions), per symbol.

    Prints a summary (fetched / up to date / failed with the reason); exits
    with code 2 if any symbol failed. When the network is unreachable, says how
    stale each stored series is.

    Example: tracker prices update --recs --since 2024-01-01
    """
    from tracker.cli._render import stderr
    from tracker.errors import PartialFailure
    from tracker.prices import PriceStore, source_from_spec

    settings = load_settings()
    symbols = _symbols(tickers, recs, settings)
    since_d, until_d = parse_date(since, "--since"), parse_date(until, "--until")
    store = PriceStore(settings.home)
    err = stderr()
    if offline:
        err.print("offline: nothing fetched; the store holds:")
        say(err, *_staleness(store, symbols))
        return
    src = source_from_spec(source, settings.home)
    if getattr(src, "simulated", False):
        from tracker.prices.source import SIMULATED

        typer.echo(
            f"SIMULATED DATA: {SIMULATED} source, seeded one-factor model, not market prices"
        )
    summary = _fetch(store, src, symbols, since_d, until_d, err)
    _render_summary(summary)
    if summary.unreachable:
        err.print(f"{src.name} is unreachable; the store was used as it is:", markup=False)
        say(err, *_staleness(store, symbols))
    if summary.failed:
        n = len(summary.failed)
        raise PartialFailure(
            f"{n} of {len(symbols)} symbol{'s' if len(symbols) != 1 else ''} failed"
        )


def _symbols(tickers: list[str] | None, recs: bool, settings: Settings) -> list[str]:
    """The symbols asked for, normalised, without repeats; at least one."""
    symbols = [_symbol(t) for t in tickers or []]
    if recs:
        symbols += _recs_symbols(settings)
    symbols = list(dict.fromkeys(symbols))
    if not symbols:
        raise typer.BadParameter("give symbols (e.g. 0700.HK ^HSI) or --recs", param_hint="TICKERS")
    return symbols


def _fetch(
    store: PriceStore,
    src: PriceSource,
    symbols: list[str],
    since_d: date | None,
    until_d: date | None,
    err: Console,
) -> UpdateSummary:
    """:func:`tracker.prices.update_prices` with a progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tracker.prices import update_prices

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{src.name}", total=len(symbols))

        def advance(result, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"{src.name}: {result.symbol}")

        return update_prices(store, src, symbols, since=since_d, until=until_d, progress=advance)


@app.command()
def show(
    ticker: Annotated[str, typer.Argument(help="Symbol, e.g. 0700.HK or ^HSI.")],
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Print the stored daily bars of one symbol (no network).

    close is split-adjusted (price basis), adj_close dividend-adjusted (total
    basis); placeholder marks Yahoo's flat zero-volume rows.

    Example: tracker prices show 0700.HK --start 2025-04-01 --end 2025-04-30 --format csv
    """
    from tracker.cli._render import print_table, write_csv
    from tracker.errors import DataUnavailable
    from tracker.prices import PriceStore

    sym = _symbol(ticker)
    start_d, end_d = parse_date(start, "--start"), parse_date(end, "--end")
    store = PriceStore(load_settings().home)
    meta = store.meta(sym)
    bars = store.read_bars(sym, start_d, end_d)
    if meta is None or bars.empty:
        where = (
            "" if meta is None else f" between {start_d or 'the start'} and {end_d or 'the end'}"
        )
        raise DataUnavailable(
            f"no bars for {sym} in the store{where}: run `tracker prices update {sym}`"
        )
    frame = bars.reset_index()
    frame["date"] = frame["date"].dt.date
    if meta.simulated:
        banner = "SIMULATED DATA: seeded one-factor model, not market prices"
        typer.echo(f"# {banner}" if fmt is Format.csv else banner)
    if fmt is Format.csv:
        write_csv(frame)
    else:
        print_table(frame, title=f"{sym} ({meta.source}), {len(frame)} bars")


@app.command()
def status(
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Per symbol: first and last bar, rows, suspensions, sessions behind, source.

    suspensions counts HKEX sessions between the first and last bar without a
    bar (holidays are not sessions); stale_sessions counts sessions since the
    last bar up to the last closed one.

    Example: tracker prices status --format csv
    """
    from tracker.cli._render import print_table, stderr, write_csv
    from tracker.prices import PriceStore

    store = PriceStore(load_settings().home)
    frame = store.status()
    if frame.empty:
        stderr().print("the price store is empty: run `tracker prices update --recs`")
        return
    if frame["simulated"].any():
        names = ", ".join(frame.index[frame["simulated"].astype(bool)])
        banner = f"SIMULATED DATA (seeded one-factor model, not market prices): {names}"
        typer.echo(f"# {banner}" if fmt is Format.csv else banner)
    frame = frame.reset_index()
    frame["fetched_at"] = frame["fetched_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M UTC"))
    if fmt is Format.csv:
        write_csv(frame)
    else:
        print_table(frame, title=f"price store {store.path}")
