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

The synthetic universe comes from ``tests/helpers/synthetic.py``; its holes are
forward/back-filled here so that backtrader gets one bar per session for every
feed (it cannot skip a missing bar of one stock the way the engine does).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
from harness import ROOT, Timing, time_call, time_process, tracker_argv

LOTS = (100, 200, 500, 1000, 2000)
SPEC = {
    "name": "bench",
    "exit": {"rule": "fixed", "months": 6},
    "sizing": {"method": "equal", "max_positions": 600},
    "capital_hkd": 100_000_000,
    "costs": {"commission_rate": 0.0003, "commission_min_hkd": 3},
    "board_lots": True,
}
HUAAN = "backtests/huaan-hk-internet-2025.yaml"


def universe(n_tickers: int, years: int, n_calls: int, seed: int = 0):
    from helpers.synthetic import make_universe

    calls, closes, index = make_universe(n_tickers, years, n_calls, seed)
    closes = closes.ffill().bfill()
    index = index.ffill().bfill()
    rng = np.random.default_rng(seed)
    lots = {t: int(rng.choice(LOTS)) for t in closes.columns}
    return calls, closes, index, lots


def bench_spec(**overrides):
    from tracker.backtest.spec import BacktestSpec

    return BacktestSpec.model_validate({**SPEC, **overrides})


def engine_run(u, spec):
    from tracker.backtest.engine import run_backtest

    calls, closes, index, lots = u
    return run_backtest(calls, closes, index, spec, lots=lots)


# ----------------------------------------------------------------------------- backtrader


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hk_cost(value: float, day: str, commission_rate: float, commission_min: float) -> float:
    """HK charges of one order on a date (stocks only), in exact decimals on the cents."""
    v = _cents(Decimal(repr(abs(value))))
    if v <= 0:
        return 0.0
    stamp_rate = Decimal("0.0013") if "2021-08-01" <= day < "2023-11-17" else Decimal("0.001")
    stamp = (v * stamp_rate).quantize(Decimal("1"), rounding=ROUND_CEILING)
    sfc = _cents(v * Decimal("0.000027" if day >= "2014-11-01" else "0.00003"))
    afrc = _cents(v * Decimal("0.0000015")) if day >= "2022-01-01" else Decimal(0)
    if day >= "2023-01-01":
        fee = _cents(v * Decimal("0.0000565"))
    else:
        fee = _cents(v * Decimal("0.00005")) + Decimal("0.50")
    if day >= "2025-06-30":
        settle = _cents(v * Decimal("0.000042"))
    else:
        settle = _cents(min(max(v * Decimal("0.00002"), Decimal(2)), Decimal(100)))
    commission = _cents(max(v * Decimal(repr(commission_rate)), Decimal(repr(commission_min))))
    return float(commission + stamp + sfc + afrc + fee + settle)


def schedule(calls, closes, months: int):
    """Entry and exit bar of each call, in plain pandas on the frame's sessions:
    entry at the first session after the call's start date, exit at the first
    session on or after entry + ``months`` (or the last session, then "open")."""
    import pandas as pd

    days = closes.index
    e = days.searchsorted(pd.DatetimeIndex(calls["start_date"]), side="right")
    rows = []
    for k, (i, ticker) in enumerate(zip(e, calls["ticker"], strict=True)):
        if i >= len(days):
            continue  # awaiting entry
        x = days.searchsorted(days[i] + pd.DateOffset(months=months), side="left")
        x = min(x, len(days) - 1)
        if x <= i:
            continue
        rows.append((k, int(i), int(x), ticker))
    return rows


def backtrader_run(u, spec) -> float:
    """Final equity of the same spec run by backtrader (cheat-on-close market orders,
    HK costs as commission, sizing on the previous close, lots, max positions, cash)."""
    import backtrader as bt

    calls, closes, _index, lots = u
    rows = schedule(calls, closes, spec.exit.months)
    days = [d.strftime("%Y-%m-%d") for d in closes.index]
    tickers = list(closes.columns)
    col = {t: j for j, t in enumerate(tickers)}
    entries: dict[int, list] = {}
    for k, i, x, t in rows:
        entries.setdefault(i, []).append((k, x, t))
    rate, minimum = spec.costs.commission_rate, spec.costs.commission_min_hkd
    state = {"day": days[0], "last_costs": 0.0}

    class HKCosts(bt.CommInfoBase):
        params = (("stocklike", True), ("commtype", bt.CommInfoBase.COMM_FIXED))

        def _getcommission(self, size, price, pseudoexec):
            return hk_cost(abs(size) * price, state["day"], rate, minimum)

    class FollowCalls(bt.Strategy):
        def __init__(self):
            self.held: dict[int, tuple[int, int, float]] = {}  # call -> (col, exit bar, shares)
            self.exits: dict[int, list[int]] = {}

        def next(self):
            i = len(self) - 1
            state["day"] = days[i]
            cash = self.broker.getcash()
            value_prev = (
                cash + sum(sh * self.datas[c].close[-1] for c, _x, sh in self.held.values())
                if i
                else cash
            )
            for k in self.exits.pop(i, []):
                c, _x, sh = self.held.pop(k)
                px = self.datas[c].close[0]
                cost = hk_cost(sh * px, days[i], rate, minimum)
                self.sell(data=self.datas[c], size=sh)
                cash += sh * px - cost
                if i == len(days) - 1:
                    state["last_costs"] += cost
            for k, x, t in entries.get(i, []):
                c = col[t]
                px = self.datas[c].close[0]
                lot = lots[t]
                target = value_prev / spec.sizing.max_positions
                sh = math.floor(target / (px * lot)) * lot
                if sh <= 0 or len(self.held) >= spec.sizing.max_positions:
                    continue
                sh = min(sh, math.floor(cash / (px * lot)) * lot)
                while sh > 0 and sh * px + hk_cost(sh * px, days[i], rate, minimum) > cash:
                    sh -= lot
                if sh <= 0:
                    continue
                cash -= sh * px + hk_cost(sh * px, days[i], rate, minimum)
                self.buy(data=self.datas[c], size=sh)
                self.held[k] = (c, x, sh)
                self.exits.setdefault(x, []).append(k)

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.set_coc(True)
    cerebro.broker.set_checksubmit(False)
    cerebro.broker.setcash(spec.capital_hkd)
    cerebro.broker.addcommissioninfo(HKCosts())
    cerebro.addstrategy(FollowCalls)
    for t in tickers:
        frame = closes[[t]].rename(columns={t: "close"})
        for field in ("open", "high", "low"):
            frame[field] = frame["close"]
        frame["volume"] = 1e9
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, openinterest=None), name=t)
    cerebro.run(runonce=True, preload=True)
    # Orders of the last bar are never executed (there is no next bar): the positions
    # are worth their close, less the costs their sale would have paid.
    return float(cerebro.broker.getvalue()) - state["last_costs"]


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
