"""``tracker backtest``: run "follow the broker" specs, list runs, compare two runs."""

from __future__ import annotations

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


def render_outcome(outcome: RunOutcome) -> None:
    """Key stats next to the benchmark's on stdout; notes on stderr."""
    from rich.table import Table

    from tracker.cli._render import stderr, stdout
    from tracker.render.keystats import key_stat_rows

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
    for row in key_stat_rows(s):
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

    from tracker.render.formats import number, pct

    table = Table(title=f"{len(rows)} run(s) in {runs_dir}", title_justify="left")
    for col in ("spec", "run", "as_of", "return", "benchmark", "Sharpe", "trades", "simulated"):
        table.add_column(
            col, justify="right" if col in ("return", "benchmark", "Sharpe", "trades") else "left"
        )
    for r in rows:
        table.add_row(
            r["spec"],
            r["run"],
            str(r["as_of"] or ""),
            pct(r["total_return"]),
            pct(r["benchmark_return"]),
            number(r["sharpe"]),
            str(r["trades"]),
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


def _fmt_stat(name: str):
    from tracker.render.formats import number, pct

    if name.endswith("_hkd"):
        return number
    if name in ("trades", "calls_skipped"):
        return lambda v: "" if v is None else f"{v:g}"
    if name in ("sharpe", "sortino", "calmar", "beta", "information_ratio", "turnover"):
        return lambda v: number(v, 3)
    return pct


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 70 else text[:67] + "..."
