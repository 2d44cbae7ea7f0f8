"""A seeded synthetic universe on the real HKEX calendar, for benchmarks and stress tests.

``make_universe(n_tickers, n_sessions_or_years, n_calls, seed)`` returns a
calls frame shaped like :func:`tracker.recs.book.calls_frame` (scale
``default-hk``), a wide frame of closes and the index closes (``^HSI``).

Prices are geometric random walks with a market factor (daily index
volatility 1.2 %, stock beta around 1, idiosyncratic volatility 1.5–3 %).
The holes of real data are imitated: a tenth of the tickers list late (NaN
before their first bar), bars go missing one session at a time (0.2 % of
cells), a few tickers are suspended for one to thirty sessions, and the
index misses a couple of sessions. Same arguments, same universe.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.recs.book import CALL_COLUMNS

#: The universe ends on this date, so that it never depends on the clock.
END = pd.Timestamp("2025-12-31")
RATING_WEIGHTS = {
    "buy": 0.40,
    "overweight": 0.25,
    "neutral": 0.10,
    "underweight": 0.03,
    "sell": 0.02,
    "attention": 0.20,
}


def universe_sessions(n_sessions_or_years: int, end: pd.Timestamp = END) -> pd.DatetimeIndex:
    """HKEX sessions ending on or before ``end``: the last N years (N <= 100) or N sessions."""
    every = sessions.all_sessions()
    every = every[every <= end]
    if n_sessions_or_years <= 100:
        start = end - pd.DateOffset(years=n_sessions_or_years)
        return every[every > start]
    return every[-n_sessions_or_years:]


def tickers(n: int) -> list[str]:
    """Canonical HKEX tickers 0001.HK, 0002.HK ... (five digits from 10000)."""
    return [f"{i:04d}.HK" for i in range(1, n + 1)]


def make_prices(
    n_tickers: int, grid: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    n_sess = len(grid)
    market = rng.normal(0.0002, 0.012, n_sess)
    beta = rng.uniform(0.6, 1.4, n_tickers)
    vol = rng.uniform(0.015, 0.03, n_tickers)
    noise = rng.standard_normal((n_sess, n_tickers)) * vol
    log_ret = market[:, None] * beta + noise
    log_ret[0] = 0.0
    start = np.exp(rng.uniform(np.log(1.0), np.log(500.0), n_tickers))
    closes = start * np.exp(np.cumsum(log_ret, axis=0))
    index = 20000.0 * np.exp(np.cumsum(np.r_[0.0, market[1:]]))

    # Late listings: a tenth of the tickers have no bar before a random session.
    late = rng.random(n_tickers) < 0.10
    first = np.where(late, rng.integers(0, n_sess, n_tickers), 0)
    closes[np.arange(n_sess)[:, None] < first[None, :]] = np.nan
    # Single missing bars and a few suspensions.
    closes[rng.random((n_sess, n_tickers)) < 0.002] = np.nan
    for t in rng.choice(n_tickers, size=max(1, n_tickers // 100), replace=False):
        a = int(rng.integers(0, n_sess))
        closes[a : a + int(rng.integers(1, 31)), t] = np.nan
    index[rng.choice(np.arange(1, n_sess), size=min(2, n_sess - 1), replace=False)] = np.nan

    frame = pd.DataFrame(closes, index=grid, columns=tickers(n_tickers))
    frame.index.name = "date"
    return frame, pd.Series(index, index=grid, name="^HSI")


def make_calls(
    n_calls: int, symbols: list[str], grid: pd.DatetimeIndex, rng: np.random.Generator
) -> pd.DataFrame:
    n_brokers, n_analysts = 40, 300
    # Publication on any calendar day (weekends and holidays included).
    days = (grid[-1] - grid[0]).days
    published = grid[0] + pd.to_timedelta(rng.integers(0, days, n_calls), unit="D")
    ratings = rng.choice(list(RATING_WEIGHTS), size=n_calls, p=list(RATING_WEIGHTS.values()))
    broker_no = rng.integers(0, n_brokers, n_calls)
    analyst_no = rng.integers(0, n_analysts, n_calls)
    report_no = rng.integers(0, max(1, n_calls // 5), n_calls)
    attention = ratings == "attention"
    frame = pd.DataFrame(
        {
            "call_id": [f"r{r}#{i}" for i, r in enumerate(report_no)],
            "report": [f"r{r}" for r in report_no],
            "file": "",
            "broker": [f"Broker {b:02d}" for b in broker_no],
            "broker_local": None,
            "analysts": [[f"Analyst {a:03d}"] for a in analyst_no],
            "published": published,
            "seen": pd.NaT,
            "start_date": published,
            "scale": "default-hk",
            "name": "",
            "ticker": rng.choice(np.array(symbols, dtype=object), size=n_calls),
            "rating": ratings,
            "target_price": None,
            "target_currency": None,
            "horizon_min_months": np.where(attention, 6, 6),
            "horizon_max_months": np.where(attention, 6, 12),
            "note": None,
        },
        columns=CALL_COLUMNS,
    )
    return frame.sort_values(["published", "report"], kind="stable").reset_index(drop=True)


def make_universe(
    n_tickers: int = 2000,
    n_sessions_or_years: int = 10,
    n_calls: int = 100_000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """A seeded synthetic universe on the HKEX calendar.

    Parameters
    ----------
    n_tickers
        Number of stocks.
    n_sessions_or_years
        Up to 100: years of sessions ending 2025-12-31; above: that many sessions.
    n_calls
        Number of calls, published on uniformly random calendar days.
    seed
        Seed of the numpy generator; the same arguments give the same universe.

    Returns
    -------
    (calls, closes, index_closes)
    """
    rng = np.random.default_rng(seed)
    grid = universe_sessions(n_sessions_or_years)
    closes, index = make_prices(n_tickers, grid, rng)
    calls = make_calls(n_calls, list(closes.columns), grid, rng)
    return calls, closes, index
