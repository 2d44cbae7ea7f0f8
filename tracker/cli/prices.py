"""``tracker prices``: fetch daily bars into the local store, show them, check freshness."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.cli.output import Col, OutputFormat, banner, emit_rows, note

if TYPE_CHECKING:
    from rich.console import Console

    from tracker.config import Settings
    from tracker.prices import PriceSource, PriceStore, UpdateSummary

app = typer.Typer(
    help="Daily prices: fetch them into the local store, show them, check how fresh they are.",
    no_args_is_help=True,
)


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format", help="table (default on a terminal), tsv (default in a pipe), csv or json."
    ),
]

#: Columns of `prices update`; in a narrow table the note goes first, then the new bars.
UPDATE_COLUMNS = [
    Col("symbol"),
    Col("result"),
    Col("new_rows", "new rows", kind="number", priority=2),
    Col("first", kind="token", priority=3),
    Col("last", kind="token", priority=3),
    Col("note", kind="text", priority=4, cut=True),
]

#: Columns of `prices status`: symbol and last bar first, then freshness, then provenance.
STATUS_COLUMNS = [
    Col("symbol"),
    Col("first", priority=2),
    Col("last"),
    Col("rows", kind="number", priority=3),
    Col("placeholders", kind="number", priority=6),
    Col("suspensions", kind="number", priority=5),
    Col("stale_sessions", "behind", kind="number", priority=1),
    Col("source", priority=4),
    Col("simulated", priority=7),
    Col("fetched_at", "fetched", kind="text", priority=8),
]


def _symbol(raw: str) -> str:
    from tracker.prices.symbols import canonical_symbol

    bad = next((c for c in raw.strip() if not c.isprintable() or c.isspace()), None)
    if bad is not None:  # a symbol reaches the store, file names and every table
        raise typer.BadParameter(
            f"{raw!r}: a symbol has no spaces or control characters (U+{ord(bad):04X})"
        )
    return canonical_symbol(raw)


def _recs_symbols(settings: Settings) -> list[str]:
    from tracker.prices.symbols import symbols_of_book
    from tracker.recs.book import load_book

    return symbols_of_book(load_book(settings.recs_dir))


def _freshness(store: PriceStore, symbols: list[str], summary: UpdateSummary | None = None):
    """How fresh the stored series of ``symbols`` are, up to the last closed session."""
    import pandas as pd

    from tracker import sessions
    from tracker.prices.staleness import staleness

    status = store.status()
    last_bar = {s: status.at[s, "last"] for s in symbols if s in status.index}
    until = summary.until if summary is not None else None
    if until is None:
        until = sessions.last_closed_session(pd.Timestamp.now(tz="UTC")).date()
    return staleness(symbols, last_bar, until, summary)


def _say_freshness(freshness) -> None:
    """Problems always (one stderr line each), the staleness line, and -v the detail."""
    from tracker.cli.output import detail, problem

    problem(*freshness.problems())
    if line := freshness.line():
        note(line)
    detail(*freshness.details())


def _update_rows(summary: UpdateSummary) -> list[dict]:
    rows = []
    for r in summary.results:
        text = r.reason if r.status == "failed" else (r.note or "")
        if r.status == "failed" and r.note:
            text = f"{text}; {r.note}"
        rows.append(
            {
                "symbol": r.symbol,
                "result": r.status.replace(" ", "-"),
                "new_rows": r.rows_added,
                "first": r.first,
                "last": r.last,
                "note": text,
            }
        )
    return rows


def _render_summary(summary: UpdateSummary, fmt: OutputFormat | None) -> None:
    emit_rows(
        _update_rows(summary),
        UPDATE_COLUMNS,
        fmt,
        title=f"{summary.source}, up to {summary.until}",
    )
    counts = {
        s: sum(r.status == s for r in summary.results) for s in ("fetched", "up to date", "failed")
    }
    note(
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
        bool,
        typer.Option("--offline", help="Fetch nothing: say how stale the stored series are."),
    ] = False,
    fmt: FormatOption = None,
) -> None:
    """Fetch the daily bars the store lacks (only the missing sessions), per symbol.

    Prints one row per symbol (fetched / up-to-date / failed) and, on stderr, each
    failure's reason as one line and one line for the series that end early (-v: each
    of them); exits with code 2 if any symbol failed.

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
        note("offline: nothing fetched")
        _say_freshness(_freshness(store, symbols))
        return
    src = source_from_spec(source, settings.home)
    if getattr(src, "simulated", False):
        from tracker.prices.source import SIMULATED

        banner(
            f"SIMULATED DATA: {SIMULATED} source, seeded one-factor model, not market prices",
            fmt,
        )
    summary = _fetch(store, src, symbols, since_d, until_d, err)
    _render_summary(summary, fmt)
    if summary.unreachable:
        note(f"{src.name} is unreachable; the store was used as it is")
    _say_freshness(_freshness(store, symbols, summary))
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
        # A cron log gets no bar (rich would leave an empty line there).
        disable=not err.is_terminal,
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
    fmt: FormatOption = None,
) -> None:
    """Print the stored daily bars of one symbol (no network).

    close is split-adjusted (price basis), adj_close dividend-adjusted (total
    basis); placeholder marks Yahoo's flat zero-volume rows.

    Example: tracker prices show 0700.HK --start 2025-04-01 --end 2025-04-30 --format csv
    """
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
        banner("SIMULATED DATA: seeded one-factor model, not market prices", fmt)
    emit_rows(frame, None, fmt, title=f"{sym} ({meta.source}), {len(frame)} bars")


@app.command()
def status(
    fmt: FormatOption = None,
) -> None:
    """Per symbol: first and last bar, rows, suspensions, sessions behind, source.

    suspensions counts HKEX sessions between the first and last bar without a
    bar (holidays are not sessions); stale_sessions (behind) counts sessions
    since the last bar up to the last closed one.

    Example: tracker prices status | grep 0700.HK
    """
    from tracker.cli._render import stderr
    from tracker.prices import PriceStore

    store = PriceStore(load_settings().home)
    frame = store.status()
    if frame.empty:
        stderr().print("the price store is empty: run `tracker prices update --recs`")
        return
    if frame["simulated"].any():
        names = ", ".join(frame.index[frame["simulated"].astype(bool)])
        banner(f"SIMULATED DATA (seeded one-factor model, not market prices): {names}", fmt)
    frame = frame.reset_index()
    frame["fetched_at"] = frame["fetched_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M UTC"))
    emit_rows(frame, STATUS_COLUMNS, fmt, title=f"price store {store.path}")
