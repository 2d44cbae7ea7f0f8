"""The engine against an independent, plain-Python implementation of the same spec.

The oracle below re-implements the documented rules (docs/backtest.md) from
scratch, day by day, with its own Hong Kong cost arithmetic (``Decimal``,
written from the published rates, not from tracker.backtest.costs), its own session
arithmetic (on the index of the price frame, which the synthetic universe
builds from every HKEX session), its own downgrade search and a one-lot-at-a-
time cash reduction. Final equity and every trade must agree within 1e-6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from helpers.synthetic import make_universe

from tracker.backtest.engine import run_backtest
from tracker.backtest.spec import BacktestSpec

RANK = {"buy": 5, "overweight": 4, "attention": 3, "neutral": 2, "underweight": 1, "sell": 0}


# ----------------------------------------------------------------------------- costs


CENT = Decimal("0.01")


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def oracle_cost(value: float, day: pd.Timestamp, etf: bool, spec: BacktestSpec) -> float:
    """HK charges of one order, from the published schedule, in exact decimals on the
    consideration in cents."""
    v = _cents(Decimal(repr(value)))
    if v <= 0 or not spec.costs.enabled:
        return 0.0
    d = day.date().isoformat()
    stamp_rate = Decimal("0.0013") if "2021-08-01" <= d < "2023-11-17" else Decimal("0.001")
    if etf and d >= "2015-02-13":
        stamp_rate = Decimal(0)
    stamp = (v * stamp_rate).quantize(Decimal("1"), rounding=ROUND_CEILING)
    sfc = _cents(v * Decimal("0.000027" if d >= "2014-11-01" else "0.00003"))
    afrc = _cents(v * Decimal("0.0000015")) if d >= "2022-01-01" else Decimal(0)
    if d >= "2023-01-01":
        trading = _cents(v * Decimal("0.0000565"))
    else:
        trading = _cents(v * Decimal("0.00005")) + Decimal("0.50")
    if d >= "2025-06-30":
        settle = _cents(v * Decimal("0.000042"))
    else:
        settle = _cents(min(max(v * Decimal("0.00002"), Decimal(2)), Decimal(100)))
    rate = Decimal(repr(spec.costs.commission_rate))
    commission = _cents(max(v * rate, Decimal(repr(spec.costs.commission_min_hkd))))
    return float(commission + stamp + sfc + afrc + trading + settle)


# ----------------------------------------------------------------------------- simulation


@dataclass
class Pos:
    call_id: str
    ticker: str
    shares: float
    entry_day: int
    exit_day: int
    entry_price: float
    exit_price: float
    etf: bool
    cost_in: float = 0.0


def oracle(calls, closes, opens, spec: BacktestSpec, lots, etfs, book=None):
    days = list(closes.index)
    n_days = len(days)
    fills = opens if spec.entry == "next-open" else closes
    has = fills.notna() | closes.notna()
    last_day = max(i for i in range(n_days) if has.iloc[i].any())

    def price(frame, t, i):
        v = frame.at[days[i], t] if t in frame.columns else float("nan")
        return float(v)

    def last_close(t, i):
        for j in range(i, -1, -1):
            v = price(closes, t, j)
            if not math.isnan(v):
                return v
        return float("nan")

    def entry_day_of(start):
        if spec.entry == "same-close":
            return next((i for i, d in enumerate(days) if d >= start), None)
        return next((i for i, d in enumerate(days) if d > start), None)

    def first_day_on_or_after(ts):
        return next((i for i, d in enumerate(days) if d >= ts), None)

    book = calls if book is None else book
    book_sorted = book.sort_values(["start_date", "published"], kind="stable").reset_index(
        drop=True
    )

    plan = []
    for _, c in calls.iterrows():
        e = entry_day_of(c["start_date"])
        row = {"call_id": c["call_id"], "ticker": c["ticker"], "skip": None}
        if e is None or e > last_day:
            row["skip"] = "awaiting"
            plan.append(row)
            continue
        p_in = price(fills, c["ticker"], e)
        if math.isnan(p_in):
            row["skip"] = "no data"
            plan.append(row)
            continue
        # when it is due
        due = None
        rule = spec.exit.rule
        if rule == "fixed":
            due = days[e] + pd.DateOffset(months=spec.exit.months)
        elif rule == "horizon":
            due = days[e] + pd.DateOffset(months=int(c["horizon_max_months"]))
        else:
            pos = book_sorted.index[book_sorted["call_id"] == c["call_id"]][0]
            for k in range(pos + 1, len(book_sorted)):
                later = book_sorted.iloc[k]
                if (
                    later["broker"] == c["broker"]
                    and later["ticker"] == c["ticker"]
                    and RANK[later["rating"]] < RANK[c["rating"]]
                ):
                    d_idx = entry_day_of(later["start_date"])
                    due = days[d_idx] if d_idx is not None else pd.Timestamp.max
                    break
            if spec.exit.months is not None:
                cap = days[e] + pd.DateOffset(months=spec.exit.months)
                cap_i = first_day_on_or_after(cap)
                cap = days[cap_i] if cap_i is not None else pd.Timestamp.max
                due = cap if due is None or cap < due else due
        x, p_out, closed = None, None, False
        if due is not None:
            start = first_day_on_or_after(due)
            if start is not None and start <= last_day:
                for j in range(start, last_day + 1):
                    v = price(fills, c["ticker"], j)
                    if not math.isnan(v):
                        x, p_out, closed = j, v, True
                        break
                if x is None:
                    x = start
            else:
                x = last_day
        else:
            x = last_day
        if not closed:
            p_out = last_close(c["ticker"], x)
        w = spec.sizing.weight(c["rating"])
        lot = lots.get(c["ticker"]) if spec.board_lots else 0
        if x <= e:
            row["skip"] = "exit not after entry"
        elif w <= 0:
            row["skip"] = "weight"
        elif spec.board_lots and not lot:
            row["skip"] = "lot"
        row.update(e=e, x=x, p_in=p_in, p_out=p_out, closed=closed, w=w, lot=lot or 0)
        plan.append(row)

    cash = spec.capital_hkd
    open_pos: list[Pos] = []
    result = {r["call_id"]: {"shares": 0.0, "pnl": None, "skip": r["skip"]} for r in plan}
    todo = [r for r in plan if r["skip"] is None]
    for t in range(n_days):
        value_prev = cash + sum(
            p.shares
            * (
                last_close(p.ticker, t - 1)
                if not math.isnan(last_close(p.ticker, t - 1))
                else p.entry_price
            )
            for p in open_pos
        )
        for p in [p for p in open_pos if p.exit_day == t]:
            proceeds = p.shares * p.exit_price
            cost = oracle_cost(proceeds, days[t], p.etf, spec)
            cash += proceeds - cost
            result[p.call_id]["pnl"] = proceeds - cost - p.shares * p.entry_price - p.cost_in
            open_pos.remove(p)
        for r in [r for r in todo if r["e"] == t]:
            p_in, lot = r["p_in"], r["lot"]
            if spec.sizing.method == "fixed":
                target = spec.sizing.amount_hkd
            else:
                target = value_prev * r["w"] / spec.sizing.max_positions
            shares = math.floor(target / (p_in * lot)) * lot if lot else target / p_in
            if shares <= 0:
                result[r["call_id"]]["skip"] = "below one lot"
                continue
            if len(open_pos) >= spec.sizing.max_positions:
                result[r["call_id"]]["skip"] = "max positions"
                continue
            etf = etfs.get(r["ticker"], False)
            cost = oracle_cost(shares * p_in, days[t], etf, spec)
            if shares * p_in + cost > cash:
                if lot:
                    shares = min(shares, math.floor(cash / (p_in * lot)) * lot)
                    while shares > 0:
                        cost = oracle_cost(shares * p_in, days[t], etf, spec)
                        if shares * p_in + cost <= cash:
                            break
                        shares -= lot
                else:
                    limit = min(shares * p_in, cash)
                    value = limit - oracle_cost(limit, days[t], etf, spec)
                    shares = max(value, 0.0) / p_in
                    cost = oracle_cost(shares * p_in, days[t], etf, spec)
                if shares <= 0:
                    result[r["call_id"]]["skip"] = "cash"
                    continue
            # The minimum order (docs/backtest.md): under one cent, or not worth its costs.
            if shares * p_in < 0.01 or cost >= shares * p_in:
                result[r["call_id"]]["skip"] = "minimum order"
                continue
            cash -= shares * p_in + cost
            open_pos.append(
                Pos(r["call_id"], r["ticker"], shares, t, r["x"], p_in, r["p_out"], etf, cost)
            )
            result[r["call_id"]]["shares"] = shares
    assert not open_pos
    return cash, result


# ----------------------------------------------------------------------------- scenarios

SCENARIOS = {
    "equal-lots-costs-fixed6": dict(
        exit={"rule": "fixed", "months": 6},
        sizing={"method": "equal", "max_positions": 12},
        capital_hkd=3_000_000,
    ),
    "rating-horizon-crowded": dict(
        exit={"rule": "horizon"},
        sizing={"method": "rating", "max_positions": 5},
    ),
    "fixed-amount-cash-runs-out": dict(
        exit={"rule": "fixed", "months": 12},
        sizing={"method": "fixed", "amount_hkd": 150_000, "max_positions": 1000},
        costs={"commission_rate": 0.0025, "commission_min_hkd": 100},
    ),
    "downgrade-cap-next-open": dict(
        entry="next-open",
        exit={"rule": "downgrade", "months": 9},
        sizing={"method": "equal", "max_positions": 15},
    ),
    "fractional-no-costs-same-close": dict(
        entry="same-close",
        exit={"rule": "fixed", "months": 3},
        sizing={"method": "equal", "max_positions": 8},
        costs={"enabled": False},
        board_lots=False,
    ),
    "fractional-fixed-cash-short": dict(
        exit={"rule": "fixed", "months": 4},
        board_lots=False,
        sizing={"method": "fixed", "amount_hkd": 90_000, "max_positions": 100},
        capital_hkd=500_000,
    ),
}


@pytest.fixture(scope="module")
def universe():
    calls, closes, index = make_universe(n_tickers=25, n_sessions_or_years=3, n_calls=160, seed=11)
    rng = np.random.default_rng(5)
    lots = {
        t: int(rng.choice([100, 200, 500, 1000, 2000])) if rng.random() > 0.08 else None
        for t in closes.columns
    }
    etfs = {t: bool(rng.random() < 0.15) for t in closes.columns}
    opens = closes * rng.uniform(0.98, 1.02, size=closes.shape)
    return calls, closes, opens, index, lots, etfs


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_agrees_with_the_oracle(universe, name):
    calls, closes, opens, index, lots, etfs = universe
    spec = BacktestSpec.model_validate({"name": "oracle", **SCENARIOS[name]})
    if spec.exit.rule == "downgrade":
        # Three brokers only, so that brokers often call the same ticker again.
        calls = calls.assign(broker=[f"B{int(b[-2:]) % 3}" for b in calls["broker"]])
        selected = calls[calls["rating"].isin(["buy", "overweight", "attention"])]
        selected = selected.reset_index(drop=True)
    else:
        selected = calls
    res = run_backtest(
        selected, closes, index, spec, opens=opens, book=calls, lots=lots, stamp_exempt=etfs
    )
    cash, by_call = oracle(selected, closes, opens, spec, lots, etfs, book=calls)

    assert res.final_equity == pytest.approx(cash, rel=1e-6)
    t = res.trades.set_index("call_id")
    # Trades are compared on value: an order worth under one cent is no trade on either side.
    traded = {k for k, v in by_call.items() if v["shares"] * t.at[k, "entry_price"] >= 0.01}
    engine_value = t["shares"] * t["entry_price"]
    assert set(t.index[engine_value >= 0.01]) == traded
    assert set(t.index[t["shares"] > 0]) == traded, "the engine placed an order under one cent"
    assert len(traded) >= 10, "scenario too thin to test anything"
    for call_id in traded:
        # Same shares (to 1e-6, or within a cent of value for tiny fractional orders).
        price = t.at[call_id, "entry_price"]
        assert t.at[call_id, "shares"] * price == pytest.approx(
            by_call[call_id]["shares"] * price, rel=1e-6, abs=0.01
        )
        assert t.at[call_id, "pnl_hkd"] == pytest.approx(
            by_call[call_id]["pnl"], rel=1e-6, abs=0.01
        )
    # Every skip has a reason.
    assert (t.loc[t["shares"] == 0, "reason"] != "").all()
    if spec.exit.rule == "downgrade":
        assert t["exit_rule"].str.startswith("downgraded").sum() >= 5
