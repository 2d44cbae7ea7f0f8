"""The order plan of :mod:`tracker.backtest.orders`, compiled with numba.

:func:`plan_orders_nb` returns the same :class:`~tracker.backtest.orders.OrderPlan`
as :func:`tracker.backtest.orders.plan_orders` (the plain Python reference the
tests compare it with): the session loop, the board lots, the cash and the
exact Hong Kong costs run as one compiled call, and the texts of the skip
reasons and notes are written afterwards from the figures the loop records.

Bit for bit: the cost arithmetic below repeats :func:`tracker.backtest.costs.
cost_components` operation by operation (same roundings, same epsilons, same
order of operations), and sums are taken the way numpy takes them (pairwise,
see :func:`_pairwise_sum`), so cash, shares and costs equal the reference's.
The one exception is the portfolio's value before a session's buys, a dot
product that numpy hands to BLAS: here it goes to BLAS too (numba's ``np.dot``).

This module imports numba, so the engine imports it inside the function that
plans (numba is already loaded by vectorbt in any process that runs a
backtest). The kernels are module-level functions, so numba caches their
compiled code on disk (``cache=True``, in ``NUMBA_CACHE_DIR`` when set, see
:func:`tracker.backtest.run.configure_numba_cache`) and a new process loads it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tracker.backtest.costs import COST_COMPONENTS, RATE_FIELDS
from tracker.backtest.orders import MIN_ORDER_HKD, Candidates, CostModel, OrderPlan

#: Why a candidate was not bought, as recorded by the compiled loop.
BOUGHT, BELOW_LOT, MAX_OPEN, NO_CASH, BELOW_MIN, COSTS_OVER = range(6)
#: Number of cost components; column of each rate in the rate matrix the kernels take
#: (the order of RATE_FIELDS). Module constants: numba freezes them into the compiled code.
N_COMP = len(COST_COMPONENTS)
_RATE = {f: k for k, f in enumerate(RATE_FIELDS)}
R_STAMP, R_WAIVED = _RATE["stamp_duty_rate"], _RATE["etf_stamp_duty_waived"]
R_SFC, R_AFRC = _RATE["sfc_levy_rate"], _RATE["afrc_levy_rate"]
R_FEE, R_TARIFF = _RATE["trading_fee_rate"], _RATE["trading_tariff_hkd"]
R_SETTLE = _RATE["settlement_fee_rate"]
R_SMIN, R_SMAX = _RATE["settlement_fee_min_hkd"], _RATE["settlement_fee_max_hkd"]


@njit(cache=True, nogil=True)
def npmax(a, b):
    # np.maximum: NaN if either is NaN.
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True, nogil=True)
def npmin(a, b):
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True, nogil=True)
def cents(x):
    return np.floor(x * 100.0 + 0.5 + 1e-9) / 100.0


@njit(cache=True, nogil=True)
def costs_into(value, rates, t, exempt, enabled, comm_rate, comm_min, out):
    """One order's cost components into ``out`` (cost_components for one value)."""
    if not enabled:
        for k in range(N_COMP):
            out[k] = 0.0
        return
    value = cents(value)
    if value <= 0:
        for k in range(N_COMP):
            out[k] = 0.0
        return
    stamp_rate = rates[t, R_STAMP]
    if exempt and rates[t, R_WAIVED] > 0:
        stamp_rate = 0.0
    settle = npmin(npmax(value * rates[t, R_SETTLE], rates[t, R_SMIN]), rates[t, R_SMAX])
    out[0] = cents(npmax(value * comm_rate, comm_min))
    out[1] = npmax(np.ceil(value * stamp_rate - 1e-9), 0.0)
    out[2] = cents(value * rates[t, R_SFC])
    out[3] = cents(value * rates[t, R_AFRC])
    out[4] = cents(value * rates[t, R_FEE])
    out[5] = rates[t, R_TARIFF]
    out[6] = cents(settle)


@njit(cache=True, nogil=True)
def block_sum(a, lo, n):
    # numpy's pairwise summation (umath loops_utils) of at most 128 terms: below 8 a
    # plain loop, else eight accumulators.
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    m = n - n % 8
    for i in range(lo + 8, lo + m, 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(lo + m, lo + n):
        res += a[i]
    return res


@njit(cache=True, nogil=True)
def pairwise_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` as numpy computes it: above 128 terms, the sum of the two
    halves (the first a multiple of 8 long), recursively. The recursion runs on an
    explicit stack: numba's disk cache does not reload recursive functions safely."""
    if n <= 128:
        return block_sum(a, lo, n)
    depth = 64  # halving from 2**63 terms reaches 128 in far fewer levels
    f_lo = np.empty(depth, dtype=np.int64)
    f_n = np.empty(depth, dtype=np.int64)
    stage = np.zeros(depth, dtype=np.int64)  # 0 new, 1 left pending, 2 right pending
    left = np.empty(depth)
    right = np.empty(depth)
    top = 0
    f_lo[0], f_n[0], stage[0] = lo, n, 0
    ret = 0.0
    while True:
        nn = f_n[top]
        n2 = nn // 2
        n2 -= n2 % 8
        if nn <= 128:
            ret = block_sum(a, f_lo[top], nn)
        elif stage[top] == 0:
            stage[top] = 1
            top += 1
            f_lo[top], f_n[top], stage[top] = f_lo[top - 1], n2, 0
            continue
        elif stage[top] == 1:
            stage[top] = 2
            top += 1
            f_lo[top], f_n[top], stage[top] = f_lo[top - 1] + n2, nn - n2, 0
            continue
        else:
            ret = left[top] + right[top]
        # Hand the value back to the parent frame.
        top -= 1
        if top < 0:
            return ret
        if stage[top] == 1:
            left[top] = ret
        else:
            right[top] = ret


@njit(cache=True, nogil=True)
def fit_to_cash(shares, price, lot, cash, margin, rates, t, exempt, en, cr, cm, c, tmp):
    """_fit_to_cash: the most shares (whole lots, or any amount) that fit; costs in c."""
    if lot <= 0:
        limit = npmin(shares * price, cash)
        costs_into(limit, rates, t, exempt, en, cr, cm, tmp)
        value = limit - pairwise_sum(tmp, 0, N_COMP) - margin
        if value <= 0:
            for k in range(N_COMP):
                c[k] = 0.0
            return 0.0
        costs_into(value, rates, t, exempt, en, cr, cm, c)
        return value / price
    cash -= margin
    hi_f = shares / lot
    cap = float(math.floor(cash / (price * lot)))
    lo, hi = 0, int(hi_f if hi_f < cap else cap)
    for k in range(N_COMP):
        c[k] = 0.0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        costs_into(mid * lot * price, rates, t, exempt, en, cr, cm, tmp)
        if mid * lot * price + pairwise_sum(tmp, 0, N_COMP) <= cash:
            lo = mid
            for k in range(N_COMP):
                c[k] = tmp[k]
        else:
            hi = mid - 1
    if lo == 0:
        for k in range(N_COMP):
            c[k] = 0.0
        return 0.0
    return float(lo * lot)


@njit(cache=True, nogil=True)
def plan_kernel(
    entry_row,
    exit_row,
    ticker_col,
    entry_price,
    exit_price,
    weight,
    lot,
    exempt,
    value_close,
    rates,
    enabled,
    comm_rate,
    comm_min,
    capital,
    fixed,
    max_positions,
    amount,
):
    n = len(entry_row)
    shares = np.zeros(n)
    code = np.zeros(n, dtype=np.int8)
    entry_costs = np.zeros((n, N_COMP))
    exit_costs = np.zeros((n, N_COMP))
    # Figures the texts are written from: the target (below a lot), the cash left
    # (cash exhausted), the order's value (below the minimum) and costs (costs over),
    # the wanted shares (reduced), the exit's full costs (capped).
    target_of = np.zeros(n)
    cash_of = np.zeros(n)
    want_of = np.zeros(n)
    capped = np.zeros(n, dtype=np.bool_)
    exit_total = np.zeros(n)
    cash = float(capital)
    moved = float(capital)
    held = np.zeros(n, dtype=np.bool_)
    n_open = 0

    exit_order = np.argsort(exit_row, kind="mergesort")
    exit_sorted = exit_row[exit_order]
    rows = np.union1d(entry_row, exit_row)
    c = np.zeros(N_COMP)
    tmp = np.zeros(N_COMP)
    leave_buf = np.empty(n, dtype=np.int64)
    proceeds = np.empty(n)
    flat = np.empty(n * N_COMP)
    open_sh = np.empty(n)
    open_px = np.empty(n)
    want = np.empty(n)
    target = np.empty(n)
    need = np.empty(n)
    want_c = np.empty((n, N_COMP))
    e0 = 0
    x0 = 0
    for t in rows:
        e1 = e0
        while e1 < n and entry_row[e1] == t:
            e1 += 1
        while x0 < n and exit_sorted[x0] < t:
            x0 += 1
        x1 = x0
        while x1 < n and exit_sorted[x1] == t:
            x1 += 1
        n_leave = 0
        for q in range(x0, x1):
            i = exit_order[q]
            if held[i]:
                leave_buf[n_leave] = i
                n_leave += 1

        value_prev = cash
        if e1 > e0 and not fixed and n_open:
            m = 0
            for i in range(n):
                if held[i]:
                    px = value_close[t - 1, ticker_col[i]]
                    open_px[m] = entry_price[i] if np.isnan(px) else px
                    open_sh[m] = shares[i]
                    m += 1
            value_prev = cash + np.dot(open_sh[:m], open_px[:m])

        if n_leave:
            for q in range(n_leave):
                i = leave_buf[q]
                proceeds[q] = shares[i] * exit_price[i]
                costs_into(proceeds[q], rates, t, exempt[i], enabled, comm_rate, comm_min, c)
                total = pairwise_sum(c, 0, N_COMP)
                if total > 0 and total >= proceeds[q]:
                    # _cap_exit_costs: charge the proceeds, less a hair.
                    ratio = proceeds[q] * (1 - 1e-9) / total
                    for k in range(N_COMP):
                        c[k] = c[k] * ratio
                    capped[i] = True
                    exit_total[i] = total
                for k in range(N_COMP):
                    exit_costs[i, k] = c[k]
                    flat[q * N_COMP + k] = c[k]
            p_sum = pairwise_sum(proceeds, 0, n_leave)
            cash += p_sum - pairwise_sum(flat, 0, n_leave * N_COMP)
            moved += p_sum
            for q in range(n_leave):
                held[leave_buf[q]] = False
            n_open -= n_leave

        if e1 == e0:
            continue
        for i in range(e0, e1):
            if fixed:
                target[i] = amount
            else:
                target[i] = value_prev * weight[i] / max_positions
            price = entry_price[i]
            if lot[i] > 0:
                w = np.floor(target[i] / (price * lot[i])) * lot[i]
            else:
                w = target[i] / price
            if not (np.isfinite(w) and w > 0):
                w = 0.0
            want[i] = w
            costs_into(w * price, rates, t, exempt[i], enabled, comm_rate, comm_min, tmp)
            for k in range(N_COMP):
                want_c[i, k] = tmp[k]
            need[i] = w * price + pairwise_sum(tmp, 0, N_COMP)
        for i in range(e0, e1):
            price = entry_price[i]
            if want[i] <= 0:
                code[i] = BELOW_LOT
                target_of[i] = target[i]
                continue
            if n_open >= max_positions:
                code[i] = MAX_OPEN
                continue
            qty = want[i]
            for k in range(N_COMP):
                c[k] = want_c[i, k]
            margin = 1e-9 * moved
            if need[i] > cash - margin:
                qty = fit_to_cash(
                    qty,
                    price,
                    lot[i],
                    cash,
                    margin,
                    rates,
                    t,
                    exempt[i],
                    enabled,
                    comm_rate,
                    comm_min,
                    c,
                    tmp,
                )
                if qty <= 0:
                    code[i] = NO_CASH
                    cash_of[i] = cash
                    continue
            value = qty * price
            csum = pairwise_sum(c, 0, N_COMP)
            if value < MIN_ORDER_HKD:
                code[i] = BELOW_MIN
                cash_of[i] = value
                continue
            if csum >= value:
                code[i] = COSTS_OVER
                cash_of[i] = value
                exit_total[i] = csum
                continue
            if qty < want[i] * (1 - 1e-6):
                want_of[i] = want[i]
            shares[i] = qty
            for k in range(N_COMP):
                entry_costs[i, k] = c[k]
            cash -= value + csum
            moved += value
            held[i] = True
            n_open += 1
        e0 = e1
    return (
        shares,
        code,
        entry_costs,
        exit_costs,
        target_of,
        cash_of,
        want_of,
        capped,
        exit_total,
        cash,
    )


@njit(cache=True, nogil=True)
def costs_many(values, rows, rates, exempt, enabled, comm_rate, comm_min):
    out = np.zeros((len(values), N_COMP))
    for j in range(len(values)):
        costs_into(values[j], rates, rows[j], exempt[j], enabled, comm_rate, comm_min, out[j])
    return out


def cost_components_nb(
    value: np.ndarray,
    rows: np.ndarray,
    costs: CostModel,
    exempt: np.ndarray,
) -> np.ndarray:
    """The compiled cost arithmetic on many orders: ``costs(value, rows, exempt)`` of a
    :class:`~tracker.backtest.orders.CostModel`, computed by the kernel the plan uses."""
    value = np.ascontiguousarray(value, dtype=float)
    rows = np.broadcast_to(np.asarray(rows, dtype=np.int64), value.shape).copy()
    n_rows = int(rows.max()) + 1 if len(rows) else 0
    return costs_many(
        value,
        rows,
        rate_matrix(costs, n_rows),
        np.ascontiguousarray(np.broadcast_to(exempt, value.shape), dtype=np.bool_),
        bool(costs.enabled),
        float(costs.commission_rate),
        float(costs.commission_min_hkd),
    )


def rate_matrix(costs: CostModel, n_rows: int) -> np.ndarray:
    """The cost model's rates as one (rows × :data:`RATE_FIELDS`) float matrix."""
    if not costs.rates:
        return np.zeros((n_rows, len(RATE_FIELDS)))
    return np.ascontiguousarray(
        np.column_stack([np.asarray(costs.rates[f], dtype=float) for f in RATE_FIELDS])
    )


def plan_orders_nb(
    cand: Candidates,
    value_close: np.ndarray,
    *,
    capital: float,
    method: str,
    max_positions: int,
    amount_hkd: float | None,
    costs: CostModel,
) -> OrderPlan:
    """:func:`tracker.backtest.orders.plan_orders`, compiled: same parameters, same plan."""
    n = len(cand)
    rates = rate_matrix(costs, value_close.shape[0])
    out = plan_kernel(
        np.ascontiguousarray(cand.entry_row, dtype=np.int64),
        np.ascontiguousarray(cand.exit_row, dtype=np.int64),
        np.ascontiguousarray(cand.ticker_col, dtype=np.int64),
        np.ascontiguousarray(cand.entry_price, dtype=float),
        np.ascontiguousarray(cand.exit_price, dtype=float),
        np.ascontiguousarray(cand.weight, dtype=float),
        np.ascontiguousarray(cand.lot, dtype=float),
        np.ascontiguousarray(cand.exempt, dtype=np.bool_),
        np.ascontiguousarray(value_close, dtype=float),
        rates,
        bool(costs.enabled),
        float(costs.commission_rate),
        float(costs.commission_min_hkd),
        float(capital),
        method == "fixed",
        int(max_positions),
        float(amount_hkd) if amount_hkd is not None else np.nan,
    )
    shares, code, entry_costs, exit_costs, target, cash_of, want, capped, total, cash = out
    reason = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    for i in np.flatnonzero(code):
        reason[i] = _reason(int(code[i]), cand, i, target[i], cash_of[i], total[i], max_positions)
    for i in np.flatnonzero(want):
        note[i] = f"reduced from {want[i]:g} to {shares[i]:g} shares: cash"
    for i in np.flatnonzero(capped):
        proceeds = shares[i] * cand.exit_price[i]
        text = (
            f"exit costs HKD {total[i]:,.2f} exceed the proceeds HKD {proceeds:,.2f}:"
            " charged the proceeds"
        )
        note[i] = f"{note[i]}; {text}" if note[i] else text
    return OrderPlan(shares, reason, note, entry_costs, exit_costs, float(cash))


def _reason(
    code: int, cand: Candidates, i: int, target: float, figure: float, costs: float, max_pos: int
) -> str:
    """The skip reason of candidate ``i``, worded as :func:`plan_orders` words it."""
    lot, price = cand.lot[i], cand.entry_price[i]
    if code == BELOW_LOT:
        if lot > 0:
            return (
                f"below one board lot: target HKD {target:,.0f} < {int(lot)} shares"
                f" × {price:g} = HKD {lot * price:,.0f}"
            )
        return f"target HKD {target:,.2f} buys nothing"
    if code == MAX_OPEN:
        return f"{max_pos} positions already open (max_positions)"
    if code == NO_CASH:
        return f"cash exhausted: HKD {figure:,.2f} left"
    if code == BELOW_MIN:
        return f"order worth HKD {figure:,.4f} is below the minimum order (HKD {MIN_ORDER_HKD:.2f})"
    return f"costs HKD {costs:,.2f} would exceed the order's value HKD {figure:,.2f}"
