"""A backtest oracle shared by the tests and the benchmarks: a seeded synthetic universe
with board lots, the benchmark's spec, and the same spec run by backtrader with HK costs
as a commission scheme (an independent implementation the engine is compared with).

Its holes are forward/back-filled so that backtrader gets one bar per session for every
feed (it cannot skip a missing bar of one stock the way the engine does).
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import numpy as np

LOTS = (100, 200, 500, 1000, 2000)
SPEC = {
    "name": "bench",
    "exit": {"rule": "fixed", "months": 6},
    "sizing": {"method": "equal", "max_positions": 600},
    "capital_hkd": 100_000_000,
    "costs": {"commission_rate": 0.0003, "commission_min_hkd": 3},
    "board_lots": True,
}


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
