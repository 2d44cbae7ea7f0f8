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

A call whose ticker has no bar on its entry session gets ``entry_status =
"no data"`` and a reason; one whose entry session is after the last price
available (or after ``as_of``) is ``"awaiting entry"``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.errors import TrackerError

EntryConvention = Literal["next-close", "next-open", "same-close"]
ENTRY_CONVENTIONS: tuple[str, ...] = ("next-close", "next-open", "same-close")
DEFAULT_ENTRY: EntryConvention = "next-close"

ENTRY_OK = "ok"
ENTRY_NO_DATA = "no data"
ENTRY_AWAITING = "awaiting entry"


class UnknownEntryConvention(TrackerError):
    def __init__(self, value: str):
        super().__init__(
            f"unknown entry convention {value!r}; use one of {', '.join(ENTRY_CONVENTIONS)}"
        )


def entry_sessions(start_dates: pd.Series, convention: str = DEFAULT_ENTRY) -> pd.Series:
    """The entry session of each call, from the date it could first be acted on."""
    if convention not in ENTRY_CONVENTIONS:
        raise UnknownEntryConvention(convention)
    dates = pd.DatetimeIndex(start_dates)
    if convention == "same-close":
        out = sessions.next_sessions_on_or_after(dates)
    else:
        out = sessions.next_sessions_after(dates)
    return pd.Series(out, index=start_dates.index, name="entry_session")


def entry_points(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    opens: pd.DataFrame | None = None,
    convention: str = DEFAULT_ENTRY,
) -> pd.DataFrame:
    """Entry session, price and status of every call.

    Parameters
    ----------
    calls
        At least ``ticker`` and ``start_date`` (naive dates).
    closes, opens
        Wide price frames: index = sessions (naive, ascending), columns =
        tickers. ``opens`` is needed only for ``next-open``. Prices after the
        cut-off (``as_of``) must already be removed by the caller.
    convention
        One of :data:`ENTRY_CONVENTIONS`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``entry_session``, ``entry_price`` (HKD),
        ``entry_field`` ("close" or "open"), ``entry_status`` and
        ``entry_reason`` (empty when ok).
    """
    session = entry_sessions(calls["start_date"], convention)
    field = "open" if convention == "next-open" else "close"
    panel = opens if field == "open" else closes
    if panel is None:
        raise TrackerError("the next-open convention needs opening prices")

    n = len(calls)
    tickers = calls["ticker"].to_numpy()
    col_pos = panel.columns.get_indexer(tickers)
    row_pos = panel.index.get_indexer(pd.DatetimeIndex(session))
    values = panel.to_numpy(dtype=float, na_value=np.nan)
    price = np.full(n, np.nan)
    ok_idx = (col_pos >= 0) & (row_pos >= 0)
    price[ok_idx] = values[row_pos[ok_idx], col_pos[ok_idx]]

    last_date = panel.index.max() if len(panel.index) else pd.NaT
    # First and last dates with a bar per ticker, to explain a missing entry price.
    has_bar = ~np.isnan(values)
    any_bar = has_bar.any(axis=0)
    first_pos = np.where(any_bar, has_bar.argmax(axis=0), -1)
    first_bar = pd.Series(
        [panel.index[p] if p >= 0 else pd.NaT for p in first_pos], index=panel.columns
    )

    status = np.full(n, ENTRY_OK, dtype=object)
    reason = np.full(n, "", dtype=object)
    session_values = pd.DatetimeIndex(session)
    awaiting = (
        np.ones(n, dtype=bool) if pd.isna(last_date) else (session_values > last_date)
    )
    missing = np.isnan(price)
    status[missing] = ENTRY_NO_DATA
    status[awaiting] = ENTRY_AWAITING
    for i in np.flatnonzero(missing & ~awaiting):
        ticker = tickers[i]
        if col_pos[i] < 0 or pd.isna(first_bar.get(ticker, pd.NaT)):
            reason[i] = f"no prices for {ticker} from the source"
        elif first_bar[ticker] > session_values[i]:
            reason[i] = f"not listed yet: first bar {first_bar[ticker].date()}"
        else:
            reason[i] = f"no bar on the entry session {session_values[i].date()} (suspended?)"
    for i in np.flatnonzero(awaiting):
        reason[i] = f"entry session {session_values[i].date()} is after the last price"
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
