"""``tracker backtest``: run "follow the broker" specs, list runs, compare two runs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.cli.output import Col, OutputFormat, banner, chosen_format, emit_rows, note, problem

if TYPE_CHECKING:
    from tracker.backtest.run import RunOutcome

app = typer.Typer(
    help="Backtests: buy every call a spec selects, with HK costs and board lots,"
    " versus a benchmark.",
    no_args_is_help=True,
)

DEFAULT_RUNS = Path("backtests") / "runs"


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format", help="table (default on a terminal), tsv (default in a pipe), csv or json."
    ),
]


def render_outcome(outcome: RunOutcome, fmt: OutputFormat | None = None) -> None:
    """Key stats next to the benchmark's on stdout, and where the report is; notes on stderr.

    In a table the report's path is a line of its own after the table; in tsv, csv and
    json it is the last row (``report`` and the path), so a script can pick it out.
    """
    from tracker.render.keystats import key_stat_rows

    chosen = chosen_format(fmt)
    if outcome.banner:
        from tracker.cli.output import banner

        banner(outcome.banner, chosen)
    s = outcome.stats
    rows = [
        {"stat": stat, "portfolio": mine, "benchmark": theirs}
        for stat, mine, theirs in key_stat_rows(s)
    ]
    report = str(outcome.path / "report.html")
    if chosen is not OutputFormat.table:
        rows.append({"stat": "report", "portfolio": report, "benchmark": ""})
    columns = [
        Col("stat", "", kind="text"),
        Col("portfolio", kind="number"),
        Col("benchmark", outcome.spec.benchmark, kind="number"),
    ]
    title = f"{outcome.spec.name}: {s['start'].date()} → {s['end'].date()}"
    emit_rows(rows, columns, chosen, title=title)
    _problems_and_notes(outcome.problems, outcome.notes)
    if chosen is OutputFormat.table:
        # A plain line (no wrapping) so that the path can be copied or scripted.
        sys.stdout.write(f"report: {report}\n")


def _problems_and_notes(problems: Sequence[str], notes: Sequence[str]) -> None:
    """Price failures as problem lines, then each note in one line (three clauses at most)."""
    problem(*problems)
    for line in notes:
        parts = line.split("; ")
        more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
        note(f"note: {'; '.join(parts[:3])}{more}")


def _check_runs_dir(spec: Path, runs_dir: Path | None) -> None:
    """Refuse a runs folder that cannot be written before the backtest, not after it."""
    from tracker.storage import folder_problem

    if runs_dir is None and not spec.is_file():
        return  # the spec's own error says more
    root = runs_dir if runs_dir is not None else spec.parent / "runs"
    blocked = folder_problem(root, "runs folder")
    if blocked is not None:
        raise blocked


def _prepare(spec: Path, as_of: str | None, runs_dir: Path | None, offline: bool, source: str):
    """Settings, the ``--as-of`` date, the numba cache folder and the price source of a run.

    The runs folder is checked before any work, and the numba cache is set before vectorbt
    is imported; ``--offline`` means the store only (no source).
    """
    from tracker.backtest.run import configure_numba_cache

    settings = load_settings()
    cutoff = parse_date(as_of, "--as-of")
    _check_runs_dir(spec, runs_dir)
    cache = configure_numba_cache(settings.home)
    src = None
    if not offline:
        from tracker.prices import source_from_spec

        src = source_from_spec(source, settings.home)
    return settings, cutoff, cache, src


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
    fmt: FormatOption = None,
) -> None:
    """Run a backtest spec; print its key stats next to the benchmark's and where the report is.

    Example: tracker backtest run backtests/huaan-hk-internet-2025.yaml --offline
    """
    from tracker.backtest.cache_faults import numba_cache_faults
    from tracker.backtest.run import run_spec_file
    from tracker.cli._render import stderr

    settings, cutoff, cache, src = _prepare(spec, as_of, runs_dir, offline, source)
    err = stderr()
    with numba_cache_faults(cache):
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
    render_outcome(outcome, fmt)
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
    fmt: FormatOption = None,
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
    from tracker.backtest.cache_faults import numba_cache_faults
    from tracker.backtest.sweep_run import run_sweep_file, sweep_document
    from tracker.cli._render import stderr, write_json

    settings, cutoff, cache, src = _prepare(spec, as_of, runs_dir, offline, source)
    err = stderr()
    with numba_cache_faults(cache):
        outcome = run_sweep_file(
            spec,
            settings,
            vary,
            heatmap=[f.strip() for f in heatmap.split(",")] if heatmap else None,
            as_of=cutoff,
            source=src,
            runs_dir=runs_dir,
            progress=lambda msg: err.print(f"[dim]{msg}…[/dim]"),
            command=" ".join(
                ["tracker", "backtest", "sweep", str(spec)]
                + [f"--vary {v}" for v in vary]
                + (["--as-of", as_of] if as_of else [])
                + (["--offline"] if offline else ["--source", source])
            ),
        )
    chosen = chosen_format(fmt)
    if outcome.banner:
        banner(outcome.banner, chosen)
    _problems_and_notes(outcome.problems, outcome.notes)
    if chosen is OutputFormat.json:
        write_json({"notice": outcome.banner, **sweep_document(outcome.frame)})
    elif chosen is OutputFormat.table:
        _sweep_table(outcome)
    else:
        emit_rows(outcome.frame, None, chosen)
    note(f"report: {outcome.path / 'report.html'}")


def _sweep_table(outcome) -> None:
    """One line per variant: the varied fields, then the statistics, formatted."""
    from tracker.render.formats import number, pct

    fields = list(outcome.sweep.fields)
    rows = []
    for rec in outcome.frame.to_dict(orient="records"):
        row = {f: "" if rec[f] is None else str(rec[f]) for f in fields}
        if rec["error"]:
            rows.append({**row, "final_equity": f"error: {rec['error']}"})
            continue
        rows.append(
            {
                **row,
                "final_equity": number(rec["final_equity_hkd"], 0),
                "return": pct(rec["total_return"]),
                "excess": pct(rec["excess_return"]),
                "cagr": pct(rec["cagr"]),
                "sharpe": number(rec["sharpe"]),
                "max_dd": pct(rec["max_drawdown"]),
                "trades": str(rec["trades"]),
                "costs": number(rec["costs_paid_hkd"]),
            }
        )
    columns = [
        *(Col(f) for f in fields),
        Col("final_equity", "final equity", kind="number", priority=3),
        Col("return", kind="number", priority=2),
        Col("excess", kind="number"),
        Col("cagr", "CAGR", kind="number", priority=4),
        Col("sharpe", "Sharpe", kind="number", priority=2),
        Col("max_dd", "max DD", kind="number", priority=3),
        Col("trades", kind="number", priority=5),
        Col("costs", "costs (HKD)", kind="number", priority=5),
    ]
    emit_rows(rows, columns, OutputFormat.table, title=f"{outcome.spec.name}: {len(rows)} variants")


@app.command("list")
def list_cmd(
    runs_dir: Annotated[Path, typer.Option(help="Root of the run folders.")] = DEFAULT_RUNS,
    fmt: FormatOption = None,
) -> None:
    """List complete runs (unfinished writes are ignored), oldest first per spec.

    Example: tracker backtest list --format json
    """
    from tracker.backtest.runs import list_runs
    from tracker.cli._render import write_json

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
    chosen = chosen_format(fmt)
    if chosen is OutputFormat.json:
        write_json(rows)
        return
    if chosen in (OutputFormat.table, OutputFormat.tsv):
        from tracker.render.formats import number, pct

        # For reading: returns in percent, Sharpe to two places.
        rows = [
            {
                **r,
                "total_return": pct(r["total_return"]),
                "benchmark_return": pct(r["benchmark_return"]),
                "sharpe": number(r["sharpe"]),
                "simulated": "yes" if r["simulated"] else "",
                "kind": r["kind"] if r["kind"] == "run" else f"sweep of {r['variants']}",
            }
            for r in rows
        ]
    columns = [
        Col("spec"),
        Col("run"),
        Col("kind", priority=2),
        Col("as_of", priority=3),
        Col("total_return", "return", kind="number"),
        Col("benchmark_return", "benchmark", kind="number", priority=1),
        Col("sharpe", "Sharpe", kind="number", priority=2),
        Col("trades", kind="number", priority=4),
        Col("simulated", priority=5),
        Col("path", priority=6),
    ]
    emit_rows(rows, columns, chosen, title=f"{len(rows)} run(s) in {runs_dir}")


@app.command()
def compare(
    run_a: Annotated[str, typer.Argument(help="Run folder, <spec>/<run>, or <spec> (latest run).")],
    run_b: Annotated[str, typer.Argument(help="The run to compare with.")],
    runs_dir: Annotated[Path, typer.Option(help="Root of the run folders.")] = DEFAULT_RUNS,
    fmt: FormatOption = None,
) -> None:
    """Show how two runs differ: their stats, and the inputs (spec, prices, calls) that explain it.

    In tsv and csv the rows are the stats; the inputs that differ are stderr lines.

    Example: tracker backtest compare huaan-hk-internet-2025 caitong-ai-2025
    """
    from tracker.backtest.runs import compare_runs, load_run, resolve_run
    from tracker.cli._render import stdout, write_json

    a = load_run(resolve_run(run_a, runs_dir))
    b = load_run(resolve_run(run_b, runs_dir))
    diff = compare_runs(a, b)
    chosen = chosen_format(fmt)
    if chosen is OutputFormat.json:
        write_json({"a": str(a.path), "b": str(b.path), **diff})
        return
    if diff.get("kind") == "sweep":
        _compare_sweeps_table(a, b, diff)
        return
    rows = []
    for row in diff["stats"]:
        fmt_one = _fmt_stat(row["stat"])
        rows.append(
            {
                "stat": row["stat"],
                "a": fmt_one(row["a"]),
                "b": fmt_one(row["b"]),
                "change": fmt_one(row["change"]),
            }
        )
    columns = [
        Col("stat"),
        Col("a", "A", kind="number"),
        Col("b", "B", kind="number"),
        Col("change", "B - A", kind="number"),
    ]
    emit_rows(rows, columns, chosen, title=f"A = {a.path}\nB = {b.path}")
    inputs = [
        {"input": row["input"], "a": _short(row["a"]), "b": _short(row["b"])}
        for row in diff["inputs"]
    ]
    only = [
        f"traded only in {side}: {', '.join(diff['calls'][key])}"
        for side, key in (("A", "only_a"), ("B", "only_b"))
        if diff["calls"][key]
    ]
    if chosen is not OutputFormat.table:
        note(*(f"input {r['input']}: A {r['a']}, B {r['b']}" for r in inputs), *only)
        return
    out = stdout()
    if inputs:
        out.print()
        inputs_columns = [
            Col("input"),
            Col("a", "A", kind="text"),
            Col("b", "B", kind="text"),
        ]
        emit_rows(inputs, inputs_columns, chosen, title="inputs that differ")
    else:
        out.print("inputs: identical (same spec, calls, prices and versions)")
    for line in only:
        out.print(line, markup=False, soft_wrap=True)


def _compare_sweeps_table(a, b, diff: dict) -> None:
    from rich.table import Table

    from tracker.cli._render import stdout
    from tracker.render.formats import pct

    out = stdout()
    table = Table(title=f"excess return\nA = {a.path}\nB = {b.path}", title_justify="left")
    for col in [*diff["fields"], "A", "B", "B - A"]:
        table.add_column(col, justify="left" if col in diff["fields"] else "right")
    for row in diff["variants"]:
        table.add_row(
            *(str(row[f]) for f in diff["fields"]),
            pct(row["a"]),
            pct(row["b"]),
            pct(row["change"]),
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
