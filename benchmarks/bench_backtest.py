"""Backtests: the engine at scale, cold versus warm numba cache, versus backtrader, end to end.

Rows (issue 8):

- engine, 10,000 synthetic calls x 500 tickers x 10 years, warm, in process
  (target < 5 s), with peak memory;
- backtrader on the same spec and data (measured in the same run; target: the
  engine >= 20x faster), final equity of both compared;
- cold versus warm numba cache: the same small backtest as a whole process
  with an empty ``NUMBA_CACHE_DIR``, then with the cache it left;
- end to end: ``tracker backtest run backtests/huaan-hk-internet-2025.yaml`` as
  a whole process, cold (empty numba cache) and warm (target < 2 s), on a
  temporary home filled with the seeded simulated sample (no network);
- growth with the number of calls and of tickers (three sizes each).

The universe, the spec and the backtrader run come from ``tests/helpers/backtest_oracle.py``
(the tests compare the engine with backtrader through the same code).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import ROOT, Timing, time_call, time_process, tracker_argv

# The oracle (universe, spec, backtrader) is a test helper, shared here (harness puts tests/
# on the import path).
from helpers.backtest_oracle import (  # noqa: F401 (universe and bench_spec: bench_sweep)
    backtrader_run,
    bench_spec,
    engine_run,
    universe,
)

HUAAN = "backtests/huaan-hk-internet-2025.yaml"


# ----------------------------------------------------------------------------- processes

_SMALL = (
    "import sys, time; sys.path.insert(0, {bench!r}); t0 = time.perf_counter()\n"
    "from bench_backtest import universe, bench_spec, engine_run\n"
    "r = engine_run(universe(50, 2, 500), bench_spec())\n"
    "print(r.final_equity, time.perf_counter() - t0)\n"
)


def numba_cold_warm(repeat_cold: int, repeat_warm: int) -> list[Timing]:
    code = _SMALL.format(bench=str(Path(__file__).resolve().parent))
    argv = [sys.executable, "-c", code]
    cold_times = []
    for _ in range(repeat_cold):
        with tempfile.TemporaryDirectory() as cache:
            t = time_process(
                "engine process, cold numba cache",
                argv,
                repeat=1,
                warmup=0,
                env={"NUMBA_CACHE_DIR": cache},
            )
            cold_times.append(t)
    cache = tempfile.mkdtemp(prefix="numba-warm-")
    try:
        warm = time_process(
            "engine process, warm numba cache (500 calls x 50 tickers x 2 y)",
            argv,
            repeat=repeat_warm,
            warmup=1,
            env={"NUMBA_CACHE_DIR": cache},
        )
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    times = [c.median_s for c in cold_times]
    cold = Timing(
        "engine process, cold numba cache (500 calls x 50 tickers x 2 y)",
        float(np.median(times)),
        min(times),
        max(times),
        len(times),
        max(c.peak_mb or 0 for c in cold_times),
    )
    cold.extra["cold_over_warm"] = round(cold.median_s / warm.median_s, 1)
    return [cold, warm]


def end_to_end(repeat_cold: int, repeat_warm: int) -> tuple[list[Timing], list[str]]:
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    runs = home / "runs"
    env = {"TRACKER_HOME": str(home)}
    notes = []
    try:
        fill = subprocess.run(
            tracker_argv("prices", "update", "--recs", "--source", "simulated"),
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if fill.returncode not in (0, 2):
            raise RuntimeError(f"filling the store failed: {fill.stderr[-2000:]}")
        argv = tracker_argv("backtest", "run", HUAAN, "--offline", "--runs-dir", str(runs))
        cold_times = []
        for _ in range(repeat_cold):
            with tempfile.TemporaryDirectory() as cache:
                cold_times.append(
                    time_process(
                        "cold", argv, repeat=1, warmup=0, env={**env, "NUMBA_CACHE_DIR": cache}
                    )
                )
        cache = home / "numba-cache"
        warm = time_process(
            f"tracker backtest run {HUAAN}, warm",
            argv,
            repeat=repeat_warm,
            warmup=1,
            env={**env, "NUMBA_CACHE_DIR": str(cache)},
            target_s=2.0,
        )
        times = [c.median_s for c in cold_times]
        cold = Timing(
            f"tracker backtest run {HUAAN}, cold (empty numba cache)",
            float(np.median(times)),
            min(times),
            max(times),
            len(times),
            max(c.peak_mb or 0 for c in cold_times),
        )
        # Where the warm time goes: importing vectorbt alone, in a fresh process.
        imp = time_process(
            "python -c 'import vectorbt' (floor of any process that uses it)",
            [sys.executable, "-c", "import vectorbt"],
            repeat=repeat_warm,
            warmup=1,
            env={"NUMBA_CACHE_DIR": str(cache)},
        )
        notes.append(
            f"end to end warm: {warm.median_s:.2f} s, of which importing vectorbt takes"
            f" {imp.median_s:.2f} s in a fresh process on this machine"
        )
        return [cold, warm, imp], notes
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ----------------------------------------------------------------------------- run


def run(quick: bool = False) -> dict:
    import vectorbt  # noqa: F401  (import and compile before timing)

    if quick:
        size, repeat = (100, 3, 1_000), 3
        calls_sizes, ticker_sizes = (250, 500, 1_000), (25, 50, 100)
    else:
        size, repeat = (500, 10, 10_000), 5
        calls_sizes, ticker_sizes = (2_500, 5_000, 10_000), (125, 250, 500)
    n_tickers, years, n_calls = size
    spec = bench_spec()
    rows: list[Timing] = []
    notes: list[str] = []

    u = universe(n_tickers, years, n_calls)
    label = f"{n_calls:,} calls x {n_tickers} tickers x {years} y"
    engine = time_call(
        f"engine (vectorbt from_orders), {label}, warm",
        lambda: engine_run(u, spec),
        repeat=repeat,
        target_s=5.0,
    )
    result = engine_run(u, spec)
    engine.extra["trades"] = int((result.trades["status"] != "skipped").sum())
    engine.extra["final_equity_hkd"] = round(result.final_equity, 2)
    rows.append(engine)

    t0 = time.perf_counter()
    bt_equity = backtrader_run(u, spec)
    bt_s = time.perf_counter() - t0
    agree = abs(bt_equity - result.final_equity) / result.final_equity
    baseline = Timing(f"backtrader, same spec and data, {label}", bt_s, bt_s, bt_s, 1)
    baseline.extra["final_equity_hkd"] = round(bt_equity, 2)
    baseline.extra["equity_rel_diff"] = f"{agree:.1e}"
    baseline.extra["engine_speedup"] = round(bt_s / engine.median_s, 1)
    baseline.target = ">= 20x slower than the engine"
    baseline.passed = bt_s / engine.median_s >= 20 and agree < 1e-6
    rows.append(baseline)

    for n in calls_sizes:
        uu = universe(n_tickers, years, n)
        t = time_call(
            f"scaling: {n:,} calls x {n_tickers} tickers",
            lambda uu=uu: engine_run(uu, spec),
            repeat=3,
            trace_memory=False,
        )
        rows.append(t)
    for k in ticker_sizes:
        uu = universe(k, years, n_calls)
        t = time_call(
            f"scaling: {n_calls:,} calls x {k} tickers",
            lambda uu=uu: engine_run(uu, spec),
            repeat=3,
            trace_memory=False,
        )
        rows.append(t)

    rows += numba_cold_warm(repeat_cold=1 if quick else 2, repeat_warm=3 if quick else 5)
    e2e, e2e_notes = end_to_end(repeat_cold=1, repeat_warm=3 if quick else 5)
    rows += e2e
    notes += e2e_notes
    notes.append(
        "backtrader gets the same calls, prices, lots, sizing (value at the previous close,"
        " whole lots, at most max_positions, cash) and HK costs as a commission scheme;"
        " its schedule is computed with plain pandas. Final equities must agree to 1e-6."
    )
    return {"title": "Backtest", "rows": [r.as_row() for r in rows], "notes": notes}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, default=str))
