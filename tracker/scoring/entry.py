"""When and at what price a call is entered: the entry conventions, vectorised.

Reports often come out after the close or before the open, so by default a
call is entered at the **close of the first HKEX session after** the day it
could be acted on (``start_date``: the ``seen`` date, else the publication
date). The conventions are named choices:

``next-close`` (default)
    close of the first session strictly after ``start_date``.
``next-open``
    open of the first session strictly after ``start_date``.
``same-close``
    close of the session on ``start_date`` (the next session when that day is
    a weekend or holiday): only right for reports published before the open.

A report published on a Saturday is entered at the close of the Monday (the
first session after it) under both ``next-close`` and ``same-close``.

A call whose ticker has no bar on its entry session gets ``entry_status =
"no data"`` and a reason (no prices at all, not listed yet, no price since a
date, or no bar that day); one whose entry session is after the cut-off
(``as_of``, by default the last date of the prices) is ``"awaiting entry"``.
The entry price is never taken from an earlier (stale) bar: nobody could have
traded at it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.errors import TrackerError
from tracker.vocab import DEFAULT_ENTRY, ENTRY_CONVENTIONS

EntryConvention = Literal[ENTRY_CONVENTIONS]

ENTRY_OK = "ok"
ENTRY_NO_DATA = "no data"
ENTRY_AWAITING = "awaiting entry"


class UnknownEntryConvention(TrackerError):
    def __init__(self, value: str):
        super().__init__(
            f"unknown entry convention {value!r}; use one of {', '.join(ENTRY_CONVENTIONS)}"
        )


def entry_field(convention: str) -> str:
    """The price field a convention enters at: ``"open"`` or ``"close"``."""
    if convention not in ENTRY_CONVENTIONS:
        raise UnknownEntryConvention(convention)
    return "open" if convention == "next-open" else "close"


def entry_sessions(start_dates: pd.Series, convention: str = DEFAULT_ENTRY) -> pd.Series:
    """The entry session of each call, from the date it could first be acted on.

    Parameters
    ----------
    start_dates
        Naive dates (``seen`` else ``published``).
    convention
        One of :data:`ENTRY_CONVENTIONS`.

    Returns
    -------
    pandas.Series
        Sessions (naive midnight timestamps), indexed like ``start_dates``.
    """
    if convention not in ENTRY_CONVENTIONS:
        raise UnknownEntryConvention(convention)
    dates = pd.DatetimeIndex(start_dates)
    # Weekday dates repeat a lot: compute on the distinct ones only.
    uniq, inverse = np.unique(dates.values, return_inverse=True)
    if convention == "same-close":
        out = sessions.next_sessions_on_or_after(uniq)
    else:
        out = sessions.next_sessions_after(uniq)
    return pd.Series(out[inverse.ravel()], index=start_dates.index, name="entry_session")


def _dates_text(values: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(values.strftime("%Y-%m-%d"), dtype=object)


def entry_points(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    opens: pd.DataFrame | None = None,
    convention: str = DEFAULT_ENTRY,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Entry session, price and status of every call.

    Parameters
    ----------
    calls
        At least ``ticker`` and ``start_date`` (naive dates).
    closes, opens
        Wide price frames: index = sessions (naive, ascending), columns =
        tickers, NaN where there is no bar. ``opens`` is needed only for
        ``next-open``. Prices after the cut-off (``as_of``) must already be
        removed by the caller.
    convention
        One of :data:`ENTRY_CONVENTIONS`.
    as_of
        Cut-off date: a call whose entry session is after it is ``awaiting
        entry``. Default: the last date of the price frame.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``entry_session``, ``entry_price`` (HKD),
        ``entry_field`` ("close" or "open"), ``entry_status`` and
        ``entry_reason`` (empty when ok).
    """
    session = entry_sessions(calls["start_date"], convention)
    field = entry_field(convention)
    panel = opens if field == "open" else closes
    if panel is None:
        raise TrackerError("the next-open convention needs opening prices; pass opens")

    n = len(calls)
    tickers = calls["ticker"].to_numpy(dtype=object)
    session_values = pd.DatetimeIndex(session)
    col_pos = panel.columns.get_indexer(tickers)
    row_pos = panel.index.get_indexer(session_values)
    values = panel.to_numpy(dtype=float, na_value=np.nan)
    price = np.full(n, np.nan)
    ok_idx = (col_pos >= 0) & (row_pos >= 0)
    price[ok_idx] = values[row_pos[ok_idx], col_pos[ok_idx]]

    if as_of is not None:
        cutoff = pd.Timestamp(as_of).normalize()
    else:
        cutoff = panel.index.max() if len(panel.index) else pd.NaT
    awaiting = np.ones(n, dtype=bool) if pd.isna(cutoff) else np.asarray(session_values > cutoff)

    # First and last bar of each ticker, to explain a missing entry price.
    has_bar = ~np.isnan(values)
    any_bar = has_bar.any(axis=0) if values.size else np.zeros(len(panel.columns), dtype=bool)
    idx = panel.index
    first_pos = np.where(any_bar, has_bar.argmax(axis=0) if values.size else 0, 0)
    last_pos = np.where(
        any_bar, len(idx) - 1 - has_bar[::-1].argmax(axis=0) if values.size else 0, 0
    )
    known = col_pos >= 0
    safe_col = np.where(known, col_pos, 0)
    has_any = known & (any_bar[safe_col] if len(any_bar) else np.zeros(n, dtype=bool))
    first_bar = pd.DatetimeIndex(idx[first_pos[safe_col]]) if len(idx) else session_values
    last_bar = pd.DatetimeIndex(idx[last_pos[safe_col]]) if len(idx) else session_values

    missing = np.isnan(price)
    status = np.full(n, ENTRY_OK, dtype=object)
    status[missing] = ENTRY_NO_DATA
    status[awaiting] = ENTRY_AWAITING

    reason = np.full(n, "", dtype=object)
    tick_txt = tickers.astype(str).astype(object)
    before = np.asarray(first_bar > session_values)
    after = np.asarray(last_bar < session_values)
    m = missing & ~awaiting
    sel = m & ~has_any
    reason[sel] = "no prices for " + tick_txt[sel] + " from the source"
    sel = m & has_any & before
    reason[sel] = "not listed yet: first bar " + _dates_text(first_bar[sel])
    sel = m & has_any & ~before & after
    reason[sel] = (
        "no price for " + tick_txt[sel] + " since " + _dates_text(last_bar[sel]) + ": update prices"
    )
    sel = m & has_any & ~before & ~after
    reason[sel] = (
        "no bar on the entry session " + _dates_text(session_values[sel]) + " (suspended?)"
    )
    cut_txt = "" if pd.isna(cutoff) else f" {cutoff.date()}"
    reason[awaiting] = (
        "entry session "
        + _dates_text(session_values[awaiting])
        + f" is after the last price{cut_txt}"
    )
    return pd.DataFrame(
        {
            "entry_session": session_values,
            "entry_price": price,
            "entry_field": field,
            "entry_status": status,
            "entry_reason": reason,
        },
        index=calls.index,
    )


def delayed_start_dates(
    start_dates: pd.Series, convention: str = DEFAULT_ENTRY, delay_sessions: int = 0
) -> pd.Series:
    """Start dates that move each call's entry ``delay_sessions`` sessions later.

    A reader who acts ``N`` sessions late enters on the ``N``-th session after
    the usual entry session. Handing these dates to :func:`entry_sessions` or
    :func:`entry_points` gives that session under the same convention: for
    ``next-close`` and ``next-open`` the session before it, for ``same-close``
    the session itself. With ``delay_sessions = 0`` the dates are returned
    unchanged.

    Parameters
    ----------
    start_dates
        Naive dates (``seen`` else ``published``).
    convention
        One of :data:`ENTRY_CONVENTIONS`.
    delay_sessions
        Sessions of delay, ``>= 0``.
    """
    if delay_sessions == 0:
        return start_dates
    if delay_sessions < 0:
        raise TrackerError(f"an entry delay of {delay_sessions} sessions must be 0 or more")
    usual = entry_sessions(start_dates, convention)
    back = 0 if convention == "same-close" else 1
    shifted = sessions.sessions_after(pd.DatetimeIndex(usual), delay_sessions - back)
    return pd.Series(shifted, index=start_dates.index, name=start_dates.name)
