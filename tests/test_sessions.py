"""HKEX session helpers. Expected values come from HKEX's published holiday
lists (written out by hand here), never from a calendar method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker import sessions

T = pd.Timestamp


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        pytest.param("2025-05-03", "2025-05-06", id="saturday-then-buddha-birthday-monday"),
        pytest.param("2025-01-29", "2025-02-03", id="lunar-new-year-29-31"),
        pytest.param("2025-04-18", "2025-04-22", id="good-friday-to-easter-monday"),
        pytest.param("2025-12-25", "2025-12-29", id="christmas-and-boxing-day"),
        pytest.param("2025-05-06", "2025-05-06", id="already-a-session"),
    ],
)
def test_next_session_on_or_after(date, expected):
    assert sessions.next_session_on_or_after(date) == T(expected)


def test_next_session_after_is_strict():
    # Huaan's report is dated Tuesday 2025-05-06: the next session is Wednesday.
    assert sessions.next_session_after("2025-05-06") == T("2025-05-07")
    # Caitong's article appeared Thursday 2025-09-18: enter Friday 2025-09-19.
    assert sessions.next_session_after("2025-09-18") == T("2025-09-19")


def test_half_days_are_sessions():
    # Christmas Eve, New Year's Eve and Lunar New Year's Eve close at noon but trade.
    for day in ["2024-12-24", "2024-12-31", "2025-01-28"]:
        assert sessions.is_session(day)
        assert T(day) in sessions.early_closes()


def test_months_after_clamps_and_rolls_to_a_session():
    # 2025-05-07 + 6 months = 2025-11-07, a Friday session.
    assert sessions.session_months_after("2025-05-07", 6) == T("2025-11-07")
    # 2025-08-29 + 6 months = 2026-02-28 (clamped: no Feb 29), a Saturday -> Monday 2026-03-02.
    assert sessions.session_months_after("2025-08-29", 6) == T("2026-03-02")
    # 2025-12-31 + 1 month = 2026-01-31, a Saturday -> Monday 2026-02-02.
    assert sessions.session_months_after("2025-12-31", 1) == T("2026-02-02")


def test_sessions_between_skips_weekend_and_holidays():
    got = sessions.sessions_between("2024-12-23", "2024-12-31")
    # 25 and 26 Dec are holidays, 28-29 a weekend.
    assert list(got) == [
        T(d) for d in ["2024-12-23", "2024-12-24", "2024-12-27", "2024-12-30", "2024-12-31"]
    ]
    assert sessions.count_sessions_between("2024-12-23", "2024-12-31") == 4


def test_vectorised_matches_scalar():
    dates = pd.DatetimeIndex(["2025-01-29", "2025-05-03", "2025-12-24"])
    assert list(sessions.next_sessions_after(dates)) == [
        T("2025-02-03"),
        T("2025-05-06"),
        T("2025-12-29"),
    ]


def test_direction_none_raises_for_a_holiday():
    with pytest.raises(sessions.NotASession, match="date=2025-12-25 is not an HKEX session"):
        sessions.date_to_session("2025-12-25", direction="none")
    assert sessions.date_to_session("2025-12-25", direction="previous") == T("2025-12-24")


def test_hong_kong_timestamps_keep_their_local_date():
    # 2025-05-07 00:00 in Hong Kong is 2025-05-06 16:00 UTC: the session is still the 7th.
    ts = pd.Timestamp("2025-05-07 00:00", tz="Asia/Hong_Kong")
    assert sessions.date_to_session(ts) == T("2025-05-07")


def test_outside_the_calendar_is_an_error():
    with pytest.raises(sessions.OutsideCalendar, match="1990-01-02 is outside the HKEX calendar"):
        sessions.next_session_on_or_after("1990-01-02")


# ----------------------------------------------------------------------------- the memo


def _fresh_process_state():
    """Forget what this process computed, as a new process would."""
    for f in (sessions.calendar, sessions._table, sessions.all_sessions, sessions.set_of_sessions):
        f.cache_clear()


@pytest.fixture
def calendar_memo(tmp_path):
    from tracker import memo

    memo.use(tmp_path / "cache")
    _fresh_process_state()
    yield tmp_path / "cache" / "calendar"
    memo.use(None)
    _fresh_process_state()


def _from_calendar():
    cal = sessions.calendar()
    raw = cal.sessions
    return pd.DatetimeIndex(raw.tz_localize(None) if raw.tz else raw), cal.closes


def test_sessions_read_from_the_memo_equal_the_calendars(calendar_memo):
    first = sessions.all_sessions()
    assert len(list(calendar_memo.glob("*.npy"))) == 1
    _fresh_process_state()
    second = sessions.all_sessions()  # read back from the memo, no calendar built
    assert sessions.calendar.cache_info().currsize == 0
    expected, closes = _from_calendar()
    for got in (first, second):
        assert got.equals(expected) and got.dtype == expected.dtype
    _fresh_process_state()
    assert sessions.session_closes().equals(pd.DatetimeIndex(closes.to_numpy()))
    # A close moment in Hong Kong, read through the memo's closes: Christmas Eve 2024 is a
    # half day (close 12:00 HKT = 04:00 UTC).
    assert sessions.last_closed_session(T("2024-12-24 04:30", tz="UTC")) == T("2024-12-24")
    assert sessions.last_closed_session(T("2024-12-24 03:30", tz="UTC")) == T("2024-12-23")


@pytest.mark.parametrize(
    "planted",
    [
        np.zeros((2, 0), dtype=np.int64),
        np.array([[2, 1], [4, 3]], dtype=np.int64),
        np.array([[1, 2, 3]], dtype=np.int64),
        np.array([[1.0, 2.0], [3.0, 4.0]]),
    ],
    ids=["empty", "decreasing", "one-row", "floats"],
)
def test_a_memo_entry_that_is_not_a_calendar_is_ignored(calendar_memo, planted):
    sessions.all_sessions()
    (entry,) = calendar_memo.glob("*.npy")
    np.save(entry, planted)
    _fresh_process_state()
    expected, _ = _from_calendar()
    _fresh_process_state()
    assert sessions.all_sessions().equals(expected)
    assert sessions.calendar.cache_info().currsize == 1  # built again
