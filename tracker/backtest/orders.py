"""Order sizes, board lots, cash and exact costs: the order plan handed to vectorbt.

The Hong Kong charges are not proportional (stamp duty rounds up to the
dollar, the commission has a minimum), so each order's cost depends on its
exact number of shares. The plan walks the sessions that have orders, in
order, and on each one:

1. values the portfolio at the **previous session's close** (cash plus open
   positions): the last value known before the day's orders;
2. sells the positions due (their proceeds, less costs, are available at once);
3. buys the day's new calls in book order. Each gets a target value —
   ``equal``: value ÷ ``max_positions``; ``rating``: that times the rating's
   weight; ``fixed``: the amount — rounded **down** to whole board lots.
   A call whose target buys less than one lot is skipped. When
   ``max_positions`` positions are open the call is skipped. When cash does
   not cover the order and its costs, the order is **reduced** to the most
   whole lots cash allows (costs included); if not even one lot fits it is
   skipped. **The minimum order**: an order (after any reduction) worth less
   than ``MIN_ORDER_HKD`` (one cent), or whose costs would equal or exceed its
   value, is never placed. Every skip and reduction is reported with its reason. A sale
   whose costs would exceed its proceeds (a position that lost nearly all its
   value) is charged its proceeds, and its note says so.

The result (shares and the exact cost of every buy and sell) goes to
``vectorbt.Portfolio.from_orders`` as order sizes and per-order
``fixed_fees``, so vectorbt's cash, value and trade records carry the exact
costs; vectorbt is told to raise if it ever rejects an order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tracker.backtest.costs import COST_COMPONENTS, cost_components

#: The smallest order ever placed, HKD: a fractional order sized out of the last cents (or
#: the floating residue) of cash is no trade. An order whose costs reach its value is not
#: placed either (see ``plan_orders``).
MIN_ORDER_HKD = 0.01


@dataclass(frozen=True)
class CostModel:
    """Costs of orders on the rows of a session grid (rates looked up once per row)."""

    enabled: bool
    rates: dict[
        str, np.ndarray
    ]  # each field of tracker.backtest.costs.RATE_FIELDS, one value per row
    commission_rate: float = 0.0
    commission_min_hkd: float = 0.0

    def __call__(self, value: np.ndarray, row: int | np.ndarray, exempt: np.ndarray) -> np.ndarray:
        """Cost components (n × len(COST_COMPONENTS), HKD) of orders of ``value`` HKD on ``row``."""
        value = np.atleast_1d(np.asarray(value, dtype=float))
        if not self.enabled:
            return np.zeros((len(value), len(COST_COMPONENTS)))
        rows = np.broadcast_to(np.asarray(row), value.shape)
        rates = {k: v[rows] for k, v in self.rates.items()}
        return cost_components(
            value, rates, np.atleast_1d(exempt), self.commission_rate, self.commission_min_hkd
        )


@dataclass(frozen=True)
class Candidates:
    """Calls that can be traded, sorted by entry row then book order (arrays aligned)."""

    entry_row: np.ndarray  # int, row of the grid
    exit_row: np.ndarray  # int, > entry_row
    ticker_col: np.ndarray  # int, column of the price matrices
    entry_price: np.ndarray  # HKD per share
    exit_price: np.ndarray  # HKD per share
    weight: np.ndarray  # sizing multiple (> 0)
    lot: np.ndarray  # shares per board lot; 0 = fractional shares allowed
    exempt: np.ndarray  # bool: no stamp duty (ETF)

    def __len__(self) -> int:
        return len(self.entry_row)


@dataclass(frozen=True)
class OrderPlan:
    shares: np.ndarray  # bought (and later sold) per candidate; 0 = skipped
    skip_reason: np.ndarray  # object: why a candidate was not bought ("" if bought)
    note: np.ndarray  # object: e.g. "reduced by cash" ("" otherwise)
    entry_costs: np.ndarray  # (n, len(COST_COMPONENTS)) HKD
    exit_costs: np.ndarray  # (n, len(COST_COMPONENTS)) HKD
    final_cash: float


def _fit_to_cash(
    shares: float,
    price: float,
    lot: float,
    cash: float,
    margin: float,
    row: int,
    exempt: bool,
    costs: CostModel,
) -> tuple[float, np.ndarray]:
    """The most shares (whole lots, or any amount when ``lot`` is 0) up to ``shares``
    whose value plus costs fits in ``cash - margin``; 0 when none."""
    ex = np.array([exempt])
    if lot <= 0:
        # Fractional shares: cost(v) never falls as v grows, so v = L - cost(L) fits in
        # L = min(order, cash); the margin comes off afterwards so that it never moves
        # the order across a rounding step of the costs.
        limit = min(shares * price, cash)
        value = limit - costs(limit, row, ex).sum() - margin
        if value <= 0:
            return 0.0, np.zeros(len(COST_COMPONENTS))
        c = costs(value, row, ex)[0]
        return value / price, c
    cash -= margin
    lo, hi = 0, int(min(shares / lot, math.floor(cash / (price * lot))))
    best = np.zeros(len(COST_COMPONENTS))
    # Binary search on the number of lots: value + cost grows with it.
    while lo < hi:
        mid = (lo + hi + 1) // 2
        c = costs(mid * lot * price, row, ex)[0]
        if mid * lot * price + c.sum() <= cash:
            lo, best = mid, c
        else:
            hi = mid - 1
    if lo == 0:
        return 0.0, np.zeros(len(COST_COMPONENTS))
    return float(lo * lot), best


def _cap_exit_costs(
    c: np.ndarray, proceeds: np.ndarray, leaving: np.ndarray, note: np.ndarray
) -> np.ndarray:
    """Exit costs no larger than the sale's proceeds, noting each capped sale.

    A position that has lost nearly all its value can be worth less than the
    minimum commission; a sale cannot cost more than it brings in (vectorbt
    would refuse it), so such a sale is charged its proceeds (less a hair, so
    that vectorbt's own arithmetic never finds the fees a cent too high) and
    the call's note says what was left uncharged.
    """
    total = c.sum(axis=1)
    over = (total > 0) & (total >= proceeds)
    if not over.any():
        return c
    c = c.copy()
    for k in np.flatnonzero(over):
        charged = proceeds[k] * (1 - 1e-9)
        c[k] = c[k] * (charged / total[k])
        i = leaving[k]
        text = (
            f"exit costs HKD {total[k]:,.2f} exceed the proceeds HKD {proceeds[k]:,.2f}:"
            " charged the proceeds"
        )
        note[i] = f"{note[i]}; {text}" if note[i] else text
    return c


def plan_orders(
    cand: Candidates,
    value_close: np.ndarray,
    *,
    capital: float,
    method: str,
    max_positions: int,
    amount_hkd: float | None,
    costs: CostModel,
) -> OrderPlan:
    """Size every candidate in order, sharing cash (see the module docstring).

    Parameters
    ----------
    cand
        The tradeable calls, sorted by ``entry_row`` then book order.
    value_close
        Closes used to value open positions (rows × tickers, forward-filled), HKD.
    capital
        Initial cash, HKD.
    method, max_positions, amount_hkd
        The spec's sizing.
    costs
        Prices each order.
    """
    n = len(cand)
    shares = np.zeros(n)
    reason = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    entry_costs = np.zeros((n, len(COST_COMPONENTS)))
    exit_costs = np.zeros((n, len(COST_COMPONENTS)))
    cash = float(capital)
    # vectorbt adds up cash order by order, the plan a session at a time: keep a margin
    # far above the rounding difference (about 1e-16 of the money moved) so that an
    # order that fits here always fits there.
    moved = float(capital)
    held = np.zeros(n, dtype=bool)
    n_open = 0

    exit_order = np.argsort(cand.exit_row, kind="stable")
    exit_rows_sorted = cand.exit_row[exit_order]
    rows = np.union1d(cand.entry_row, cand.exit_row)
    ent_lo = np.searchsorted(cand.entry_row, rows, side="left")
    ent_hi = np.searchsorted(cand.entry_row, rows, side="right")
    ext_lo = np.searchsorted(exit_rows_sorted, rows, side="left")
    ext_hi = np.searchsorted(exit_rows_sorted, rows, side="right")

    for k, t in enumerate(rows):
        t = int(t)
        entering = np.arange(ent_lo[k], ent_hi[k])
        leaving = exit_order[ext_lo[k] : ext_hi[k]]
        leaving = leaving[held[leaving]]

        value_prev = cash
        if len(entering) and method != "fixed" and n_open:
            open_idx = np.flatnonzero(held)
            px = value_close[t - 1, cand.ticker_col[open_idx]]
            px = np.where(np.isnan(px), cand.entry_price[open_idx], px)
            value_prev = cash + float(shares[open_idx] @ px)

        if len(leaving):
            proceeds = shares[leaving] * cand.exit_price[leaving]
            c = costs(proceeds, t, cand.exempt[leaving])
            c = _cap_exit_costs(c, proceeds, leaving, note)
            exit_costs[leaving] = c
            cash += float(proceeds.sum() - c.sum())
            moved += float(proceeds.sum())
            held[leaving] = False
            n_open -= len(leaving)

        if not len(entering):
            continue
        price = cand.entry_price[entering]
        lot = cand.lot[entering]
        if method == "fixed":
            target = np.full(len(entering), float(amount_hkd))
        else:
            target = value_prev * cand.weight[entering] / max_positions
        with np.errstate(divide="ignore", invalid="ignore"):
            want = np.where(lot > 0, np.floor(target / (price * lot)) * lot, target / price)
        want = np.where(np.isfinite(want) & (want > 0), want, 0.0)
        want_costs = costs(want * price, t, cand.exempt[entering])
        need = want * price + want_costs.sum(axis=1)
        for j, i in enumerate(entering):
            if want[j] <= 0:
                reason[i] = (
                    f"below one board lot: target HKD {target[j]:,.0f} < {int(lot[j])} shares"
                    f" × {price[j]:g} = HKD {lot[j] * price[j]:,.0f}"
                    if lot[j] > 0
                    else f"target HKD {target[j]:,.2f} buys nothing"
                )
                continue
            if n_open >= max_positions:
                reason[i] = f"{max_positions} positions already open (max_positions)"
                continue
            q, c = want[j], want_costs[j]
            margin = 1e-9 * moved
            if need[j] > cash - margin:
                q, c = _fit_to_cash(q, price[j], lot[j], cash, margin, t, cand.exempt[i], costs)
                if q <= 0:
                    reason[i] = f"cash exhausted: HKD {cash:,.2f} left"
                    continue
            if q * price[j] < MIN_ORDER_HKD:
                reason[i] = (
                    f"order worth HKD {q * price[j]:,.4f} is below the minimum order"
                    f" (HKD {MIN_ORDER_HKD:.2f})"
                )
                continue
            if c.sum() >= q * price[j]:
                reason[i] = (
                    f"costs HKD {c.sum():,.2f} would exceed the order's value"
                    f" HKD {q * price[j]:,.2f}"
                )
                continue
            if q < want[j] * (1 - 1e-6):
                note[i] = f"reduced from {want[j]:g} to {q:g} shares: cash"
            shares[i] = q
            entry_costs[i] = c
            cash -= q * price[j] + float(c.sum())
            moved += q * price[j]
            held[i] = True
            n_open += 1
    return OrderPlan(shares, reason, note, entry_costs, exit_costs, cash)
