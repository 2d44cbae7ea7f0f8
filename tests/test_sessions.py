"""HKEX session helpers. Expected values come from HKEX's published holiday
lists (written out by hand here), never from a calendar method."""

from __future__ import annotations

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
