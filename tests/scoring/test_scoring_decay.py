"""Information decay (`score --decay`): excess at the horizon for entries N sessions late.

Prices are hand-made weekday series; the expected excesses are worked out by hand
from the entry prices each delay meets (2025-09-01 is the usual entry of a call
published Friday 2025-08-29; one session later is 09-02, two 09-03).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_scoring import SCALES, calls_frame, flat

from tracker.scoring.decay import decay_table, delayed_excess


def market():
    # 0001.HK: 100 up to 09-01, then 110 for good: the whole move comes the day after entry.
    a = flat(100.0)
    a[a.index >= "2025-09-02"] = 110.0
    # 0002.HK: 50 up to 09-02, 45 on 09-03, 40 from 09-04.
    b = flat(50.0)
    b[b.index >= "2025-09-03"] = 45.0
    b[b.index >= "2025-09-04"] = 40.0
    closes = pd.DataFrame({"0001.HK": a, "0002.HK": b})
    return closes, flat(20000.0).rename("^HSI")


def test_excess_for_each_delay_by_hand():
    closes, hsi = market()
    calls = calls_frame(
        {"call_id": "a", "ticker": "0001.HK", "rating": "attention", "broker": "A"},
        {"call_id": "b", "ticker": "0002.HK", "rating": "sell", "broker": "B"},
        # Published 2026-12-01: not matured at any delay, so left out everywhere.
        {
            "call_id": "c",
            "ticker": "0001.HK",
            "rating": "buy",
            "broker": "A",
            "published": "2026-12-01",
        },
    )
    x = delayed_excess(calls, closes, hsi, SCALES, delays=(0, 1, 2))
    # a: entry 100 -> 110 at the horizon: +10%; entered at 110 a session later: 0.
    # b (sell, directional = -excess): 50 -> 40 = -20% -> +20% at delays 0 and 1 (entry 50);
    #   at delay 2 the entry is 45: 40 / 45 - 1 = -11.11% -> +11.11%.
    expected = np.array([[0.10, 0.0, 0.0], [0.20, 0.20, 0.2 / 1.8], [np.nan] * 3])
    np.testing.assert_allclose(x.to_numpy(), expected, atol=1e-12)
    assert list(x.columns) == ["excess_d0", "excess_d1", "excess_d2"]

    table = decay_table(calls, x, by="broker")
    assert table["broker"].tolist() == ["A", "B"]
    assert table["calls"].tolist() == [1, 1]
    np.testing.assert_allclose(table["excess_d1"], [0.0, 0.20], atol=1e-12)
    # Left at +2: 0 / 0.10 = 0 for A; (0.2 / 1.8) / 0.2 = 5/9 for B.
    np.testing.assert_allclose(table["left_d2"], [0.0, 5 / 9], atol=1e-12)


def test_only_calls_matured_at_every_delay_are_counted():
    closes, hsi = market()
    # Cut the prices so that the attention call (horizon 6M from its entry) matures when
    # entered on time (2026-03-02) but not two sessions late (due 2026-03-03).
    cut = closes.loc[:"2026-03-02"]
    calls = calls_frame(
        {"call_id": "a", "ticker": "0001.HK", "rating": "attention", "broker": "A"},
        {"call_id": "a2", "ticker": "0002.HK", "rating": "attention", "broker": "A"},
    )
    x = delayed_excess(calls, cut, hsi.loc[:"2026-03-02"], SCALES, delays=(0, 2))
    assert x["excess_d0"].notna().all() and x["excess_d2"].isna().all()
    table = decay_table(calls, x, by="broker")
    assert table.empty


@pytest.mark.parametrize("delay", [0, 3])
def test_delay_zero_is_plain_scoring(delay):
    from tracker.scoring.core import score_calls
    from tracker.scoring.rollup import directional_excess

    closes, hsi = market()
    calls = calls_frame({"call_id": "b", "ticker": "0002.HK", "rating": "sell", "broker": "B"})
    x = delayed_excess(calls, closes, hsi, SCALES, delays=(0, delay))
    plain = directional_excess(score_calls(calls, closes, hsi, SCALES).calls)
    assert x["excess_d0"].iloc[0] == pytest.approx(plain.iloc[0], abs=1e-15)
