"""The trades table of a backtest (``trades.csv``): one row per selected call, traded or not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.backtest.costs import COST_COMPONENTS
from tracker.backtest.orders import OrderPlan
from tracker.backtest.schedule import ExitSchedule

#: Columns of the trades frame (and trades.csv): one row per selected call.
TRADE_COLUMNS = [
    "call_id",
    "report",
    "broker",
    "published",
    "ticker",
    "name",
    "rating",
    "status",
    "reason",
    "entry_session",
    "entry_price",
    "exit_due",
    "exit_session",
    "exit_price",
    "shares",
    "lot",
    "entry_value_hkd",
    "entry_costs_hkd",
    "exit_value_hkd",
    "exit_costs_hkd",
    "pnl_hkd",
    "return_pct",
    "holding_sessions",
    "exit_rule",
    "note",
]

#: Trade statuses: sold as planned, still held when the data end (sold on the last
#: session and marked open), or never bought (``reason`` says why).
CLOSED, OPEN, SKIPPED = "closed", "open", "skipped"


def trade_status(n_calls: int, traded: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Per call: :data:`CLOSED` or :data:`OPEN` for the ``traded`` positions
    (by ``closed``, aligned with the calls), :data:`SKIPPED` for the others."""
    status = np.full(n_calls, SKIPPED, dtype=object)
    status[traded] = np.where(closed[traded], CLOSED, OPEN)
    return status


def cost_totals(plan: OrderPlan) -> dict[str, float]:
    """HKD paid per cost component over every planned order, and ``total`` (to the cent)."""
    costs = {
        name: round(float(plan.entry_costs[:, k].sum() + plan.exit_costs[:, k].sum()), 2)
        for k, name in enumerate(COST_COMPONENTS)
    }
    costs["total"] = round(sum(costs.values()), 2)
    return costs


def trades_frame(
    calls,
    entry,
    sched: ExitSchedule,
    status,
    reason,
    lot,
    grid,
    cand,
    plan: OrderPlan,
    pos,
    trades_rec,
) -> pd.DataFrame:
    """The trades table (:data:`TRADE_COLUMNS`), one row per call in ``calls`` order.

    ``cand`` are the calls the plan sized (aligned with ``plan``), ``pos`` those
    bought (aligned with ``trades_rec``, vectorbt's checked trade records);
    ``status``, ``reason`` and ``lot`` are per call.
    """
    n = len(calls)
    shares = np.zeros(n)
    shares[cand] = plan.shares
    entry_cost = np.zeros(n)
    exit_cost = np.zeros(n)
    entry_cost[cand] = plan.entry_costs.sum(axis=1)
    exit_cost[cand] = plan.exit_costs.sum(axis=1)
    note = np.full(n, "", dtype=object)
    note[cand] = plan.note
    traded = shares > 0
    pnl = np.full(n, np.nan)
    pnl[pos] = trades_rec["pnl"]
    entry_price = entry["entry_price"].to_numpy(dtype=float)
    entry_value = np.where(traded, shares * entry_price, np.nan)
    exit_price = sched.exit_price
    exit_value = np.where(traded, shares * exit_price, np.nan)
    exit_session = np.where(traded, grid[np.minimum(sched.exit_row, len(grid) - 1)], pd.NaT)
    holding = np.where(traded, sched.exit_row - sched.entry_row, -1)
    frame = pd.DataFrame(
        {
            "call_id": calls["call_id"],
            "report": calls["report"],
            "broker": calls["broker"],
            "published": calls["published"],
            "ticker": calls["ticker"],
            "name": calls["name"],
            "rating": calls["rating"],
            "status": status,
            "reason": reason,
            "entry_session": pd.DatetimeIndex(entry["entry_session"]),
            "entry_price": entry_price,
            "exit_due": sched.due,
            "exit_session": pd.DatetimeIndex(exit_session),
            "exit_price": np.where(traded, exit_price, np.nan),
            "shares": shares,
            "lot": lot,
            "entry_value_hkd": entry_value,
            "entry_costs_hkd": np.where(traded, entry_cost, np.nan),
            "exit_value_hkd": exit_value,
            "exit_costs_hkd": np.where(traded, exit_cost, np.nan),
            "pnl_hkd": pnl,
            "return_pct": 100.0 * pnl / (entry_value + entry_cost),
            "holding_sessions": np.where(traded, holding, np.nan),
            "exit_rule": sched.exit_rule,
            "note": note,
        },
        columns=TRADE_COLUMNS,
    )
    return frame
