"""Roll-ups (tracker.scoring.rollup) on hand-made scored calls; expected values worked out by
hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.constants import SESSIONS_PER_YEAR
from tracker.scoring.rollup import (
    UnknownGrouping,
    bootstrap_mean_ci,
    calendar_time,
    confusion_matrix,
    mark_positions,
    rollup,
)

TOL = 1e-12
DIRECTION = {"buy": 1, "overweight": 1, "attention": 1, "neutral": 0, "underweight": -1, "sell": -1}


def scored(*rows: tuple) -> pd.DataFrame:
    """(call_id, broker, analysts, ticker, rating, entry, horizon, status, verdict, excess,
    band)."""
    out = []
    for (
        cid,
        broker,
        analysts,
        ticker,
        rating,
        entry,
        horizon,
        status,
        verdict,
        excess,
        band,
    ) in rows:
        out.append(
            {
                "call_id": cid,
                "report": cid.split("#")[0],
                "broker": broker,
                "analysts": analysts,
                "ticker": ticker,
                "rating": rating,
                "benchmark": "^HSI",
                "entry_session": pd.Timestamp(entry),
                "horizon_session": pd.Timestamp(horizon),
                "entry_price": np.nan if status == "no data" else 10.0,
                "direction": DIRECTION[rating],
                "status": status,
                "verdict": verdict,
                "excess": excess,
                "realised_band": band,
            }
        )
    return pd.DataFrame(out)


CALLS = scored(
    (
        "r1#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "buy",
        "2025-01-02",
        "2026-01-02",
        "matured",
        "hit",
        0.20,
        "buy",
    ),
    (
        "r1#2",
        "Alpha",
        ["Ann"],
        "0002.HK",
        "buy",
        "2025-01-02",
        "2026-01-02",
        "matured",
        "miss",
        -0.10,
        "underweight",
    ),
    (
        "r2#1",
        "Alpha",
        ["Ann", "Bob"],
        "0003.HK",
        "sell",
        "2025-02-03",
        "2026-02-03",
        "matured",
        "right direction",
        -0.08,
        "underweight",
    ),
    (
        "r2#2",
        "Alpha",
        ["Ann", "Bob"],
        "0004.HK",
        "neutral",
        "2025-02-03",
        "2026-02-03",
        "matured",
        "hit",
        0.01,
        "neutral",
    ),
    (
        "r3#1",
        "Beta",
        [],
        "0001.HK",
        "overweight",
        "2025-03-03",
        "2026-03-03",
        "open",
        "on track",
        0.07,
        "overweight",
    ),
    (
        "r3#2",
        "Beta",
        [],
        "0005.HK",
        "buy",
        "2025-03-03",
        "2026-03-03",
        "no data",
        "no data",
        np.nan,
        None,
    ),
    (
        "r4#1",
        "Beta",
        ["Cy"],
        "0002.HK",
        "buy",
        "2024-06-03",
        "2025-06-03",
        "matured",
        "no data",
        np.nan,
        None,
    ),
)


def row(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    return frame.set_index(key).loc[value]


def test_rollup_by_broker():
    r = rollup(CALLS, "broker", n_boot=2000)
    a = row(r, "broker", "Alpha")
    assert (a["calls"], a["matured"], a["open"], a["no_data"]) == (4, 4, 0, 0)
    assert (a["scored"], a["hits"], a["right_direction"], a["misses"]) == (4, 2, 1, 1)
    assert a["hit_rate"] == 0.5  # 2 / 4
    # Directional excess: buy +0.20, buy -0.10, sell -(-0.08) = +0.08; neutral excluded.
    assert a["excess_n"] == 3
    assert abs(a["mean_excess"] - (0.20 - 0.10 + 0.08) / 3) < TOL  # 0.06
    assert abs(a["median_excess"] - 0.08) < TOL
    assert a["best_call"] == "r1#1" and abs(a["best_excess"] - 0.20) < TOL
    assert a["worst_call"] == "r1#2" and abs(a["worst_excess"] + 0.10) < TOL
    assert a["ci_low"] <= a["mean_excess"] <= a["ci_high"]
    assert -0.10 - TOL <= a["ci_low"] and a["ci_high"] <= 0.20 + TOL  # within the data's range
    b = row(r, "broker", "Beta")
    assert (b["calls"], b["matured"], b["open"], b["no_data"], b["scored"]) == (3, 1, 1, 2, 0)
    assert np.isnan(b["hit_rate"]) and b["excess_n"] == 0 and np.isnan(b["mean_excess"])
    assert pd.isna(b["best_call"])


def test_rollup_by_analyst_counts_a_call_for_each_analyst():
    r = rollup(CALLS, "analyst", n_boot=200)
    assert row(r, "analyst", "Ann")["calls"] == 4
    assert row(r, "analyst", "Bob")["calls"] == 2
    assert row(r, "analyst", "Cy")["calls"] == 1
    assert row(r, "analyst", "(no analyst named)")["calls"] == 2


@pytest.mark.parametrize(
    ("by", "key", "calls", "hits"),
    [
        pytest.param("rating", "buy", 4, 1, id="rating"),
        pytest.param("ticker", "0001.HK", 2, 1, id="ticker"),
        pytest.param("report", "r2", 2, 1, id="report"),
    ],
)
def test_rollup_other_groupings(by, key, calls, hits):
    r = rollup(CALLS, by, n_boot=200)
    assert row(r, by, key)["calls"] == calls
    assert row(r, by, key)["hits"] == hits


def test_unknown_grouping():
    with pytest.raises(UnknownGrouping, match="cannot roll up by 'sector'"):
        rollup(CALLS, "sector")


def test_bootstrap_is_seeded_and_exact_on_known_cases():
    rng = np.random.default_rng
    # All values equal: every resample mean is that value.
    assert bootstrap_mean_ci(np.full(5, 0.03), rng(1), 500) == pytest.approx((0.03, 0.03))
    # Two values {0, 1}: resample means are 0, 0.5, 1 with chances 1/4, 1/2, 1/4,
    # so the 2.5 % and 97.5 % quantiles are 0 and 1.
    assert bootstrap_mean_ci(np.array([0.0, 1.0]), rng(2), 4000) == (0.0, 1.0)
    assert np.isnan(bootstrap_mean_ci(np.array([0.5]), rng(3), 100)[0])
    values = np.array([0.1, -0.2, 0.05, 0.3, 0.0])
    assert bootstrap_mean_ci(values, rng(7), 1000) == bootstrap_mean_ci(values, rng(7), 1000)
    r1 = rollup(CALLS, "broker", n_boot=500, seed=5)
    r2 = rollup(CALLS, "broker", n_boot=500, seed=5)
    pd.testing.assert_frame_equal(r1, r2)


def test_bootstrap_matches_a_plain_resampling_loop():
    # Independent oracle: the normal-approximation interval of the mean
    # (mean +- 1.96 sd / sqrt(n)) is close to the percentile interval for n = 400.
    values = np.random.default_rng(0).normal(0.02, 0.1, 400)
    lo, hi = bootstrap_mean_ci(values, np.random.default_rng(1), 10_000)
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    assert abs(lo - (values.mean() - half)) < 0.002
    assert abs(hi - (values.mean() + half)) < 0.002


# --------------------------------------------------------------------------- positions

POS = scored(
    # A opens a position (to expire 2026-01-02); B (same broker, ticker and
    # rating) is a reiteration. D, the same day, downgrades to overweight: it
    # closes A and opens its own. C and F (buy, at or above D's overweight,
    # same side, within 12 months of D) are reiterations of D. E, another
    # broker, has its own position.
    (
        "A#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "buy",
        "2025-01-02",
        "2025-07-02",
        "matured",
        "hit",
        0.20,
        "buy",
    ),
    (
        "B#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "buy",
        "2025-03-03",
        "2025-09-03",
        "matured",
        "hit",
        0.18,
        "buy",
    ),
    (
        "C#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "buy",
        "2025-07-02",
        "2026-01-02",
        "matured",
        "miss",
        -0.05,
        "underweight",
    ),
    (
        "D#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "overweight",
        "2025-03-03",
        "2025-09-03",
        "matured",
        "hit",
        0.06,
        "overweight",
    ),
    (
        "E#1",
        "Beta",
        ["Bo"],
        "0001.HK",
        "buy",
        "2025-03-03",
        "2025-09-03",
        "matured",
        "miss",
        -0.02,
        "neutral",
    ),
    (
        "F#1",
        "Alpha",
        ["Ann"],
        "0001.HK",
        "buy",
        "2025-08-01",
        "2026-02-02",
        "matured",
        "hit",
        0.30,
        "buy",
    ),
)


def test_reiterations_are_marked():
    marked = mark_positions(POS).set_index("call_id")
    assert list(marked["reiteration"]) == [False, True, True, False, False, True]
    assert marked.loc["B#1", "position"] == "A#1"
    assert marked.loc["C#1", "position"] == marked.loc["F#1", "position"] == "D#1"
    assert "position" not in POS.columns  # the argument is not mutated


def test_positions_count_each_position_once():
    calls_view = row(rollup(POS, "broker", n_boot=100), "broker", "Alpha")
    pos_view = row(rollup(POS, "broker", positions=True, n_boot=100), "broker", "Alpha")
    assert (calls_view["calls"], calls_view["hits"]) == (5, 4)
    # Positions A and D: both hits; B, C and F are reiterations.
    assert (pos_view["calls"], pos_view["hits"], pos_view["reiterations"]) == (2, 2, 3)
    assert abs(pos_view["mean_excess"] - (0.20 + 0.06) / 2) < TOL


# --------------------------------------------------------------------------- confusion


def test_confusion_matrix():
    m = confusion_matrix(CALLS)
    # Matured with a band: r1#1 buy->buy, r1#2 buy->underweight,
    # r2#1 sell->underweight, r2#2 neutral->neutral.
    assert list(m.index) == ["buy", "overweight", "neutral", "sell"]
    assert m.loc["buy", "buy"] == 1 and m.loc["buy", "underweight"] == 1
    assert m.loc["buy", "calls"] == 2
    assert m.loc["sell", "underweight"] == 1
    assert m.loc["neutral", "neutral"] == 1
    assert m.loc["overweight", "calls"] == 0  # open, not counted
    assert int(m["calls"].sum()) == 4


def test_confusion_matrix_positions():
    m = confusion_matrix(POS, positions=True)
    assert m.loc["buy", "calls"] == 2  # A, E (B, C and F are reiterations)
    assert m.loc["overweight", "overweight"] == 1


# --------------------------------------------------------------------------- calendar time


def test_calendar_time_portfolio():
    grid = pd.DatetimeIndex(
        ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08"], name="date"
    )
    stock = pd.DataFrame(
        {
            "0001.HK": [np.nan, 0.02, 0.01, -0.01, 0.03],
            "0002.HK": [np.nan, 0.00, 0.04, 0.02, np.nan],
        },
        index=grid,
    )
    bench = pd.DataFrame({"^HSI": [np.nan, 0.01, 0.01, 0.00, 0.01]}, index=grid)
    calls = scored(
        # buy 0001 entered 01-02, held 01-03..01-07 (horizon session inclusive)
        (
            "a#1",
            "Alpha",
            ["Ann"],
            "0001.HK",
            "buy",
            "2025-01-02",
            "2025-01-07",
            "matured",
            "hit",
            0.1,
            "buy",
        ),
        # sell 0002 entered 01-03, open past the grid: held 01-06..01-08
        (
            "b#1",
            "Alpha",
            ["Ann"],
            "0002.HK",
            "sell",
            "2025-01-03",
            "2025-06-03",
            "open",
            "on track",
            0.1,
            "buy",
        ),
        # neutral: not in the portfolio
        (
            "c#1",
            "Alpha",
            ["Ann"],
            "0002.HK",
            "neutral",
            "2025-01-02",
            "2025-06-03",
            "open",
            "on track",
            0.0,
            "neutral",
        ),
    )
    daily, summary = calendar_time(calls, stock, bench)
    ex = daily[("Alpha", "excess")]
    n = daily[("Alpha", "calls")]
    # 01-03: a only: 0.02-0.01 = 0.01
    # 01-06: a: 0.01-0.01 = 0; b (sell): -(0.04-0.01) = -0.03; mean -0.015
    # 01-07: a: -0.01-0 = -0.01; b: -(0.02-0) = -0.02; mean -0.015
    # 01-08: b: stock return unknown -> no call held
    expected = [np.nan, 0.01, -0.015, -0.015, np.nan]
    np.testing.assert_allclose(ex.to_numpy(), expected, atol=TOL)
    assert list(n) == [0, 1, 2, 2, 0]
    s = row(summary, "broker", "Alpha")
    mean = (0.01 - 0.015 - 0.015) / 3
    sd = np.sqrt(((0.01 - mean) ** 2 + 2 * (-0.015 - mean) ** 2) / 2)
    assert s["sessions"] == 3
    assert abs(s["mean_daily"] - mean) < TOL
    assert abs(s["annualised_mean"] - mean * SESSIONS_PER_YEAR) < TOL
    assert abs(s["t_stat"] - mean / (sd / np.sqrt(3))) < 1e-9
    assert abs(s["mean_open_calls"] - 5 / 3) < TOL
