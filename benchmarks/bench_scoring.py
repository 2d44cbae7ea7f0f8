"""Scoring speed: every call of a synthetic universe at once, versus a per-call pandas loop.

Targets (full profile): 100,000 calls over 2,000 tickers and 10 years of HKEX
sessions scored in under 2 s, and at least 50 times faster than a
straightforward per-call pandas loop measured in the same run. The loop runs
on a random subsample of the calls (its time per call is extrapolated to all
of them) and its results must equal the vectorised ones on that subsample.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import time_call  # noqa: E402
from helpers.synthetic import make_universe  # noqa: E402

from tracker import sessions  # noqa: E402
from tracker.recs.book import load_scales  # noqa: E402
from tracker.scoring.core import score_calls  # noqa: E402

SCALES_DIR = HERE.parent / "recs" / "scales"
MAX_STALE = 3
MONTHS = (1, 3, 6, 12)


# --------------------------------------------------------------------------- the plain loop


def _bar(series: pd.Series, every: pd.DatetimeIndex, at: pd.Timestamp) -> tuple[float, int]:
    """The last bar at or before ``at`` and its age in sessions (NaN beyond MAX_STALE)."""
    pos = every.get_loc(at)
    for back in range(MAX_STALE + 1):
        if pos - back < 0:
            break
        value = series.get(every[pos - back], np.nan)
        if not np.isnan(value) and value > 0:
            return value, back
    return np.nan, -1


def _in_band(x_pp: float, band) -> bool:
    lo_ok = (
        band.lower_pp is None
        or x_pp > band.lower_pp
        or (band.lower_inclusive and x_pp == band.lower_pp)
    )
    hi_ok = (
        band.upper_pp is None
        or x_pp < band.upper_pp
        or (band.upper_inclusive and x_pp == band.upper_pp)
    )
    return lo_ok and hi_ok


def _hit(x_pp: float, band) -> bool:
    # Overshoot counts: positive calls need the lower edge, negative ones the upper.
    if band.lower_pp is not None and band.lower_pp >= 0:
        return band.lower_pp < x_pp or (band.lower_inclusive and x_pp == band.lower_pp)
    if band.upper_pp is not None and band.upper_pp <= 0:
        return x_pp < band.upper_pp or (band.upper_inclusive and x_pp == band.upper_pp)
    return _in_band(x_pp, band)


def score_one_by_one(calls, closes, index, scales, as_of) -> pd.DataFrame:
    """A straightforward per-call implementation of the same rules, with pandas lookups."""
    every = sessions.all_sessions()
    as_of_session = every[every <= as_of][-1]
    rows = []
    for call in calls.itertuples(index=False):
        if call.start_date > as_of:
            continue
        entry = every[every > call.start_date][0]
        band = scales[call.scale].band(call.rating)
        out = {"call_id": call.call_id, "verdict": "no data"}
        series = closes[call.ticker]
        p0 = series.get(entry, np.nan) if entry <= as_of_session else np.nan
        b0, _ = _bar(index, every, entry) if entry <= as_of_session else (np.nan, -1)
        ok = not np.isnan(p0) and not np.isnan(b0)
        for m in MONTHS:
            at = every[every >= entry + pd.DateOffset(months=m)][0]
            excess = np.nan
            if ok and at <= as_of_session:
                p, _ = _bar(series, every, at)
                b, _ = _bar(index, every, at)
                excess = (p / p0 - 1) - (b / b0 - 1)
            out[f"{m}M"] = excess
        horizon = every[every >= entry + pd.DateOffset(months=int(call.horizon_max_months))][0]
        start = every[every >= entry + pd.DateOffset(months=int(call.horizon_min_months))][0]
        x = out[f"{call.horizon_max_months}M"]
        if ok and horizon <= as_of_session and not np.isnan(x):
            x_pp = round(x * 100, 9)
            d = 1 if (band.lower_pp or -1) >= 0 else (-1 if (band.upper_pp or 1) <= 0 else 0)
            out["verdict"] = (
                "hit" if _hit(x_pp, band) else ("right direction" if d * x_pp > 0 else "miss")
            )
        reached = None
        if ok and call.horizon_min_months < call.horizon_max_months and start <= as_of_session:
            reached = False
            for t in every[(every >= start) & (every <= min(horizon, as_of_session))]:
                p, _ = _bar(series, every, t)
                b, _ = _bar(index, every, t)
                if (
                    not np.isnan(p)
                    and not np.isnan(b)
                    and _hit(round(((p / p0) - (b / b0)) * 100, 9), band)
                ):
                    reached = True
                    break
        out["window_hit"] = reached
        rows.append(out)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- comparison


def compare(vectorised, looped: pd.DataFrame) -> dict:
    calls = vectorised.calls.set_index("call_id")
    cps = vectorised.checkpoints
    mismatches = 0
    for label in (f"{m}M" for m in MONTHS):
        fast = cps.loc[cps["checkpoint"] == label].set_index("call_id")["excess"]
        fast = fast.reindex(looped["call_id"]).to_numpy(float)
        slow = looped[label].to_numpy(float)
        same = np.isclose(fast, slow, rtol=0, atol=1e-12) | (np.isnan(fast) & np.isnan(slow))
        mismatches += int((~same).sum())
    # Verdicts of matured calls (the loop leaves open calls at "no data").
    matured = (calls["status"].astype(str) == "matured").reindex(looped["call_id"]).to_numpy()
    fast_verdict = calls["verdict"].astype(str).reindex(looped["call_id"]).to_numpy()
    mismatches += int((fast_verdict[matured] != looped["verdict"].to_numpy()[matured]).sum())
    fast_window = calls["window_hit"].reindex(looped["call_id"]).astype(object).to_numpy()
    for f, s in zip(fast_window, looped["window_hit"], strict=True):
        if (f is pd.NA or f is None) != (s is None) or (s is not None and bool(f) != s):
            mismatches += 1
    return {"compared_calls": len(looped), "mismatches": mismatches}


def run(quick: bool = False) -> dict:
    n_tickers, years, n_calls = (200, 3, 10_000) if quick else (2000, 10, 100_000)
    n_loop = 200 if quick else 1000
    t0 = time.perf_counter()
    calls, closes, index = make_universe(n_tickers, years, n_calls, seed=0)
    made_s = time.perf_counter() - t0
    scales = load_scales(SCALES_DIR)
    as_of = closes.index[-1]

    result = {}

    def vectorised():
        result["scores"] = score_calls(
            calls, closes, index, scales, as_of, max_stale_sessions=MAX_STALE
        )

    fast = time_call(
        f"score_calls: {n_calls:,} calls x {n_tickers:,} tickers x {len(closes):,} sessions",
        vectorised,
        repeat=3 if quick else 5,
        target_s=None if quick else 2.0,
    )
    sample = calls.sample(n_loop, random_state=1)
    t0 = time.perf_counter()
    looped = score_one_by_one(sample, closes, index, scales, as_of)
    loop_s = time.perf_counter() - t0
    per_call = loop_s / n_loop
    extrapolated = per_call * n_calls
    speedup = extrapolated / fast.median_s
    check = compare(result["scores"], looped)
    fast.extra.update(
        speedup_vs_loop=round(speedup, 1),
        loop_per_call_ms=round(per_call * 1000, 3),
        compared_calls=check["compared_calls"],
        mismatches=check["mismatches"],
    )
    fast.passed = (fast.passed is not False) and speedup >= 50 and check["mismatches"] == 0
    loop_row = {
        "name": f"per-call pandas loop, {n_loop:,} calls measured, extrapolated to {n_calls:,}",
        "median_s": extrapolated,
        "min_s": extrapolated,
        "max_s": extrapolated,
        "runs": 1,
        "measured_s": round(loop_s, 3),
    }
    rows = [fast.as_row(), loop_row, *scaling(quick, scales)]
    verdicts = result["scores"].calls["verdict"]
    return {
        "title": "Scoring (tracker.scoring.core.score_calls)",
        "rows": rows,
        "notes": [
            f"synthetic universe (tests/helpers/synthetic.py, seed 0) built in {made_s:.2f} s;"
            f" {int(verdicts.isin(['hit', 'right direction', 'miss']).sum()):,}"
            " calls matured with a verdict",
            "targets (full profile): < 2 s, >= 50x the per-call loop, and the loop's results"
            " equal to the vectorised ones on its subsample (1M/3M/6M/12M excess within 1e-12,"
            " matured verdicts, months 6-12 window hits)",
        ],
    }


def scaling(quick: bool, scales) -> list[dict]:
    """How time grows with calls (tickers fixed) and with tickers (calls fixed): three sizes
    each."""
    if quick:
        base_tickers, years, base_calls = 200, 3, 10_000
    else:
        base_tickers, years, base_calls = 2000, 10, 100_000
    sizes = [(base_tickers, base_calls // 4), (base_tickers, base_calls // 2)]
    sizes += [(base_tickers // 4, base_calls), (base_tickers // 2, base_calls)]
    rows = []
    for n_tickers, n_calls in sizes:
        calls, closes, index = make_universe(n_tickers, years, n_calls, seed=0)
        as_of = closes.index[-1]
        t = time_call(
            f"scaling: {n_calls:,} calls x {n_tickers:,} tickers",
            lambda c=calls, p=closes, i=index, a=as_of: score_calls(
                c, p, i, scales, a, max_stale_sessions=MAX_STALE
            ),
            repeat=3,
            trace_memory=False,
        )
        t.extra["us_per_call"] = round(t.median_s / n_calls * 1e6, 2)
        rows.append(t.as_row())
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, default=str))
