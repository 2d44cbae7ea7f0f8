"""The source's history moves between two updates; the store must end as the source's series.

Each case stores the first part of a series, then lets the source revise its
history before the next update: a typo on one bar (any factor, on any stored
bar), a corrected typo (the store held the typo), a dividend going ex on any
day (earlier adjusted closes scaled), a split on any day (earlier prices
scaled), a split the source applies a day late, or nothing. An update can
only see what it asks for again: the last five stored sessions and what comes
after them. When the revision shows there (a bar differs, or a split or
dividend the store lacks appears), the store must end exactly as the source's
whole series; when it does not, the stored bars stay as they were and the new
ones are appended. Anything else is data lost. Expected frames are built here
from the case's parameters, not by tracker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from prices.test_prices_store import Recording, bars

from reliability.ledger import CRASH, DATA_LOST, INTACT, check
from reliability.profile import fuzz
from tracker import sessions
from tracker.prices import PriceStore, update_prices

CATEGORY = "prices: history revised between updates"
#: Stored sessions an update asks for again (tracker.prices.revisions.OVERLAP_SESSIONS).
OVERLAP = 5
PRICES = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "splits"]
#: 30 HKEX sessions from 2 January 2025 (the calendar, not arithmetic on days).
DAYS = list(sessions.sessions_between("2025-01-02", "2025-03-31")[:30])


def _now(day: pd.Timestamp) -> str:
    return f"{day.date()} 12:00"  # 20:00 in Hong Kong: that session has closed


@st.composite
def revisions(draw):
    stored = draw(st.integers(3, 25))  # sessions held before the second update
    kind = draw(st.sampled_from(["typo", "corrected", "dividend", "split", "late-split", "none"]))
    day = draw(st.integers(1, 29))
    factor = draw(st.sampled_from([10.0, 0.1, 2.0, 0.5, 1.03, 0.97, 1.0001, 100.0]))
    base = draw(st.lists(st.floats(5.0, 500.0), min_size=30, max_size=30))
    return stored, kind, day, factor, base


def frames(stored, kind, day, factor, base):
    """(what the store got first, what the source holds at the second update)."""
    closes = np.asarray(base)
    final = bars(DAYS, closes)
    first = bars(DAYS[:stored], closes[:stored])
    if kind == "typo":  # the source's later answer has a typo the store did not
        j = min(day, 29)
        final.loc[DAYS[j], ["open", "high", "low", "close", "adj_close"]] *= factor
    elif kind == "corrected":  # the store got a typo that the source has corrected since
        j = min(day, stored - 1)
        first.loc[DAYS[j], ["open", "high", "low", "close", "adj_close"]] *= factor
    elif kind == "dividend":
        amount = closes[day - 1] * 0.03
        f = 1 - amount / closes[day - 1]
        final.loc[DAYS[:day], "adj_close"] *= f
        final.loc[DAYS[day], "dividends"] = amount
    elif kind in ("split", "late-split"):
        r = 2.0
        before = DAYS[:day]
        final.loc[before, ["open", "high", "low", "close", "adj_close"]] /= r
        final.loc[before, "volume"] *= r
        final.loc[DAYS[day], "splits"] = r
        if kind == "late-split" and day < stored:
            # The first download already had the post-split price but not the adjustment.
            first = pd.concat([bars(DAYS[:day], closes[:day]), final.loc[DAYS[day:stored]]])
            first["splits"] = 0.0
    return first, final


def expected(first: pd.DataFrame, final: pd.DataFrame, stored: int) -> pd.DataFrame:
    """The source's whole series if the revision shows in what the update asks, else old + new."""
    seen_from = DAYS[max(0, stored - OVERLAP)]
    old = first.loc[first.index >= seen_from]
    new = final.loc[old.index]
    moved = not np.allclose(
        old[["close", "adj_close"]].to_numpy(), new[["close", "adj_close"]].to_numpy(), rtol=1e-9
    )
    later = final.loc[final.index >= seen_from]
    had = first.reindex(later.index).fillna(0.0)
    event = ((later["dividends"] != had["dividends"]) & (later["dividends"] != 0)).any() or (
        (later["splits"] != had["splits"]) & ~later["splits"].isin([0.0, 1.0])
    ).any()
    if moved or event:
        return final
    return pd.concat([first, final.loc[final.index > first.index[-1]]])


@fuzz(40, 600)
@given(revisions())
def test_store_ends_as_the_sources_series(tmp_path_factory, case):
    stored, kind, day, factor, base = case
    first, final = frames(stored, kind, day, factor, base)
    home = tmp_path_factory.mktemp("rev")
    store = PriceStore(home)
    name = f"{kind} on session {day + 1} (x{factor:g}), {stored} stored"
    try:
        update_prices(
            store, Recording({"X": first}), ["X"], since="2025-01-02", now=_now(DAYS[stored - 1])
        )
        result = update_prices(
            store, Recording({"X": final}), ["X"], since="2025-01-02", now=_now(DAYS[-1])
        ).results[0]
    except Exception as exc:  # noqa: BLE001 - any escape is the outcome to record
        check(CATEGORY, CRASH, name, f"{type(exc).__name__}: {exc}")
        return
    got = store.read_bars("X")[PRICES]
    want = expected(first, final, stored)[PRICES]
    same = got.index.equals(want.index) and np.allclose(
        got.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=1e-9, equal_nan=True
    )
    check(CATEGORY, INTACT if same else DATA_LOST, name, result.note or result.status)
