"""Which calls a spec follows, and the sessions each one is bought and sold on.

Pure functions of frames: no files, no clock. All session arithmetic goes
through :mod:`tracker.sessions`; the entry session and price come from
:func:`tracker.scoring.entry.entry_points` (the convention scoring uses).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker import sessions, vocab
from tracker.backtest.spec import ExitRule, Selection
from tracker.errors import TrackerError
from tracker.recs.book import filter_calls

# Strength of each rating, for "the next call downgrades it": a later call by the
# same broker on the same ticker with a lower rank (the vocabulary's Rating.rank).
RATING_RANK = vocab.RATING_RANK


class EmptySelection(TrackerError):
    """A spec whose filters match no call."""

    def __init__(self, spec_name: str, selection: Selection, total: int, as_of=None):
        given = {
            k: v
            for k, v in selection.model_dump(exclude_defaults=True).items()
            if v not in ((), None)
        }
        shown = "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list | tuple) else v}"
            for k, v in given.items()
        )
        known = f" known on {pd.Timestamp(as_of).date()}" if as_of is not None else ""
        super().__init__(
            f"spec {spec_name!r} selects none of the {total} calls{known}"
            f"{f' ({shown})' if shown else ''}: check the names and dates with `tracker recs list`"
        )


def select_calls(
    calls: pd.DataFrame, selection: Selection, spec_name: str = "spec", as_of=None
) -> pd.DataFrame:
    """The calls a spec follows, in book order, known by ``as_of``.

    Raises
    ------
    EmptySelection
        No call matches.
    """
    chosen = filter_calls(
        calls,
        brokers=selection.brokers,
        analysts=selection.analysts,
        ratings=selection.ratings,
        tickers=selection.tickers,
        reports=selection.reports,
        since=selection.published_from,
        until=selection.published_to,
    )
    if selection.exclude_tickers:
        chosen = chosen[~chosen["ticker"].isin(selection.exclude_tickers)]
    total = len(calls)
    if as_of is not None:
        chosen = chosen[chosen["start_date"] <= pd.Timestamp(as_of)]
        total = int((calls["start_date"] <= pd.Timestamp(as_of)).sum())
    if chosen.empty:
        raise EmptySelection(spec_name, selection, total, as_of)
    return chosen.reset_index(drop=True)


def previous_session(session: pd.Timestamp) -> pd.Timestamp:
    """The HKEX session before ``session`` (which must be a session)."""
    pos = sessions.session_positions([session])[0]
    return sessions.all_sessions()[pos - 1]


def _next_weaker(book: pd.DataFrame) -> pd.Series:
    """For each call of ``book``: the index of the same broker's next call on the ticker
    with a weaker rating (NaN when none). Calls are taken in ``start_date`` order."""
    order = book.sort_values(["start_date", "published"], kind="stable").index
    groups: dict[tuple[str, str], list] = defaultdict(list)
    brokers, tickers = book["broker"], book["ticker"]
    for i in order:
        groups[(brokers[i], tickers[i])].append(i)
    rank = book["rating"].map(RATING_RANK).fillna(-1).to_dict()
    out = pd.Series(np.nan, index=book.index)
    for members in groups.values():
        # Scan from the latest call back, keeping a stack of candidates with strictly
        # increasing rank from the top: the classic "next smaller element".
        stack: list = []
        for i in reversed(members):
            while stack and rank[stack[-1]] >= rank[i]:
                stack.pop()
            if stack:
                out[i] = stack[-1]
            stack.append(i)
    return out


def scheduled_exits(
    calls: pd.DataFrame,
    entry_session: pd.Series,
    rule: ExitRule,
    convention: str,
    book: pd.DataFrame | None = None,
    delay_sessions: int = 0,
) -> pd.DataFrame:
    """When each call's position is due to be sold, before looking at prices.

    Parameters
    ----------
    calls
        The selected calls (``call_id``, ``broker``, ``ticker``, ``rating``,
        ``start_date``, ``horizon_max_months``).
    entry_session
        Entry session of each call, indexed like ``calls``.
    rule
        The spec's exit rule.
    convention
        Entry convention: a downgrading call is acted on like any call, at its
        own entry session.
    book
        Every call known (for the downgrade rule: the downgrading call need not
        be selected). Default: ``calls``.
    delay_sessions
        The spec's ``entry_delay_sessions``: a reader who acts late on calls acts
        as late on the downgrading call.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``exit_due`` (session; NaT = hold to the end of
        data) and ``exit_rule`` (why, in words).
    """
    from tracker.scoring.entry import delayed_start_dates, entry_sessions

    entry = pd.DatetimeIndex(entry_session)
    due = pd.Series(pd.NaT, index=calls.index, dtype="datetime64[ns]")
    why = pd.Series("", index=calls.index, dtype=object)
    if rule.rule == "fixed":
        due[:] = sessions.sessions_months_after(entry, rule.months)
        why[:] = f"{rule.months}M holding"
    elif rule.rule in ("horizon", "target"):  # a target exit falls back to the horizon
        months = calls["horizon_max_months"].astype(int)
        for m in sorted(months.unique()):
            mask = (months == m).to_numpy()
            due[mask] = sessions.sessions_months_after(entry[mask], int(m))
            why[mask] = f"horizon {m}M"
    else:
        book = (calls if book is None else book).reset_index(drop=True)
        weaker_of = dict(zip(book["call_id"], _next_weaker(book).to_numpy(), strict=True))
        later_pos = calls["call_id"].map(weaker_of).to_numpy(dtype=float)
        has = ~np.isnan(later_pos)
        if has.any():
            later = book.iloc[later_pos[has].astype(int)]
            later_start = delayed_start_dates(
                later["start_date"].reset_index(drop=True), convention, delay_sessions
            )
            down_session = entry_sessions(later_start, convention)
            due[has] = down_session.to_numpy()
            why[has] = [
                f"downgraded to {r} by {c}"
                for r, c in zip(later["rating"], later["call_id"], strict=True)
            ]
        why[~has] = "no downgrade"
        if rule.months is not None:
            cap = pd.Series(sessions.sessions_months_after(entry, rule.months), index=calls.index)
            capped = due.isna() | (cap < due)
            due[capped] = cap[capped]
            why[capped] = f"{rule.months}M cap"
    return pd.DataFrame({"exit_due": due, "exit_rule": why}, index=calls.index)


def next_valid_rows(ok: np.ndarray) -> np.ndarray:
    """``out[r, j]``: the first row ``>= r`` where ``ok[:, j]`` holds, else ``len(ok)``."""
    n = ok.shape[0]
    idx = np.where(ok, np.arange(n)[:, None], n)
    return np.minimum.accumulate(idx[::-1], axis=0)[::-1]


def last_valid_rows(ok: np.ndarray) -> np.ndarray:
    """``out[r, j]``: the last row ``<= r`` where ``ok[:, j]`` holds, else ``-1``."""
    n = ok.shape[0]
    idx = np.where(ok, np.arange(n)[:, None], -1)
    return np.maximum.accumulate(idx, axis=0)


def ffill_rows(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs down the rows of a 2-D array."""
    last = last_valid_rows(~np.isnan(values))
    out = values[np.maximum(last, 0), np.arange(values.shape[1])[None, :]]
    out[last < 0] = np.nan
    return out


# --------------------------------------------------------------------------- on the price grid


@dataclass(frozen=True)
class ExitSchedule:
    """Per call (aligned with the calls): rows of the grid and exit prices."""

    tcol: np.ndarray  # column of the ticker in the price frames
    entry_row: np.ndarray
    due: pd.DatetimeIndex  # exit due session (NaT: hold to the end)
    exit_row: np.ndarray
    exit_price: np.ndarray
    closed: np.ndarray  # sold at a bar on or after the due session
    exit_rule: np.ndarray  # why and how it was sold, in words


def exit_schedule(calls, entry, ok, grid, closes, fills, value_m, spec, book) -> ExitSchedule:
    """Grid rows of each call's entry and exit, and its exit price.

    A position is sold at the first bar of ``fills`` on or after its due
    session; when the ticker's data or all data end first, on the due or the
    last session, at the last close.

    Parameters
    ----------
    calls, entry
        The selected calls and their :func:`tracker.scoring.entry.entry_points`.
    ok
        The calls that can be entered; only theirs get notes on how they were sold.
    grid
        Sessions of the run.
    closes, fills
        Wide closes, and the prices orders fill at (opens for ``next-open``).
    value_m
        ``closes`` on ``grid``, forward-filled (rows x tickers).
    spec, book
        The spec (exit rule, entry convention) and every known call (for downgrades).
    """
    n_rows = len(grid)
    tcol = closes.columns.get_indexer(calls["ticker"])
    safe_t = np.maximum(tcol, 0)
    fill_m = fills.reindex(grid).to_numpy(dtype=float)
    due = scheduled_exits(
        calls, entry["entry_session"], spec.exit, spec.entry, book, spec.entry_delay_sessions
    )
    if spec.exit.rule == "target" or spec.exit.stop_pct:
        from tracker.backtest.target_exit import price_exits

        due = price_exits(
            calls, entry, ok, grid, closes, due, spec.exit.rule, spec.exit.stop_pct, spec.entry
        )
    due_s = pd.DatetimeIndex(due["exit_due"])
    due_row = np.where(due_s.isna(), n_rows, grid.searchsorted(due_s))
    nxt = next_valid_rows(~np.isnan(fill_m))
    nxt = np.vstack([nxt, np.full((1, nxt.shape[1]), n_rows)])  # row n_rows: "never"
    exit_row = nxt[np.minimum(due_row, n_rows), safe_t]
    closed = exit_row < n_rows
    exit_row = np.where(closed, exit_row, np.minimum(due_row, n_rows - 1))
    exit_price = np.where(closed, fill_m[exit_row, safe_t], value_m[exit_row, safe_t])

    rule = due["exit_rule"].to_numpy(dtype=object).copy()
    last_bar = last_valid_rows(~np.isnan(closes.reindex(grid).to_numpy(dtype=float)))
    for i in np.flatnonzero(ok):
        if closed[i] and exit_row[i] != due_row[i]:
            rule[i] += f"; no bar on {due_s[i].date()}, sold {grid[exit_row[i]].date()}"
        elif not closed[i] and due_row[i] >= n_rows:
            rule[i] += "; still held when the data end"
        elif not closed[i]:
            lb = last_bar[n_rows - 1, tcol[i]]
            seen = grid[lb].date() if lb >= 0 else "never"
            rule[i] += (
                f"; no bar on or after {due_s[i].date()} (last close {seen}): sold at that close"
            )
    entry_row = grid.get_indexer(pd.DatetimeIndex(entry["entry_session"]))
    return ExitSchedule(tcol, entry_row, due_s, exit_row, exit_price, closed, rule)
