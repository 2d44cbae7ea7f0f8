"""From a spec file to a written run: read the calls, registry and prices, run, write.

This is the I/O edge of the backtest (the engine itself takes frames). Every
check that needs no computation happens first, in this order, so a bad spec
fails fast: the spec file (all problems at once), the selection (no call), the
prices (no price for any ticker), the benchmark (no price at all).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tracker import sessions
from tracker.backtest.schedule import select_calls
from tracker.backtest.spec import BacktestSpec, load_spec

if TYPE_CHECKING:
    from tracker.backtest.engine import BacktestResult
    from tracker.config import Settings
    from tracker.prices import PanelInfo, PriceSource

#: Sub-folder of the tracker home holding numba's compiled-code cache.
NUMBA_CACHE = "numba-cache"


def configure_numba_cache(home: Path) -> Path:
    """Point numba's on-disk cache at ``<home>/numba-cache`` unless ``NUMBA_CACHE_DIR`` is set.

    Must run before vectorbt (hence numba) is imported: numba reads the
    variable when vectorbt's functions are decorated. With the cache, a new
    process loads vectorbt's compiled kernels instead of compiling them again.

    Returns
    -------
    Path
        The cache folder in effect (created if missing).
    """
    current = os.environ.get("NUMBA_CACHE_DIR")
    from tracker.storage import output_dir

    folder = Path(current) if current else Path(home) / NUMBA_CACHE
    output_dir(folder, "numba cache folder")  # one line (75 if full), not a traceback
    if not current:
        os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder


@dataclass(frozen=True)
class RunOutcome:
    path: Path
    spec: BacktestSpec
    result: BacktestResult
    stats: dict
    manifest: dict
    banner: str | None
    notes: tuple[str, ...]
    #: Price fetch failures other than staleness, one line each (for stderr, not the report).
    problems: tuple[str, ...] = ()


def _calls_digest(calls: pd.DataFrame) -> str:
    cols = ["call_id", "broker", "ticker", "rating", "start_date", "horizon_max_months"]
    text = calls[cols].astype(str).to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("tracker", "vectorbt"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def run_spec_file(
    spec_path: Path,
    settings: Settings,
    *,
    as_of: date | None = None,
    source: PriceSource | None = None,
    runs_dir: Path | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    command: str = "",
) -> RunOutcome:
    """Run the backtest a spec file describes and write its run folder.

    Parameters
    ----------
    spec_path
        A ``backtests/*.yaml`` file.
    settings
        Where the calls (``recs_dir``) and the price store (``home``) are.
    as_of
        Use only calls and prices known on this date (default: everything stored).
    source
        Where to fetch missing prices; ``None`` reads the store only, never fetching.
    runs_dir
        Root of the run folders (default: ``runs/`` next to the spec file).
    now
        Time stamp of the run (default: the clock, UTC).
    progress
        Called with a short message at each step.

    Raises
    ------
    InvalidInput
        The spec file has problems (all listed).
    EmptySelection, DataUnavailable, BenchmarkNoData
        Nothing to compute, before any computation.
    """
    from tracker.backtest.engine import run_backtest
    from tracker.backtest.runs import write_run
    from tracker.backtest.stats import run_stats

    report_step = progress or (lambda _msg: None)
    spec = load_spec(spec_path)
    spec_text = spec_path.read_bytes()
    inputs = _load_inputs(spec, settings, as_of, source, report_step)
    report_step(f"backtesting {len(inputs.calls)} calls")
    result = run_backtest(
        inputs.calls,
        inputs.closes[inputs.tickers],
        inputs.bench,
        spec,
        opens=inputs.opens[inputs.tickers] if inputs.opens is not None else None,
        book=inputs.book,
        lots=inputs.lots,
        stamp_exempt=inputs.exempt,
        as_of=as_of,
    )
    stats = run_stats(result.equity, result.trades, result.costs, spec.capital_hkd)
    banner = inputs.info.banner()
    from tracker.prices.staleness import panel_staleness

    # Staleness in one sentence with dates; failures with their reasons go to stderr only.
    freshness = panel_staleness(inputs.info, as_of)
    notes = tuple(n for n in (freshness.sentence(),) if n)
    now = now or datetime.now(UTC)
    manifest = _manifest(spec, spec_path, spec_text, inputs, result, settings, as_of, command, now)
    warnings = tuple(n for n in (*notes, *result.warnings))
    report_step("writing the report")
    files = _run_files(spec, stats, result, manifest, warnings, banner)
    root = runs_dir if runs_dir is not None else spec_path.parent / "runs"
    path = write_run(root, spec.name, files, now)
    return RunOutcome(
        path, spec, result, stats, manifest, banner, warnings, tuple(freshness.problems())
    )


@dataclass(frozen=True)
class _BacktestInputs:
    """The calls of a run and the prices, board lots and stamp-duty exemptions they need."""

    book: pd.DataFrame  # every call known by as_of (for the downgrade rule)
    calls: pd.DataFrame  # the selected calls
    tickers: list[str]
    symbols: list[str]  # the tickers and the benchmark
    lots: dict[str, int | None]
    exempt: dict[str, bool]
    start: pd.Timestamp
    end: pd.Timestamp | None
    closes: pd.DataFrame
    bench: pd.Series
    opens: pd.DataFrame | None
    info: PanelInfo


def _load_inputs(
    spec: BacktestSpec,
    settings: Settings,
    as_of: date | None,
    source: PriceSource | None,
    report_step: Callable[[str], None],
) -> _BacktestInputs:
    """Select the calls, look up their lots and read (or fetch) their prices.

    Raises
    ------
    EmptySelection, DataUnavailable, BenchmarkNoData
    """
    from tracker.backtest.engine import BenchmarkNoData
    from tracker.prices.load import load_prices
    from tracker.recs.book import load_book

    book = load_book(settings.recs_dir).calls_known_by(as_of)
    calls = select_calls(book, spec.select, spec.name, as_of)
    tickers = list(dict.fromkeys(calls["ticker"]))
    lots, exempt = _lots_and_exemptions(tickers, settings.home)
    symbols = [*tickers, spec.benchmark] if spec.benchmark not in tickers else tickers
    # A month of history before the first call, so the benchmark has a starting close.
    start = sessions.sessions_months_after([calls["start_date"].min()], -1)[0]
    end = pd.Timestamp(as_of) if as_of is not None else None
    report_step(f"loading prices of {len(symbols)} symbols")
    panels = load_prices(
        settings.home, symbols, start, end, source, opens=spec.entry == "next-open"
    )
    closes = panels.close
    bench = closes[spec.benchmark] if spec.benchmark in closes.columns else pd.Series(dtype=float)
    if bench.dropna().empty:
        raise BenchmarkNoData(spec.benchmark, pd.Timestamp(calls["start_date"].min()), None)
    return _BacktestInputs(
        book,
        calls,
        tickers,
        symbols,
        lots,
        exempt,
        start,
        end,
        closes,
        bench,
        panels.opens,
        panels.info,
    )


def _lots_and_exemptions(
    tickers: list[str], home: Path
) -> tuple[dict[str, int | None], dict[str, bool]]:
    """Board lot and stamp-duty exemption of every ticker the registry knows."""
    from tracker.registry.resolve import Registry

    registry = Registry.load(home)
    lots, exempt = {}, {}
    for t in tickers:
        if registry.knows(t):
            sec = registry.get(t)
            lots[t] = sec.board_lot
            exempt[t] = not sec.stamp_duty
    return lots, exempt


def _manifest(
    spec: BacktestSpec,
    spec_path: Path,
    spec_text: bytes,
    inputs: _BacktestInputs,
    result: BacktestResult,
    settings: Settings,
    as_of: date | None,
    command: str,
    now: datetime,
) -> dict:
    """What the run used, for ``manifest.json``: spec, calls, prices, versions, command."""
    from tracker.prices import PriceStore

    fingerprint = PriceStore(settings.home).fingerprint(inputs.symbols, inputs.start, inputs.end)
    versions = _versions()
    end = inputs.end
    return {
        "spec_name": spec.name,
        "spec_file": str(spec_path),
        "spec_sha256": spec.digest(),
        "spec_file_sha256": hashlib.sha256(spec_text).hexdigest(),
        "spec": spec.model_dump(mode="json"),
        "calls": len(inputs.calls),
        "calls_sha256": _calls_digest(inputs.calls),
        "symbols": inputs.symbols,
        "price_fingerprint": fingerprint,
        "price_sources": dict(inputs.info.sources),
        "price_window": [inputs.start.date(), end.date() if end is not None else None],
        # The cut-off: --as-of, else the latest price read.
        "as_of": as_of or inputs.closes.dropna(how="all").index.max(),
        "data_end": result.equity.index[-1],
        "simulated": bool(inputs.info.simulated),
        "tracker_version": versions["tracker"],
        "vectorbt_version": versions["vectorbt"],
        "python": sys.version.split()[0],
        "command": command,
        "created_utc": now.isoformat(timespec="seconds"),
    }


def _run_files(
    spec: BacktestSpec,
    stats: dict,
    result: BacktestResult,
    manifest: dict,
    warnings: tuple[str, ...],
    banner: str | None,
) -> dict[str, str]:
    """The files of a run folder, by name."""
    from tracker.backtest.report import render_report
    from tracker.backtest.runs import csv_text, json_text

    html = render_report(
        spec, stats, result.equity, result.trades, result.costs, manifest, warnings, banner
    )
    return {
        "stats.json": json_text(
            {"spec_name": spec.name, **stats, "warnings": list(warnings)}, banner
        ),
        "trades.csv": csv_text(result.trades, banner),
        "equity.csv": csv_text(result.equity, banner, index=True),
        "report.html": html,
        "manifest.json": json_text(manifest, banner),
    }
