"""The scorecard's targets section (:mod:`tracker.scorecard.targets`) on hand-made figures."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tracker.scorecard.card import build_scorecard, render_html, render_text
from tracker.scorecard.targets import targets_section

AS_OF = date(2025, 7, 11)  # week 2025-07-05 .. 2025-07-11

CALLS = pd.DataFrame(
    {
        "call_id": ["a", "b", "c", "d", "e"],
        "broker": ["UBS", "UBS", "CICC", "CICC", "CICC"],
        "name": ["Tencent", "Meituan", "Xiaomi", "Alibaba", "JD"],
        "ticker": ["0700.HK", "3690.HK", "1810.HK", "9988.HK", "9618.HK"],
        "rating": ["buy", "buy", "buy", "sell", "buy"],
        "entry_session": pd.to_datetime(["2024-06-03"] * 2 + ["2025-01-02"] * 3),
    }
)
NA = pd.NA
TARGETS = pd.DataFrame(
    {
        "compared_price": [500.0, 200.0, 60.0, 80.0, 180.0],
        "entry_price": [400.0, 150.0, 40.0, 100.0, 120.0],
        "last_price": [520.0, 140.0, 50.0, 90.0, 170.0],
        "direction": pd.array([1, 1, 1, -1, 1], dtype="Int64"),
        "status": ["matured", "matured", "pending", "pending", "pending"],
        "met": pd.array([True, False, NA, NA, True], dtype="boolean"),
        "met_session": pd.to_datetime(["2024-09-02", None, None, None, "2025-07-08"]),
        "sessions_to_met": pd.array([62, NA, NA, NA, 125], dtype="Int64"),
        "best_progress": [1.3, 0.2, 0.6, 0.4, 1.1],
        "error_at_end": [0.05, -0.4, np.nan, np.nan, np.nan],
        "optimism": [-0.05, 0.4, np.nan, np.nan, np.nan],
    }
)


def test_reached_nearest_furthest_and_accuracy():
    s = targets_section(CALLS, TARGETS, AS_OF, listed=1)
    # e met on 2025-07-08, inside the week.
    assert [t.call_id for t in s.reached_this_week] == ["e"]
    # Open and not met: c needs 60/50 - 1 = +20 %; d (down to 80 from 90) needs
    # -(80/90 - 1) = +11.1 %: d is nearest, c furthest.
    assert [t.call_id for t in s.nearest] == ["d"]
    assert s.nearest[0].to_go == pytest.approx(1 - 80 / 90)
    assert [t.call_id for t in s.furthest] == ["c"]
    assert s.furthest[0].to_go == pytest.approx(0.2)
    # UBS: a met, b not: 1/2; CICC has no matured target, so no row.
    (ubs,) = s.by_broker
    assert (ubs.broker, ubs.n, ubs.met) == ("UBS", 2, 1)
    assert ubs.median_sessions_to_met == 62
    assert ubs.mean_abs_error == pytest.approx((0.05 + 0.4) / 2)


def test_rendered_in_text_and_html():
    scored = CALLS.assign(
        start_date=CALLS["entry_session"],
        broker_local=None,
        analysts=[[]] * 5,
        status="open",
        verdict="pending",
        called_band="(15, inf)",
        horizon="12M",
        horizon_session=pd.Timestamp("2026-01-02"),
        entry_price=np.nan,
        excess=np.nan,
        stock_return=np.nan,
        benchmark_return=np.nan,
        realised_band=None,
        sessions_remaining=pd.array([NA] * 5, dtype="Int64"),
        reason="",
        note=None,
        direction=1,
    )
    index = pd.Series([24000.0, 24100.0], index=pd.to_datetime(["2024-12-31", "2025-07-11"]))
    section = targets_section(CALLS, TARGETS, AS_OF, listed=1)
    card = build_scorecard(scored, index, AS_OF, targets=section)
    text = render_text(card)
    assert "TARGET PRICES" in text
    assert "target 180.00 met 2025-07-08, 125 sessions after entry" in text
    assert "UBS" in text and "50% (1/2) [9-91%]" in text
    html = render_html(card, "cid:chart")
    assert "Target prices</h2>" in html and "+20.0%" in html
