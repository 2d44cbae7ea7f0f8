"""``tracker score``: every call against its benchmark, by the report's own thresholds.

The computation is :func:`tracker.scoring.run.run_score`; this module parses the
options and renders the result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli._options import load_settings, parse_date

if TYPE_CHECKING:
    import pandas as pd

    from tracker.scoring.run import ScoreRun


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


class By(StrEnum):
    broker = "broker"
    analyst = "analyst"
    report = "report"
    rating = "rating"
    ticker = "ticker"


class Entry(StrEnum):
    next_close = "next-close"
    next_open = "next-open"
    same_close = "same-close"


class Basis(StrEnum):
    price = "price"
    total = "total"


def _pct(x: float | None, signed: bool = True) -> str:
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x * 100:+.1f}%" if signed else f"{x * 100:.1f}%"


def _checkpoint_cell(row: Any) -> str:
    status = str(row.status)
    if status == "pending":
        return "pending"
    if status == "no data":
        return "no data"
    mark = "" if status == "ok" else f" ({status})"
    return f"{_pct(row.excess)}{mark}"


def calls_table(run: ScoreRun) -> pd.DataFrame:
    """One row per call for display: checkpoints as excess in percent."""
    import pandas as pd

    calls, cps = run.scores.calls, run.scores.checkpoints
    cells: dict[str, dict[str, str]] = {}
    for row in cps.itertuples(index=False):
        if row.checkpoint != "latest":
            cells.setdefault(str(row.checkpoint), {})[row.call_id] = _checkpoint_cell(row)
    labels = [str(c) for c in cps["checkpoint"].cat.categories if c != "latest"]
    out = pd.DataFrame(
        {
            "broker": calls["broker"],
            "ticker": calls["ticker"],
            "name": calls["name"],
            "rating": calls["rating"],
            "published": calls["published"].dt.date.astype(str),
            "entry": calls["entry_session"].dt.date.astype(str),
            "entry price": calls["entry_price"].map(lambda v: "" if pd.isna(v) else f"{v:,.3f}"),
        }
    )
    for label in labels:
        out[label] = calls["call_id"].map(cells.get(label, {})).fillna("")
    out["horizon"] = calls["horizon"]
    out["excess"] = calls["excess"].map(_pct)
    out["band"] = calls["realised_band"].astype(object).where(calls["realised_band"].notna(), "")
    out["verdict"] = calls["verdict"].astype(str)
    detail = []
    for r in calls.itertuples(index=False):
        bits = []
        if str(r.status) == "open" and not pd.isna(r.sessions_remaining):
            bits.append(f"{r.sessions_remaining} sessions left")
        if r.window_hit is True:
            bits.append(f"in band in window from {pd.Timestamp(r.window_first_session).date()}")
        elif r.window_hit is False:
            bits.append("never in band in window")
        if r.reason:
            bits.append(r.reason)
        if getattr(r, "basis_note", ""):
            bits.append(r.basis_note)
        detail.append("; ".join(bits))
    out["detail"] = detail
    return out


def rollup_table(run: ScoreRun) -> pd.DataFrame:
    """The roll-up with percentages and the number each figure rests on."""
    import pandas as pd

    r = run.rollup
    calls = run.scores.calls.set_index("call_id")
    label = {
        cid: f"{t} {p.date()}"
        for cid, t, p in zip(calls.index, calls["ticker"], calls["published"], strict=True)
    }
    cal = run.calendar.set_index(run.by) if len(run.calendar) else None

    def cal_value(name: Any, col: str) -> Any:
        if cal is None or name not in cal.index:
            return None
        return cal.at[name, col]

    out = pd.DataFrame(
        {
            run.by: r[run.by],
            "positions" if run.positions else "calls": r["calls"],
            "matured": r["matured"],
            "open": r["open"],
            "no data": r["no_data"],
            "hit rate": [
                "" if n == 0 else f"{h / n:.0%} ({h}/{n})"
                for h, n in zip(r["hits"], r["scored"], strict=True)
            ],
            "mean excess": r["mean_excess"].map(_pct),
            "median": r["median_excess"].map(_pct),
            "95% CI": [
                "" if pd.isna(lo) else f"{_pct(lo)} to {_pct(hi)}"
                for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)
            ],
            "n": r["excess_n"],
            "best": [
                "" if pd.isna(x) else f"{label.get(c, c)} {_pct(x)}"
                for c, x in zip(r["best_call"], r["best_excess"], strict=True)
            ],
            "worst": [
                "" if pd.isna(x) else f"{label.get(c, c)} {_pct(x)}"
                for c, x in zip(r["worst_call"], r["worst_excess"], strict=True)
            ],
            "cal-time ann.": [_pct(cal_value(g, "annualised_mean")) for g in r[run.by]],
            "t": [
                ""
                if cal_value(g, "t_stat") is None or pd.isna(cal_value(g, "t_stat"))
                else f"{cal_value(g, 't_stat'):.2f}"
                for g in r[run.by]
            ],
            "sessions": [cal_value(g, "sessions") or 0 for g in r[run.by]],
        }
    )
    return out


def _json_document(run: ScoreRun) -> dict[str, Any]:
    from tracker.cli._render import jsonable
    from tracker.scoring.records import SCHEMA, to_records

    s = run.scores
    calls = to_records(s)
    if "basis_note" in s.calls.columns:
        for rec, note in zip(calls, s.calls["basis_note"], strict=True):
            rec["basis_note"] = note or None
    return jsonable(
        {
            "notice": run.banner,
            "schema": SCHEMA,
            "as_of": s.as_of.date().isoformat(),
            "as_of_session": s.as_of_session.date().isoformat(),
            "basis": run.basis,
            "entry": s.entry,
            "max_stale_sessions": s.max_stale_sessions,
            "calls": calls,
            "rollup": {
                "by": run.by,
                "positions": run.positions,
                "groups": run.rollup.to_dict(orient="records"),
            },
            "confusion": {
                "rows": "called rating",
                "columns": "realised band at the horizon",
                "counts": {
                    str(k): {str(c): int(v) for c, v in row.items()}
                    for k, row in run.confusion.iterrows()
                },
            },
            "calendar_time": run.calendar.to_dict(orient="records"),
            "notes": run.notes,
        }
    )


def _flat_calls(run: ScoreRun) -> pd.DataFrame:
    """Per-call rows with one column group per checkpoint, for csv."""
    s = run.scores
    keep = [c for c in s.calls.columns if c not in ("file",)]
    flat = s.calls[keep].copy()
    cps = s.checkpoints
    for label in cps["checkpoint"].cat.categories:
        part = cps.loc[cps["checkpoint"] == label].set_index("call_id")
        for col in ("session", "stock_return", "benchmark_return", "excess", "band", "status"):
            flat[f"{label}_{col}"] = flat["call_id"].map(part[col].astype(object))
    return flat


def _html(run: ScoreRun) -> str:
    import html

    parts = []
    if run.banner:
        parts.append(f"<!-- {html.escape(run.banner)} -->")
    parts += [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>tracker score</title>',
        "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>",
    ]
    if run.banner:
        parts.append(f'<p style="color:#b00"><strong>{html.escape(run.banner)}</strong></p>')
    s = run.scores
    parts.append(f"<h1>Calls scored as of {s.as_of_session.date()}</h1>")
    parts.append(calls_table(run).to_html(index=False, escape=True, na_rep=""))
    parts.append(f"<h2>By {run.by}{' (positions)' if run.positions else ''}</h2>")
    parts.append(rollup_table(run).to_html(index=False, escape=True, na_rep=""))
    parts.append("<h2>Called rating versus realised band (matured calls)</h2>")
    parts.append(run.confusion.to_html(escape=True))
    for note in run.notes:
        parts.append(f"<p>{html.escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _print_tables(run: ScoreRun) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 220)
    s = run.scores

    def table(frame: pd.DataFrame, title: str, index: bool = False) -> Table:
        t = Table(title=title, title_justify="left")
        if index:
            t.add_column(str(frame.index.name or ""))
        for col in frame.columns:
            t.add_column(str(col), overflow="fold")
        for key, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            cells = ["" if v is None else str(v) for v in row]
            t.add_row(*([str(key)] if index else []), *cells)
        return t

    console.print(
        table(
            calls_table(run),
            f"Calls scored as of {s.as_of_session.date()}"
            f" ({run.basis} basis, entry {s.entry}; excess over the benchmark)",
        )
    )
    title = f"By {run.by}" + (" (positions: reiterations counted once)" if run.positions else "")
    console.print(table(rollup_table(run), title))
    console.print(
        table(run.confusion, "Called rating versus realised band (matured calls)", index=True)
    )


def score_cmd(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Score as of this date (YYYY-MM-DD): no later price or call is used."
        ),
    ] = None,
    by: Annotated[
        By | None,
        typer.Option(
            "--by",
            help="Roll up by broker (default), analyst, report, rating or ticker; with csv, print the roll-up.",
        ),
    ] = None,
    entry: Annotated[Entry, typer.Option("--entry", help="Entry convention.")] = Entry.next_close,
    basis: Annotated[
        Basis,
        typer.Option("--basis", help="price: closes vs ^HSI; total: dividend-adjusted vs 2800.HK."),
    ] = Basis.price,
    benchmark: Annotated[
        str | None,
        typer.Option("--benchmark", help="Benchmark symbol for every call (default: the scale's)."),
    ] = None,
    positions: Annotated[
        bool, typer.Option("--positions", help="Roll-ups count positions: reiterations once.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the price store only; fetch nothing.")
    ] = False,
    source: Annotated[
        str,
        typer.Option(
            "--source", help="Where missing prices come from: yahoo, csv:DIR or simulated."
        ),
    ] = "yahoo",
    max_stale: Annotated[
        int | None,
        typer.Option(
            "--max-stale",
            min=0,
            max=2_460,
            help="Sessions a bar may be old at a checkpoint (default 3, at most 2460).",
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Score every call against its benchmark by the report's own rating bands.

    Checkpoints 1, 3, 6 and 12 months after entry; verdict at the scale's
    horizon (hit, right direction, miss; open calls: pending, on track, off
    track). Method and the JSON schema: docs/scoring.md.

    Example: tracker score --as-of 2026-03-31 --by analyst --format json
    """
    from tracker.cli._render import stderr, write_csv
    from tracker.prices import source_from_spec
    from tracker.scoring.run import run_score

    settings = load_settings()
    run = run_score(
        settings,
        parse_date(as_of, "--as-of"),
        (by or By.broker).value,
        entry.value,
        basis.value,
        benchmark.strip().upper() if benchmark else None,
        positions,
        None if offline else source_from_spec(source, settings.home),
        max_stale,
    )
    err = stderr()
    for note in run.notes:
        err.print(note, markup=False)
    if fmt is Format.json:
        import json
        import sys

        sys.stdout.write(json.dumps(_json_document(run), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt is Format.html:
        typer.echo(_html(run), nl=False)
        return
    if run.banner:
        typer.echo(f"# {run.banner}" if fmt is Format.csv else run.banner)
    if fmt is Format.csv:
        write_csv(_flat_calls(run) if by is None else run.rollup)
        return
    _print_tables(run)
