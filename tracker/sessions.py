"""HKEX trading sessions (exchange_calendars ``XHKG``).

All session arithmetic in tracker goes through this module: never
``date + timedelta(days=...)``. Sessions are naive, midnight ``pd.Timestamp``
values (the session *date* in Hong Kong), as exchange_calendars labels them.
Half-days (Christmas Eve, New Year's Eve, Lunar New Year's Eve) are sessions.

Functions taking arrays are vectorised (``numpy.searchsorted`` over the session
index) so that scoring 100,000 calls needs no Python loop.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tracker.constants import CALENDAR_START, HKEX_CALENDAR
from tracker.errors import TrackerError

if TYPE_CHECKING:
    import exchange_calendars

Direction = Literal["next", "previous", "none"]


class NotASession(TrackerError):
    """A date that had to be a session was not one (``direction="none"``)."""

    def __init__(self, date: pd.Timestamp, param_name: str = "date"):
        super().__init__(f"{param_name}={date.date()} is not an HKEX session")


class OutsideCalendar(TrackerError):
    """A date outside the span the HKEX calendar covers."""

    def __init__(self, date: pd.Timestamp, first: pd.Timestamp, last: pd.Timestamp):
        super().__init__(
            f"{date.date()} is outside the HKEX calendar ({first.date()}..{last.date()})"
        )


#: The exchange's time zone: "today" is the date in Hong Kong, not the machine's.
HK_TZ = "Asia/Hong_Kong"


def today_hk() -> date:
    """Today's date in Hong Kong: the one clock the library reads (tests pin it here)."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(HK_TZ)).date()


#: Bumped when the layout of the calendar's memo entry changes.
_MEMO_FORMAT = "sessions+closes/ns/1"


def _calendar_end() -> pd.Timestamp:
    return pd.Timestamp.today().normalize() + pd.DateOffset(years=2)


@lru_cache(maxsize=1)
def calendar() -> exchange_calendars.ExchangeCalendar:
    """The XHKG calendar from ``CALENDAR_START`` to two years from now."""
    import exchange_calendars as xcals

    return xcals.get_calendar(HKEX_CALENDAR, start=CALENDAR_START, end=_calendar_end())


@lru_cache(maxsize=1)
def _table() -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Every session (naive dates) and its close (UTC), from the memo when it holds them.

    Building the calendar computes 25 years of holidays (about 0.1 s a process);
    the two columns it yields are kept in :mod:`tracker.memo` under the calendar's
    name, span and exchange_calendars version, and read back when valid.
    """
    from importlib.metadata import version

    from tracker import memo

    end = _calendar_end()
    key = memo.digest(
        HKEX_CALENDAR, CALENDAR_START, str(end.date()), version("exchange_calendars"), _MEMO_FORMAT
    )
    kept = memo.get_array("calendar", key)
    if _valid_table(kept):
        sessions = pd.DatetimeIndex(kept[0].view("datetime64[ns]"))
        closes = pd.DatetimeIndex(kept[1].view("datetime64[ns]")).tz_localize("UTC")
        return sessions, closes
    cal = calendar()
    raw = cal.sessions
    sessions = pd.DatetimeIndex(raw.tz_localize(None) if raw.tz else raw, freq=None)
    sessions = sessions.as_unit("ns")
    closes = pd.DatetimeIndex(cal.closes.reindex(raw).to_numpy(), freq=None)
    closes = (closes.tz_localize("UTC") if closes.tz is None else closes).as_unit("ns")
    memo.put_array("calendar", key, np.stack([sessions.asi8, closes.asi8]))
    return sessions, closes


def _valid_table(kept) -> bool:
    """A memo entry of two increasing int64 rows of the same, non-zero length."""
    if kept is None or kept.dtype != np.int64 or kept.ndim != 2 or kept.shape[0] != 2:
        return False
    return kept.shape[1] > 0 and bool((np.diff(kept, axis=1) > 0).all())


@lru_cache(maxsize=1)
def all_sessions() -> pd.DatetimeIndex:
    """Every HKEX session the calendar covers, ascending, tz-naive."""
    return _table()[0]


def session_closes() -> pd.DatetimeIndex:
    """The close of every session of :func:`all_sessions` (UTC), aligned with it."""
    return _table()[1]


def _as_ts(date) -> pd.Timestamp:
    ts = pd.Timestamp(date)
    if ts.tzinfo is not None:
        # A Hong Kong timestamp names its session by its local date: never shift to UTC.
        ts = ts.tz_localize(None)
    return ts.normalize()


def _as_index(dates) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(dates)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize()


def _check_bounds(idx: pd.DatetimeIndex) -> None:
    sessions = all_sessions()
    if len(idx) == 0:
        return
    lo, hi = idx.min(), idx.max()
    if lo < sessions[0]:
        raise OutsideCalendar(lo, sessions[0], sessions[-1])
    if hi > sessions[-1]:
        raise OutsideCalendar(hi, sessions[0], sessions[-1])


def is_session(date) -> bool:
    """Whether ``date`` is an HKEX session."""
    ts = _as_ts(date)
    _check_bounds(pd.DatetimeIndex([ts]))
    return ts in set_of_sessions()


@lru_cache(maxsize=1)
def set_of_sessions() -> frozenset:
    return frozenset(all_sessions())


def date_to_session(date, direction: Direction = "next", param_name: str = "date") -> pd.Timestamp:
    """The session on ``date``, or the next/previous one when it is not a session.

    Raises
    ------
    NotASession
        With ``direction="none"`` when ``date`` is not a session.
    """
    ts = _as_ts(date)
    if ts in set_of_sessions():
        return ts
    if direction == "none":
        raise NotASession(ts, param_name)
    if direction == "next":
        return next_session_on_or_after(ts)
    return previous_session_on_or_before(ts)


def next_sessions_on_or_after(dates) -> pd.DatetimeIndex:
    """Vectorised: for each date, the first session on or after it."""
    idx = _as_index(dates)
    _check_bounds(idx)
    sessions = all_sessions()
    pos = sessions.searchsorted(idx, side="left")
    return sessions[pos]


def next_sessions_after(dates) -> pd.DatetimeIndex:
    """Vectorised: for each date, the first session strictly after it."""
    idx = _as_index(dates)
    _check_bounds(idx)
    sessions = all_sessions()
    pos = sessions.searchsorted(idx, side="right")
    if len(pos) and pos.max() >= len(sessions):
        raise OutsideCalendar(idx.max(), sessions[0], sessions[-1])
    return sessions[pos]


def previous_sessions_on_or_before(dates) -> pd.DatetimeIndex:
    """Vectorised: for each date, the last session on or before it."""
    idx = _as_index(dates)
    _check_bounds(idx)
    sessions = all_sessions()
    pos = sessions.searchsorted(idx, side="right") - 1
    return sessions[pos]


def next_session_on_or_after(date) -> pd.Timestamp:
    return next_sessions_on_or_after([date])[0]


def next_session_after(date) -> pd.Timestamp:
    return next_sessions_after([date])[0]


def previous_session_on_or_before(date) -> pd.Timestamp:
    return previous_sessions_on_or_before([date])[0]


def sessions_months_after(sessions_from, months: int) -> pd.DatetimeIndex:
    """Vectorised: the first session on or after each date + ``months`` calendar months.

    Month arithmetic clamps to the month's end (2025-08-31 + 6 months = 2026-02-28),
    as ``pandas.DateOffset(months=n)`` does.
    """
    idx = _as_index(sessions_from)
    shifted = idx + pd.DateOffset(months=months)
    return next_sessions_on_or_after(shifted)


def session_months_after(session, months: int) -> pd.Timestamp:
    return sessions_months_after([session], months)[0]


def sessions_between(start, end) -> pd.DatetimeIndex:
    """Sessions in the closed range ``[start, end]``."""
    lo, hi = _as_ts(start), _as_ts(end)
    sessions = all_sessions()
    return sessions[(sessions >= lo) & (sessions <= hi)]


def session_positions(dates) -> np.ndarray:
    """Vectorised: the ordinal position of each session (``dates`` must be sessions).

    The difference of two positions is the number of sessions between them.
    """
    idx = _as_index(dates)
    sessions = all_sessions()
    pos = sessions.searchsorted(idx, side="left")
    clipped = np.minimum(pos, len(sessions) - 1)
    bad = sessions[clipped] != idx
    if bad.any():
        raise NotASession(idx[np.argmax(bad)])
    return pos


def count_sessions_between(start, end) -> int:
    """Number of sessions in ``(start, end]`` (0 when ``end <= start``)."""
    sessions = all_sessions()
    lo = sessions.searchsorted(_as_ts(start), side="right")
    hi = sessions.searchsorted(_as_ts(end), side="right")
    return max(0, int(hi - lo))


def early_closes() -> pd.DatetimeIndex:
    """Half-day sessions (they still count as sessions)."""
    ec = calendar().early_closes
    return pd.DatetimeIndex(ec.tz_localize(None) if ec.tz else ec)


def last_closed_session(now) -> pd.Timestamp:
    """The latest session whose close is at or before ``now``.

    ``now`` is a moment in time: tz-aware, or naive meaning UTC. Before a
    session's close (16:00 Hong Kong, 12:00 on half-days) its daily bar is
    not final, so the previous session is returned.
    """
    ts = pd.Timestamp(now)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    pos = int(session_closes().searchsorted(ts, side="right")) - 1
    if pos < 0:
        first = all_sessions()[0]
        raise OutsideCalendar(ts.tz_localize(None).normalize(), first, all_sessions()[-1])
    return all_sessions()[pos]


def previous_session_before(date) -> pd.Timestamp:
    """The last session strictly before ``date``."""
    ts = _as_ts(date)
    _check_bounds(pd.DatetimeIndex([ts]))
    sessions = all_sessions()
    pos = int(sessions.searchsorted(ts, side="left")) - 1
    if pos < 0:
        raise OutsideCalendar(ts, sessions[0], sessions[-1])
    return sessions[pos]


def sessions_after(sessions_from, n: int) -> pd.DatetimeIndex:
    """Vectorised: the session ``n`` sessions after each session (``n = 0``: itself).

    Raises
    ------
    NotASession
        A date of ``sessions_from`` is not a session.
    OutsideCalendar
        A result would fall after the calendar's last session.
    """
    if n < 0:
        raise ValueError(f"n={n} must be 0 or more")
    pos = session_positions(sessions_from) + n
    sessions = all_sessions()
    if len(pos) and pos.max() >= len(sessions):
        raise OutsideCalendar(_as_index(sessions_from).max(), sessions[0], sessions[-1])
    return sessions[pos]
