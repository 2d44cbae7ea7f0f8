"""``tracker backtest``: run "follow the broker" specs, list runs, compare two runs."""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli._options import load_settings, parse_date

if TYPE_CHECKING:
    from tracker.backtest.run import RunOutcome

app = typer.Typer(
    help="Backtests: buy every call a spec selects, with HK costs and board lots, versus a benchmark.",
    no_args_is_help=True,
)

DEFAULT_RUNS = Path("backtests") / "runs"


class Format(StrEnum):
    table = "table"
    json = "json"


class SweepFormat(StrEnum):
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"


def _pct(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}%"


def _num(x: Any, fmt: str = "{:,.2f}") -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _key_stats_rows(stats: dict) -> list[tuple[str, str, str]]:
    b = stats["benchmark"]
    return [
        (
            "final equity (HKD)",
            _num(stats["final_equity_hkd"], "{:,.0f}"),
            _num(b["final_equity_hkd"], "{:,.0f}"),
        ),
        ("total return", _pct(stats["total_return"]), _pct(b["total_return"])),
        ("CAGR", _pct(stats["cagr"]), _pct(b["cagr"])),
        ("annual volatility", _pct(stats["annual_volatility"]), _pct(b["annual_volatility"])),
        ("Sharpe", _num(stats["sharpe"]), _num(b["sharpe"])),
        ("Sortino", _num(stats["sortino"]), _num(b["sortino"])),
        ("max drawdown", _pct(stats["max_drawdown"]), _pct(b["max_drawdown"])),
        ("Calmar", _num(stats["calmar"]), _num(b["calmar"])),
        ("beta / alpha", f"{_num(stats['beta'])} / {_pct(stats['alpha'])}", ""),
        (
            "tracking error / IR",
            f"{_pct(stats['tracking_error'])} / {_num(stats['information_ratio'])}",
            "",
        ),
        ("trades (open at end)", f"{stats['trades']} ({stats['trades_open_at_end']})", ""),
        ("calls skipped", str(stats["calls_skipped"]), ""),
        ("win rate", _pct(stats["win_rate"]), ""),
        ("turnover per year", _num(stats["turnover"], "{:.2f}x"), ""),
        ("costs paid (HKD)", _num(stats["costs_paid_hkd"]), ""),
    ]


def render_outcome(outcome: RunOutcome) -> None:
    """Key stats next to the benchmark's on stdout; notes on stderr."""
    from rich.table import Table

    from tracker.cli._render import stderr, stdout

    out = stdout()
    if outcome.banner:
        sys.stdout.write(f"{outcome.banner}\n")
    s = outcome.stats
    table = Table(
        title=f"{outcome.spec.name}: {s['start'].date()} → {s['end'].date()}",
        title_justify="left",
    )
    table.add_column("")
    table.add_column("portfolio", justify="right")
    table.add_column(outcome.spec.benchmark, justify="right")
    for row in _key_stats_rows(s):
        table.add_row(*row)
    out.print(table)
    err = stderr()
    for note in outcome.notes:
        parts = note.split("; ")
        more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
        err.print(f"note: {'; '.join(parts[:3])}{more}")
    out.file.flush()
    # A plain line (no wrapping) so that the path can be copied or scripted.
    sys.stdout.write(f"report: {outcome.path / 'report.html'}\n")


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Backtest spec (backtests/*.yaml).")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Use only calls and prices known on this date (YYYY-MM-DD)."),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Where to fetch missing prices: yahoo, csv:DIR or simulated.")
    ] = "yahoo",
    offline: Annotated[bool, typer.Option("--offline", help="Use the price store only.")] = False,
    open_report: Annotated[
        bool, typer.Option("--open", help="Open the report in a browser.")
    ] = False,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where run folders go (default: runs/ next to the spec).")
    ] = None,
) -> None:
    """Run a backtest spec; print its key stats next to the benchmark's and where the report is.

    Example: tracker backtest run backtests/huaan-hk-internet-2025.yaml --offline
    """
    from tracker.backtest.run import configure_numba_cache, run_spec_file
    from tracker.cli._render import stderr

    settings = load_settings()
    cutoff = parse_date(as_of, "--as-of")
    configure_numba_cache(settings.home)  # before vectorbt is imported
    src = None
    if not offline:
        from tracker.prices import source_from_spec

        src = source_from_spec(source, settings.home)
    err = stderr()
    outcome = run_spec_file(
        spec,
        settings,
        as_of=cutoff,
        source=src,
        offline=offline,
        runs_dir=runs_dir,
        progress=lambda msg: err.print(f"[dim]{msg}…[/dim]"),
        command=" ".join(
            ["tracker", "backtest", "run", str(spec)]
            + (["--as-of", as_of] if as_of else [])
            + (["--offline"] if offline else ["--source", source])
        ),
    )
    render_outcome(outcome)
    if open_report:
        import webbrowser

        webbrowser.open((outcome.path / "report.html").resolve().as_uri())


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="Backtest spec (backtests/*.yaml).")],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="FIELD=V1,V2,... (repeatable): exit.months, exit.rule, entry,"
            " entry_delay_sessions, sizing.max_positions, sizing.method, costs (on/off).",
        ),
    ],
    heatmap: Annotated[
        str | None,
        typer.Option(help="Two varied fields for the report's heatmap, e.g. exit.months,costs."),
    ] = None,
    fmt: Annotated[SweepFormat, typer.Option("--format", help="Output format.")] = (
        SweepFormat.table
    ),
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Use only calls and prices known on this date (YYYY-MM-DD)."),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Where to fetch missing prices: yahoo, csv:DIR or simulated.")
    ] = "yahoo",
    offline: Annotated[bool, typer.Option("--offline", help="Use the price store only.")] = False,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where run folders go (default: runs/ next to the spec).")
    ] = None,
) -> None:
    """Run many variants of a spec in one simulation: the product of the --vary values.

    Prints one row per variant (varied fields, final equity, returns, Sharpe,
    drawdown, trades, costs) and writes a folder with sweep.json, variants.csv and a
    report with a heatmap and the excess return against entry delay.

    Example: tracker backtest sweep backtests/huaan-hk-internet-2025.yaml
    --vary entry_delay_sessions=0,1,2,5,10,20 --vary costs=on,off --offline
    """
    from tracker.backtest.run import configure_numba_cache
    from tracker.backtest.sweep_run import run_sweep_file, sweep_document
    from tracker.cli._render import stderr, write_json

    settings = load_settings()
    cutoff = parse_date(as_of, "--as-of")
    configure_numba_cache(settings.home)  # before vectorbt is imported
    src = None
    if not offline:
        from tracker.prices import source_from_spec

        src = source_from_spec(source, settings.home)
    err = stderr()
    outcome = run_sweep_file(
        spec,
        settings,
        vary,
        heatmap=[f.strip() for f in heatmap.split(",")] if heatmap else None,
        as_of=cutoff,
        source=src,
        offline=offline,
        runs_dir=runs_dir,
        progress=lambda msg: err.print(f"[dim]{msg}…[/dim]"),
        command=" ".join(
            ["tracker", "backtest", "sweep", str(spec)]
            + [f"--vary {v}" for v in vary]
            + (["--as-of", as_of] if as_of else [])
            + (["--offline"] if offline else ["--source", source])
        ),
    )
    if fmt is SweepFormat.table and not sys.stdout.isatty():
        fmt = SweepFormat.tsv  # a pipe gets one row per line, tab-separated
    if outcome.banner and fmt is not SweepFormat.json:
        sys.stdout.write(f"{'# ' if fmt is not SweepFormat.table else ''}{outcome.banner}\n")
    for note in outcome.notes:
        err.print(f"note: {note}", markup=False)
    frame = outcome.frame
    if fmt is SweepFormat.json:
        write_json({"notice": outcome.banner, **sweep_document(frame)})
    elif fmt in (SweepFormat.csv, SweepFormat.tsv):
        sep = "," if fmt is SweepFormat.csv else "\t"
        frame.to_csv(sys.stdout, index=False, sep=sep, lineterminator="\n")
    else:
        _sweep_table(outcome)
    err.print(f"report: {outcome.path / 'report.html'}", markup=False, soft_wrap=True)


def _sweep_table(outcome) -> None:
    from rich.table import Table

    from tracker.cli._render import stdout

    frame = outcome.frame
    fields = list(outcome.sweep.fields)
    table = Table(title=f"{outcome.spec.name}: {len(frame)} variants", title_justify="left")
    for col in [
        *fields,
        "final equity",
        "return",
        "excess",
        "CAGR",
        "Sharpe",
        "max DD",
        "trades",
        "costs (HKD)",
    ]:
        table.add_column(col, justify="left" if col in fields else "right")
    for rec in frame.to_dict(orient="records"):
        if rec["error"]:
            table.add_row(*(str(rec[f]) for f in fields), f"error: {rec['error']}")
            continue
        table.add_row(
            *("" if rec[f] is None else str(rec[f]) for f in fields),
            _num(rec["final_equity_hkd"], "{:,.0f}"),
            _pct(rec["total_return"]),
            _pct(rec["excess_return"]),
            _pct(rec["cagr"]),
            _num(rec["sharpe"]),
            _pct(rec["max_drawdown"]),
            str(rec["trades"]),
            _num(rec["costs_paid_hkd"]),
        )
    stdout().print(table)


@app.command("list")
def list_cmd(
    runs_dir: Annotated[Path, typer.Option(help="Root of the run folders.")] = DEFAULT_RUNS,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """List complete runs (unfinished writes are ignored), oldest first per spec.

    Example: tracker backtest list --format json
    """
    from tracker.backtest.runs import list_runs
    from tracker.cli._render import stdout, write_json

    runs = list_runs(runs_dir)
    rows = [
        {
            "spec": r.spec,
            "run": r.run,
            "kind": r.kind,
            "variants": r.manifest.get("variants"),
            "as_of": r.manifest.get("as_of"),
            "total_return": r.stats.get("total_return"),
            "benchmark_return": (r.stats.get("benchmark") or {}).get("total_return"),
            "sharpe": r.stats.get("sharpe"),
            "trades": r.stats.get("trades"),
            "simulated": r.manifest.get("simulated"),
            "path": str(r.path),
        }
        for r in runs
    ]
    if fmt is Format.json:
        write_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} run(s) in {runs_dir}", title_justify="left")
    for col in (
        "spec",
        "run",
        "kind",
        "as_of",
        "return",
        "benchmark",
        "Sharpe",
        "trades",
        "simulated",
    ):
        table.add_column(
            col, justify="right" if col in ("return", "benchmark", "Sharpe", "trades") else "left"
        )
    for r in rows:
        table.add_row(
            r["spec"],
            r["run"],
            r["kind"] if r["kind"] == "run" else f"sweep of {r['variants']}",
            str(r["as_of"] or ""),
            _pct(r["total_return"]),
            _pct(r["benchmark_return"]),
            _num(r["sharpe"]),
            "" if r["trades"] is None else str(r["trades"]),
            "yes" if r["simulated"] else "",
        )
    stdout().print(table)


@app.command()
def compare(
    run_a: Annotated[str, typer.Argument(help="Run folder, <spec>/<run>, or <spec> (latest run).")],
    run_b: Annotated[str, typer.Argument(help="The run to compare with.")],
    runs_dir: Annotated[Path, typer.Option(help="Root of the run folders.")] = DEFAULT_RUNS,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Show how two runs differ: their stats, and the inputs (spec, prices, calls) that explain it.

    Example: tracker backtest compare huaan-hk-internet-2025 caitong-ai-2025
    """
    from tracker.backtest.runs import compare_runs, load_run, resolve_run
    from tracker.cli._render import stdout, write_json

    a = load_run(resolve_run(run_a, runs_dir))
    b = load_run(resolve_run(run_b, runs_dir))
    diff = compare_runs(a, b)
    if fmt is Format.json:
        write_json({"a": str(a.path), "b": str(b.path), **diff})
        return
    from rich.table import Table

    out = stdout()
    if diff.get("kind") == "sweep":
        _compare_sweeps_table(a, b, diff)
        return
    table = Table(title=f"A = {a.path}\nB = {b.path}", title_justify="left")
    for col in ("stat", "A", "B", "B - A"):
        table.add_column(col, justify="left" if col == "stat" else "right")
    for row in diff["stats"]:
        fmt_one = _fmt_stat(row["stat"])
        table.add_row(row["stat"], fmt_one(row["a"]), fmt_one(row["b"]), fmt_one(row["change"]))
    out.print(table)
    if diff["inputs"]:
        inputs = Table(title="inputs that differ", title_justify="left")
        for col in ("input", "A", "B"):
            inputs.add_column(col, overflow="fold")
        for row in diff["inputs"]:
            inputs.add_row(row["input"], _short(row["a"]), _short(row["b"]))
        out.print(inputs)
    else:
        out.print("inputs: identical (same spec, calls, prices and versions)")
    for side, key in (("A", "only_a"), ("B", "only_b")):
        if diff["calls"][key]:
            out.print(f"traded only in {side}: {', '.join(diff['calls'][key])}")


def _compare_sweeps_table(a, b, diff: dict) -> None:
    from rich.table import Table

    from tracker.cli._render import stdout

    out = stdout()
    table = Table(title=f"excess return\nA = {a.path}\nB = {b.path}", title_justify="left")
    for col in [*diff["fields"], "A", "B", "B - A"]:
        table.add_column(col, justify="left" if col in diff["fields"] else "right")
    for row in diff["variants"]:
        table.add_row(
            *(str(row[f]) for f in diff["fields"]),
            _pct(row["a"]),
            _pct(row["b"]),
            _pct(row["change"]),
        )
    out.print(table)
    if diff["inputs"]:
        inputs = Table(title="inputs that differ", title_justify="left")
        for col in ("input", "A", "B"):
            inputs.add_column(col, overflow="fold")
        for row in diff["inputs"]:
            inputs.add_row(row["input"], _short(row["a"]), _short(row["b"]))
        out.print(inputs)


def _fmt_stat(name: str):
    if name.endswith("_hkd"):
        return lambda v: _num(v)
    if name in ("trades", "calls_skipped"):
        return lambda v: "" if v is None else f"{v:g}"
    if name in ("sharpe", "sortino", "calmar", "beta", "information_ratio", "turnover"):
        return lambda v: _num(v, "{:.3f}")
    return _pct


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 70 else text[:67] + "..."
