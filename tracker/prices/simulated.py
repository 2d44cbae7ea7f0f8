"""The SIMULATED sample: seeded one-factor prices so the demo runs with no network.

These are not market prices. Every output made from them says so in its first
line (the store records their source as ``"simulated"``).

Model, on HKEX sessions from :data:`EPOCH` (daily log returns):

* market factor ``m_t ~ N(MU, SIGMA_M)``, ``MU = 0.0002``, ``SIGMA_M = 0.013``
  (about 5 % a year and 20 % annualised volatility, in the range of the Hang
  Seng Index);
* an index symbol (leading ``^``): ``r_t = m_t`` for ``^HSI``, otherwise
  ``beta * m_t + e_t`` with ``beta`` in [0.9, 1.5] and ``e_t ~ N(0, 0.004)``;
  starts at 20,000 (``^HSI``) or 5,000 points; no dividends;
* ``2800.HK`` (the Tracker Fund): ``r_t = m_t + e_t``, ``e_t ~ N(0, 0.001)``,
  starts at 20,000 / 1,000 = 20.0 HKD, dividend yield 3 %;
* any other stock: ``r_t = beta * m_t + e_t``, ``beta`` in [0.6, 1.4],
  ``e_t ~ N(0, sigma)`` with ``sigma`` in [0.010, 0.025], start price in
  [5, 500] HKD (log-uniform), dividend yield in [0, 5 %].

``r_t`` is the *total* return. A stock pays its yearly dividend on the first
session on or after 15 June: ``D = yield * close[t-1]``, and
``close[t] = close[t-1] * exp(r_t) - D`` (the price drops by the dividend).
``adj_close`` is the total-return path ``close[0] * exp(cumsum r)``, i.e.
adjusted forward from the first session, so it never changes when the sample
is extended. Open, high, low and volume are drawn around the close.

Every random stream (the factor; each symbol's parameters, returns, opens,
highs, lows, volumes) has its own generator seeded from ``SEED`` and a label
(SHA-256). Draws run from :data:`EPOCH` in session order, so a value never
depends on the range asked for or on the other symbols.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.constants import DEFAULT_BENCHMARK, TOTAL_RETURN_BENCHMARK
from tracker.prices.source import SIMULATED, EmptyResult

SEED = 20240101
EPOCH = pd.Timestamp("2018-01-02")
MU = 0.0002
SIGMA_M = 0.013
DIVIDEND_MONTH_DAY = (6, 15)


def _rng(label: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{SEED}:{label}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _dividend_days(days: pd.DatetimeIndex) -> np.ndarray:
    """Boolean mask: first session on or after 15 June of each year (not the first day)."""
    years = range(days[0].year, days[-1].year + 1)
    targets = [pd.Timestamp(y, *DIVIDEND_MONTH_DAY) for y in years]
    targets = [t for t in targets if t <= days[-1]]
    ex = sessions.next_sessions_on_or_after(targets) if targets else pd.DatetimeIndex([])
    mask = days.isin(ex)
    mask[0] = False
    return mask


def simulated_bars(symbol: str, end) -> pd.DataFrame:
    """The simulated bars of ``symbol`` from :data:`EPOCH` to ``end`` (inclusive).

    Returns
    -------
    pandas.DataFrame
        In the bar schema of :mod:`tracker.prices.source`.
    """
    days = sessions.sessions_between(EPOCH, end)
    n = len(days)
    market = _rng("market").normal(MU, SIGMA_M, n)
    params = _rng(f"{symbol}:params")
    noise = _rng(f"{symbol}:returns").standard_normal(n)
    is_index = symbol.startswith("^")
    if symbol == DEFAULT_BENCHMARK:
        beta, sigma, start, dividend_yield = 1.0, 0.0, 20_000.0, 0.0
    elif is_index:
        beta, sigma, start, dividend_yield = params.uniform(0.9, 1.5), 0.004, 5_000.0, 0.0
    elif symbol == TOTAL_RETURN_BENCHMARK:
        beta, sigma, start, dividend_yield = 1.0, 0.001, 20.0, 0.03
    else:
        beta, sigma = params.uniform(0.6, 1.4), params.uniform(0.010, 0.025)
        start = float(np.exp(params.uniform(np.log(5), np.log(500))))
        dividend_yield = params.uniform(0.0, 0.05)
    returns = beta * market + sigma * noise
    returns[:1] = 0.0  # the first session is the starting level
    ex = _dividend_days(days) if n else np.zeros(0, dtype=bool)
    ratio = np.exp(returns) - dividend_yield * ex  # close[t] / close[t-1]
    close = start * np.cumprod(ratio)
    prev_close = np.concatenate([[start], close[:-1]])
    adj_close = start * np.exp(np.cumsum(returns))
    # Intraday spread scaled by the model's daily volatility; one stream per field
    # so that each value depends only on its session, never on the range.
    day_sigma = float(np.hypot(beta * SIGMA_M, sigma))
    open_ = prev_close * np.exp(0.3 * day_sigma * _rng(f"{symbol}:open").standard_normal(n))
    open_[:1] = start
    up = np.abs(_rng(f"{symbol}:high").standard_normal(n))
    down = np.abs(_rng(f"{symbol}:low").standard_normal(n))
    high = np.maximum(open_, close) * np.exp(0.5 * day_sigma * up)
    low = np.minimum(open_, close) * np.exp(-0.5 * day_sigma * down)
    typical = np.log(2e9 if is_index else 1e7)
    volume = np.round(np.exp(typical + 0.4 * _rng(f"{symbol}:volume").standard_normal(n)))
    return pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": adj_close,
            "volume": volume,
            "dividends": dividend_yield * prev_close * ex,
            "splits": 0.0,
        },
        index=pd.DatetimeIndex(days, name="date"),
    )


class SimulatedSource:
    """The seeded sample as a :class:`~tracker.prices.source.PriceSource` (offline, any symbol)."""

    name = SIMULATED
    simulated = True

    def fetch(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        bars = simulated_bars(symbol, end)
        bars = bars[bars.index >= start]
        if bars.empty:
            raise EmptyResult(symbol, f"the simulated sample starts {EPOCH.date()}")
        return bars
