"""Invariants of the scorer, checked with hypothesis.

* the benchmark scored against itself has excess 0 at every checkpoint;
* multiplying a price series by a constant changes nothing;
* results as of a date never depend on prices after it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.recs.book import CALL_COLUMNS, load_scales
from tracker.scoring.core import score_calls

ROOT = Path(__file__).resolve().parents[2]
SCALES = load_scales(ROOT / "recs" / "scales")
DAYS = pd.bdate_range("2024-01-01", "2025-12-31", name="date")
RATINGS = ["buy", "overweight", "neutral", "underweight", "sell", "attention"]
EDGES_PP = np.array([0.0, 5.0, -5.0, 15.0, -15.0])
PROFILE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def universe(seed: int, n_tickers: int, hole_rate: float) -> pd.DataFrame:
    """Random walks on weekdays with holes (NaN), seeded."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.02, (len(DAYS), n_tickers))
    prices = 50 * np.exp(np.cumsum(steps, axis=0))
    prices[rng.random(prices.shape) < hole_rate] = np.nan
    return pd.DataFrame(prices, index=DAYS, columns=[f"{i + 1:04d}.HK" for i in range(n_tickers)])


def calls_for(seed: int, tickers: list[str], n_calls: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    published = DAYS[0] + pd.to_timedelta(rng.integers(0, 700, n_calls), unit="D")
    ratings = rng.choice(RATINGS, n_calls)
    return pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(n_calls)],
            "report": "r",
            "file": "",
            "broker": "B",
            "broker_local": None,
            "analysts": [["A"]] * n_calls,
            "published": published,
            "seen": pd.NaT,
            "start_date": published,
            "scale": "huaan",
            "name": "",
            "ticker": rng.choice(tickers, n_calls),
            "rating": ratings,
            "target_price": None,
            "target_currency": None,
            "horizon_min_months": 6,
            "horizon_max_months": np.where(ratings == "attention", 6, 12),
            "note": None,
        },
        columns=CALL_COLUMNS,
    )


params = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "n_tickers": st.integers(1, 4),
        "n_calls": st.integers(1, 12),
        "hole_rate": st.sampled_from([0.0, 0.05, 0.3]),
        "max_stale": st.integers(0, 4),
    }
)


@PROFILE
@given(p=params)
def test_benchmark_against_itself_has_zero_excess(p):
    closes = universe(p["seed"], p["n_tickers"], p["hole_rate"])
    first = closes.columns[0]
    calls = calls_for(p["seed"], [first], p["n_calls"])
    s = score_calls(
        calls, closes, closes[first].rename("^HSI"), SCALES, max_stale_sessions=p["max_stale"]
    )
    cps = s.checkpoints
    known = cps["excess"].notna()
    assert (cps.loc[known, "excess"] == 0.0).all()
    assert (cps.loc[known, "stock_return"] == cps.loc[known, "benchmark_return"]).all()
    matured = s.calls.loc[s.calls["excess"].notna() & (s.calls["status"] == "matured")]
    # Excess 0 sits in the neutral band: only neutral calls can be hits.
    assert set(matured.loc[matured["verdict"] == "hit", "rating"]) <= {"neutral"}


@PROFILE
@given(
    p=params,
    factors=st.lists(st.floats(1e-3, 1e3), min_size=5, max_size=5),
    bench_factor=st.floats(1e-3, 1e3),
)
def test_scaling_prices_changes_nothing(p, factors, bench_factor):
    closes = universe(p["seed"], p["n_tickers"] + 1, p["hole_rate"])
    bench = closes.iloc[:, -1].rename("^HSI") * 400
    closes = closes.iloc[:, :-1]
    calls = calls_for(p["seed"], list(closes.columns), p["n_calls"])
    scaled = closes * np.array(factors[: closes.shape[1]])
    a = score_calls(calls, closes, bench, SCALES, max_stale_sessions=p["max_stale"])
    b = score_calls(calls, scaled, bench * bench_factor, SCALES, max_stale_sessions=p["max_stale"])
    for col in ("stock_return", "benchmark_return", "excess"):
        np.testing.assert_allclose(
            a.checkpoints[col].to_numpy(float),
            b.checkpoints[col].to_numpy(float),
            rtol=1e-9,
            atol=1e-12,
            equal_nan=True,
        )
    assert (a.checkpoints["status"] == b.checkpoints["status"]).all()
    assert list(a.calls["status"]) == list(b.calls["status"])
    # Verdicts agree except where float noise could move a value across an edge.
    x_pp = a.calls["excess"].to_numpy(float) * 100
    near = np.abs(x_pp[:, None] - EDGES_PP[None, :]).min(axis=1) < 1e-6
    same = a.calls["verdict"].astype(str).to_numpy() == b.calls["verdict"].astype(str).to_numpy()
    assert (same | near).all()


@PROFILE
@given(p=params, cut=st.integers(50, len(DAYS) - 1), junk_seed=st.integers(0, 1000))
def test_as_of_never_reads_later_prices(p, cut, junk_seed):
    closes = universe(p["seed"], p["n_tickers"] + 1, p["hole_rate"])
    bench = closes.iloc[:, -1].rename("^HSI") * 400
    closes = closes.iloc[:, :-1]
    calls = calls_for(p["seed"], list(closes.columns), p["n_calls"])
    as_of = DAYS[cut]
    later = closes.index > as_of
    rng = np.random.default_rng(junk_seed)
    # Same history up to as_of; after it, different prices (or none at all).
    other = closes.copy()
    other.loc[later] = rng.uniform(1, 1000, other.loc[later].shape)
    other_bench = bench.copy()
    other_bench.loc[later] = np.nan
    a = score_calls(calls, closes, bench, SCALES, as_of, max_stale_sessions=p["max_stale"])
    b = score_calls(calls, other, other_bench, SCALES, as_of, max_stale_sessions=p["max_stale"])
    c = score_calls(
        calls,
        closes.loc[~later],
        bench.loc[~later],
        SCALES,
        as_of,
        max_stale_sessions=p["max_stale"],
    )
    for other_scores in (b, c):
        pd.testing.assert_frame_equal(a.calls, other_scores.calls)
        pd.testing.assert_frame_equal(a.checkpoints, other_scores.checkpoints)
    assert (a.calls["start_date"] <= as_of).all()
