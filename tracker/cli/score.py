"""``tracker score``: every call against its benchmark, by the report's own thresholds.

The computation is :func:`tracker.scoring.run.run_score`; this module parses the
options and renders the result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.render.formats import pct
from tracker.vocab import Basis, EntryConvention, GroupBy

if TYPE_CHECKING:
    import pandas as pd

    from tracker.scoring.run import ScoreRun


class Format(StrEnum):
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"
    html = "html"


# The option values are the project's vocabulary (typer takes the enums as they are).
By = GroupBy
Entry = EntryConvention

#: Table priorities of `score`'s per-call columns (0 always shown; higher dropped first).
CALL_PRIORITY = {
    "ticker": 0,
    "excess": 0,
    "verdict": 0,
    "published": 1,
    "rating": 2,
    "name": 3,
    "horizon": 4,
    "band": 5,
    "broker": 6,
    "6M": 7,
    "12M": 7,
    "entry price": 8,
    "entry": 9,
    "detail": 11,
}
#: Text columns of the score tables (folded or cut); every other cell is never broken.
TEXT_COLUMNS = {"broker", "name", "detail", "best", "worst"}
#: Right-aligned columns of the score tables.
NUMBER_COLUMNS = {"entry price", "excess", "mean excess", "median", "n", "t", "sessions"}
ROLLUP_PRIORITY = {
    "hit rate": 0,
    "mean excess": 0,
    "calls": 1,
    "positions": 1,
    "95% CI": 2,
    "matured": 3,
    "open": 3,
    "median": 4,
    "n": 4,
    "no data": 5,
    "best": 6,
    "worst": 6,
    "cal-time ann.": 7,
    "t": 7,
    "sessions": 8,
}


def _columns(frame: pd.DataFrame, priority: dict[str, int], default: int = 10) -> list:
    """Output columns of a display frame: the first always shown, the rest by ``priority``."""
    from tracker.cli.output import Col

    cols = []
    for i, name in enumerate(str(c) for c in frame.columns):
        numeric = name in NUMBER_COLUMNS or frame[frame.columns[i]].dtype.kind in "iuf"
        kind = "text" if name in TEXT_COLUMNS else "number" if numeric else "token"
        rank = 0 if i == 0 else priority.get(name, default)
        cols.append(Col(name, kind=kind, priority=rank, cut=True))
    return cols


def _pct(x: float | None) -> str:
    return pct(x, 1, signed=True)


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
    if run.targets is not None:
        t = _with_targets(run)
        out["target met"] = [
            "" if n == 0 else f"{k / n:.0%} ({k}/{n})"
            for k, n in zip(t["target_met"], t["target_n"], strict=True)
        ]
        out["buy share"] = t["buy_share"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    return out


def _json_document(run: ScoreRun) -> dict[str, Any]:
    from tracker.cli._render import jsonable
    from tracker.scoring.records import SCHEMA, to_records

    s = run.scores
    calls = to_records(s)
    groups = _with_targets(run).to_dict(orient="records")
    if run.targets is not None:
        from tracker.scoring.target_records import revision_records, target_records

        for rec, target, rev in zip(
            calls,
            target_records(run.targets.targets),
            revision_records(run.targets.revisions),
            strict=True,
        ):
            rec["target"] = target
            rec.update(rev)
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
                "groups": groups,
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


def _with_targets(run: ScoreRun) -> pd.DataFrame:
    """The roll-up with the target columns of each group (when targets were scored)."""
    if run.targets is None:
        return run.rollup
    return run.rollup.merge(run.targets.rollup, on=run.by, how="left")


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
    from tracker.render.html import render_page

    return render_page(
        "score.html.j2",
        banner=run.banner,
        as_of=run.scores.as_of_session.date(),
        calls_table=calls_table(run).to_html(index=False, escape=True, na_rep=""),
        by=run.by,
        positions=run.positions,
        rollup_table=rollup_table(run).to_html(index=False, escape=True, na_rep=""),
        confusion_table=run.confusion.to_html(escape=True),
        notes=run.notes,
    )


def _print_tables(run: ScoreRun) -> None:
    """The calls, the roll-up and the confusion matrix as tables that fit the terminal."""
    from tracker.cli.output import emit_rows, stdout_console

    s = run.scores
    calls = calls_table(run)
    emit_rows(
        calls,
        _columns(calls, CALL_PRIORITY),
        "table",
        title=f"Calls scored as of {s.as_of_session.date()}"
        f" ({run.basis} basis, entry {s.entry}; excess over the benchmark)",
    )
    stdout_console().print()
    rollup = rollup_table(run)
    title = f"By {run.by}" + (" (positions: reiterations counted once)" if run.positions else "")
    emit_rows(rollup, _columns(rollup, ROLLUP_PRIORITY), "table", title=title)
    stdout_console().print()
    confusion = run.confusion.reset_index()
    confusion.columns = [str(c) for c in confusion.columns]
    emit_rows(
        confusion,
        _columns(confusion, {}, default=1),
        "table",
        title="Called rating versus realised band (matured calls)",
    )


def _decay(settings, as_of, by, entry, benchmark, offline, source, max_stale, fmt) -> None:
    """``--decay``: how much of each group's edge is left for a reader who acts late."""
    from tracker.cli._render import write_json
    from tracker.cli.output import OutputFormat, banner, chosen_format, emit_rows
    from tracker.prices import source_from_spec
    from tracker.render.formats import pct
    from tracker.scoring.decay import run_decay

    if fmt is Format.html:
        raise typer.BadParameter("--decay prints table, tsv, csv or json", param_hint="--format")
    group = (by or By.BROKER).value
    table, notice = run_decay(
        settings,
        parse_date(as_of, "--as-of"),
        group,
        entry.value,
        benchmark.strip().upper() if benchmark else None,
        None if offline else source_from_spec(source, settings.home),
        max_stale,
    )
    chosen = chosen_format(None if fmt is None else fmt.value)
    if chosen is OutputFormat.json:
        write_json({"notice": notice, "by": group, "groups": table.to_dict(orient="records")})
        return
    if notice:
        banner(notice, chosen)
    if chosen is not OutputFormat.table:
        emit_rows(table, None, chosen)
        return
    shown = table.copy()
    for col in shown.columns[2:]:
        shown[col] = [pct(v, 1, signed=not col.startswith("left")) for v in shown[col]]
    shown.columns = [
        c.replace("excess_d", "+").replace("left_d", "left at +") for c in shown.columns
    ]
    emit_rows(
        shown,
        _columns(shown, {}, default=1),
        OutputFormat.table,
        title="Mean directional excess at the horizon, entering N sessions after the usual"
        " entry (calls matured at every delay)",
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
            help=(
                "Roll up by broker (default), analyst, report, rating or ticker;"
                " with csv, print the roll-up."
            ),
        ),
    ] = None,
    entry: Annotated[Entry, typer.Option("--entry", help="Entry convention.")] = Entry.NEXT_CLOSE,
    basis: Annotated[
        Basis,
        typer.Option("--basis", help="price: closes vs ^HSI; total: dividend-adjusted vs 2800.HK."),
    ] = Basis.PRICE,
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
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            help="table (default on a terminal), tsv (default in a pipe), csv, json or html.",
        ),
    ] = None,
    decay: Annotated[
        bool,
        typer.Option(
            "--decay",
            help="Mean excess at the horizon per group for entries 0, 1, 2, 5, 10 and 20"
            " sessions after the usual entry (price basis).",
        ),
    ] = False,
) -> None:
    """Score every call against its benchmark by the report's own rating bands.

    Checkpoints 1, 3, 6 and 12 months after entry; verdict at the scale's
    horizon (hit, right direction, miss; open calls: pending, on track, off
    track). Method and the JSON schema: docs/scoring.md.

    Example: tracker score --as-of 2026-03-31 --by analyst --format json
    """
    from tracker.cli.output import (
        OutputFormat,
        banner,
        chosen_format,
        detail,
        emit_rows,
        note,
    )
    from tracker.prices import source_from_spec
    from tracker.scoring.run import run_score

    settings = load_settings()
    if decay:
        _decay(settings, as_of, by, entry, benchmark, offline, source, max_stale, fmt)
        return
    run = run_score(
        settings,
        parse_date(as_of, "--as-of"),
        (by or By.BROKER).value,
        entry.value,
        basis.value,
        benchmark.strip().upper() if benchmark else None,
        positions,
        None if offline else source_from_spec(source, settings.home),
        max_stale,
    )
    note(*run.notes)
    if run.staleness is not None:
        detail(*run.staleness.details())
    if fmt is Format.json:
        import sys

        from tracker.render.formats import json_dumps

        sys.stdout.write(json_dumps(_json_document(run)) + "\n")
        return
    if fmt is Format.html:
        typer.echo(_html(run), nl=False)
        return
    chosen = chosen_format(None if fmt is None else fmt.value)
    if run.banner:
        banner(run.banner, chosen)
    if chosen is not OutputFormat.table:
        emit_rows(_flat_calls(run) if by is None else _with_targets(run), None, chosen)
        return
    _print_tables(run)
