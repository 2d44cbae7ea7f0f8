"""Exits on prices: sell when the close reaches the call's target, or falls to a stop.

``exit.rule: target`` sells a position at the first close at or beyond the
call's target price (at or above it when the target is above the entry price,
at or below it otherwise), and at the call's horizon if no close gets there.
``exit.stop_pct`` (any rule) sells at the first close at or below
``entry price * (1 - stop_pct)``. Only HKD targets are used (a USD or CNY
target is not comparable with the HKD line; see ``docs/scoring.md``).

No look-ahead: the close that triggers the sale is only known at the close, so
the sale is filled like an entry, by the spec's convention: at that close for
``same-close``, at the next session's close (``next-close``) or open
(``next-open``) otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def price_exits(
    calls: pd.DataFrame,
    entry: pd.DataFrame,
    ok: np.ndarray,
    grid: pd.DatetimeIndex,
    closes: pd.DataFrame,
    due: pd.DataFrame,
    rule: str,
    stop_pct: float | None,
    convention: str,
) -> pd.DataFrame:
    """``due`` with each exit brought forward to a target or stop, when one triggers first.

    Parameters
    ----------
    calls, entry, ok
        The selected calls, their :func:`tracker.scoring.entry.entry_points`, and
        those that can be entered.
    grid
        Sessions of the run.
    closes
        Wide closes (the prices the backtest values positions at).
    due
        :func:`tracker.backtest.schedule.scheduled_exits` of the calls.
    rule, stop_pct, convention
        The spec's exit rule, stop and entry convention.

    Returns
    -------
    pandas.DataFrame
        ``exit_due`` and ``exit_rule`` like ``due``, changed only for calls
        whose target or stop triggered before their scheduled exit.
    """
    out = due.copy()
    n_rows = len(grid)
    use_target = rule == "target"
    if not (use_target or stop_pct) or n_rows == 0:
        return out
    c = closes.reindex(grid).to_numpy(dtype=float)
    tcol = closes.columns.get_indexer(calls["ticker"])
    e_row = grid.get_indexer(pd.DatetimeIndex(entry["entry_session"]))
    due_s = pd.DatetimeIndex(out["exit_due"])
    last = np.where(due_s.isna(), n_rows - 1, np.minimum(grid.searchsorted(due_s), n_rows - 1))
    # A trigger must leave room to sell before the scheduled exit.
    shift = 0 if convention == "same-close" else 1
    last = last - shift
    e_price = entry["entry_price"].to_numpy(dtype=float)
    target = np.full(len(calls), np.nan)
    if use_target and "target_price" in calls.columns:
        hkd = calls["target_currency"].astype(object).to_numpy() == "HKD"
        target = np.where(hkd, pd.to_numeric(calls["target_price"], errors="coerce"), np.nan)
    stop = e_price * (1.0 - stop_pct) if stop_pct else np.full(len(calls), np.nan)
    active = ok & (tcol >= 0) & (e_row >= 0) & (last > e_row)
    active &= ~np.isnan(target) | ~np.isnan(stop)
    idx = np.flatnonzero(active)
    if not len(idx):
        return out
    # One gather for all active calls: their windows after entry, padded.
    length = last[idx] - e_row[idx]
    offs = np.arange(1, int(length.max()) + 1)
    inside = offs[None, :] <= length[:, None]
    rows = np.where(inside, e_row[idx][:, None] + offs[None, :], 0)
    px = c[rows, tcol[idx][:, None]]
    up = (target[idx] >= e_price[idx])[:, None]
    t = target[idx][:, None]
    with np.errstate(invalid="ignore"):
        hit_t = inside & np.where(up, px >= t, px <= t)
        hit_s = inside & (px <= stop[idx][:, None])
    first_t = np.where(hit_t.any(axis=1), hit_t.argmax(axis=1), np.iinfo(np.int64).max)
    first_s = np.where(hit_s.any(axis=1), hit_s.argmax(axis=1), np.iinfo(np.int64).max)
    first = np.minimum(first_t, first_s)
    fired = first < np.iinfo(np.int64).max
    for k in np.flatnonzero(fired):  # only to word the reason of each call that fired
        i = idx[k]
        row = e_row[i] + 1 + int(first[k])
        when = grid[row]
        out.loc[out.index[i], "exit_due"] = grid[row + shift]
        what = (
            f"target {target[i]:g} reached"
            if first_t[k] <= first_s[k]
            else f"stop {stop_pct:.0%} below entry"
        )
        out.loc[out.index[i], "exit_rule"] = f"{what} at the close of {when.date()}"
    return out
