"""From a spec file and ``--vary`` options to a written sweep folder (the I/O edge).

A sweep folder sits beside the spec's runs (``backtests/runs/<spec>/<stamp>/``)
and is written atomically the same way. Its files:

``sweep.json``
    ``{"variants": [{<varied fields>, <statistics>, "error"}, ...]}``.
``variants.csv``
    The same rows as CSV.
``report.html``
    Variants table, heatmap of excess return over two fields, decay curve.
``manifest.json``
    As for a run, plus ``kind: "sweep"``, ``vary`` and ``variants``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tracker.backtest.spec import BacktestSpec, load_spec

if TYPE_CHECKING:
    from tracker.backtest.sweep import SweepResult
    from tracker.config import Settings
    from tracker.prices import PriceSource

#: Files of a sweep folder.
SWEEP_FILES = ("sweep.json", "variants.csv", "report.html", "manifest.json")


@dataclass(frozen=True)
class SweepOutcome:
    path: Path
    spec: BacktestSpec
    sweep: SweepResult
    frame: pd.DataFrame
    manifest: dict
    banner: str | None
    notes: tuple[str, ...]
    problems: tuple[str, ...] = ()


def sweep_document(frame: pd.DataFrame) -> dict:
    """``{"variants": [...]}``: one object per variant, varied fields under their dotted
    names, then the statistics; ``error`` only for a variant that could not run."""
    rows = []
    for rec in frame.to_dict(orient="records"):
        err = rec.pop("error", "")
        if err:
            rec["error"] = err
        rows.append(rec)
    return {"variants": rows}


def run_sweep_file(
    spec_path: Path,
    settings: Settings,
    vary: Sequence[str],
    *,
    heatmap: Sequence[str] | None = None,
    as_of: date | None = None,
    source: PriceSource | None = None,
    runs_dir: Path | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    command: str = "",
) -> SweepOutcome:
    """Run a sweep of a spec file and write its folder.

    Parameters
    ----------
    vary
        ``FIELD=V1,V2,...`` texts (:func:`tracker.backtest.sweep.parse_vary`).
    heatmap
        Two varied fields for the report's heatmap (default: see
        :func:`tracker.backtest.sweep_report.heatmap_fields`).
    Others
        As :func:`tracker.backtest.run.run_spec_file`.

    Raises
    ------
    SweepError
        Bad ``--vary`` or heatmap fields, too many variants, invalid variants; all
        before any price is read.
    """
    from tracker.backtest.run import _load_inputs, _manifest
    from tracker.backtest.runs import csv_text, json_text, write_run
    from tracker.backtest.sweep import SweepError, expand, parse_vary, run_sweep, variants_frame
    from tracker.backtest.sweep_report import render_sweep_report

    say = progress or (lambda _msg: None)
    spec = load_spec(spec_path)
    spec_text = spec_path.read_bytes()
    fields = parse_vary(vary)
    if not fields:
        raise SweepError("a sweep needs at least one --vary FIELD=V1,V2,...")
    if heatmap and (len(heatmap) != 2 or any(f not in fields for f in heatmap)):
        raise SweepError(
            f"--heatmap {','.join(heatmap)}: give two of the varied fields ({', '.join(fields)})"
        )
    expand(spec, fields)  # invalid variants fail before any price is read
    inputs = _load_inputs(spec, settings, as_of, source, say)
    sweep = run_sweep(
        inputs.calls,
        inputs.closes[inputs.tickers],
        inputs.bench,
        spec,
        fields,
        opens=inputs.opens[inputs.tickers] if inputs.opens is not None else None,
        book=inputs.book,
        lots=inputs.lots,
        stamp_exempt=inputs.exempt,
        as_of=as_of,
        progress=say,
    )
    frame = variants_frame(sweep)
    first = next(r for r in sweep.results if r is not None)
    now = now or datetime.now(UTC)
    manifest = _manifest(spec, spec_path, spec_text, inputs, first, settings, as_of, command, now)
    manifest["data_end"] = max(r.equity.index[-1] for r in sweep.results if r is not None)
    manifest.update(
        kind="sweep",
        vary={k: list(v) for k, v in fields.items()},
        variants=len(sweep.variants),
        simulations=sweep.n_simulations,
    )
    banner = inputs.info.banner()
    from tracker.prices.staleness import panel_staleness

    # As a run says it: staleness in one sentence; failures with reasons go to stderr only.
    freshness = panel_staleness(inputs.info, as_of)
    notes = tuple(n for n in (freshness.sentence(),) if n)
    failed = sum(1 for e in sweep.errors if e)
    warnings = (*notes, *([f"{failed} variant(s) could not run (see error)"] if failed else []))
    say("writing the report")
    html = render_sweep_report(
        spec, frame, tuple(fields), manifest, heatmap=heatmap, warnings=warnings, banner=banner
    )
    files = {
        "sweep.json": json_text(sweep_document(frame), banner),
        "variants.csv": csv_text(frame, banner),
        "report.html": html,
        "manifest.json": json_text(manifest, banner),
    }
    root = runs_dir if runs_dir is not None else spec_path.parent / "runs"
    path = write_run(root, spec.name, files, now)
    return SweepOutcome(
        path, spec, sweep, frame, manifest, banner, tuple(warnings), tuple(freshness.problems())
    )
