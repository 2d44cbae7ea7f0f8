"""Statistics of a run, computed in numpy from the daily values (no vectorbt ``stats()``).

Conventions (see ``docs/backtest.md``, "Statistics"):

- daily returns ``r_t = V_t / V_{t-1} - 1`` over the run's sessions; the first
  session is the one before the first entry, so ``V_0`` is the initial capital;
- annualisation by :data:`tracker.constants.SESSIONS_PER_YEAR` (246) sessions, the
  HKEX average, the same figure scoring uses (empyrical's default is 252, the US
  convention; the tests pass 246 to it);
- risk-free rate 0; ratios are NaN (``null`` in JSON) when undefined (no
  dispersion, no drawdown).

The definitions are those of empyrical-reloaded (tests check them against it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tracker.constants import SESSIONS_PER_YEAR

#: Sessions per year used to annualise: the project's one figure.
PERIODS_PER_YEAR = SESSIONS_PER_YEAR


def daily_returns(values: pd.Series) -> pd.Series:
    """Simple returns from one session's value to the next (the first session has none)."""
    v = values.to_numpy(dtype=float)
    return pd.Series(v[1:] / v[:-1] - 1.0, index=values.index[1:], name=values.name)


def _nan_if_bad(x: float) -> float:
    return float(x) if math.isfinite(x) else float("nan")


def drawdown(values: pd.Series) -> pd.Series:
    """Fall from the running peak, as a fraction (0 at a new high, -0.25 = 25% below the peak)."""
    v = values.to_numpy(dtype=float)
    return pd.Series(v / np.maximum.accumulate(v) - 1.0, index=values.index, name="drawdown")


def max_drawdown_dates(values: pd.Series) -> dict:
    """Largest drawdown and when: ``max_drawdown`` (≤ 0), ``peak``, ``trough``, ``recovery``
    dates."""
    dd = drawdown(values).to_numpy()
    if len(dd) == 0 or dd.min() >= 0:
        return {"max_drawdown": 0.0, "peak": None, "trough": None, "recovery": None}
    trough = int(np.argmin(dd))
    v = values.to_numpy(dtype=float)
    peak = int(np.argmax(v[: trough + 1]))
    after = np.flatnonzero(v[trough:] >= v[peak])
    recovery = values.index[trough + after[0]] if len(after) else None
    return {
        "max_drawdown": float(dd[trough]),
        "peak": values.index[peak],
        "trough": values.index[trough],
        "recovery": recovery,
    }


def _mean(x: np.ndarray) -> float:
    """Mean of the values that are not NaN (NaN when there are none), as pandas' mean."""
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else float("nan")


def _std(x: np.ndarray) -> float:
    if len(x) < 2:
        return float("nan")
    s = float(np.std(x, ddof=1))
    # Same guard as empyrical: dispersion below float noise is no dispersion.
    return float("nan") if s <= 1e-12 * max(1.0, float(np.abs(x).mean())) else s


def return_stats(values: pd.Series, periods_per_year: int = PERIODS_PER_YEAR) -> dict:
    """Return and risk figures of one value series (portfolio or benchmark).

    Returns
    -------
    dict
        ``total_return``, ``cagr``, ``annual_volatility``, ``sharpe``,
        ``sortino``, ``max_drawdown`` with ``max_drawdown_peak`` /
        ``_trough`` / ``_recovery`` dates, ``calmar`` (fractions, not %).
    """
    r = daily_returns(values).to_numpy()
    n = len(r)
    total = float(values.iloc[-1] / values.iloc[0] - 1.0)
    cagr = (1.0 + total) ** (periods_per_year / n) - 1.0 if n else float("nan")
    sd = _std(r)
    mean = float(r.mean()) if n else float("nan")
    downside = (
        math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2))) * math.sqrt(periods_per_year)
        if n
        else float("nan")
    )
    dd = max_drawdown_dates(values)
    return {
        "total_return": total,
        "cagr": _nan_if_bad(cagr),
        "annual_volatility": _nan_if_bad(sd * math.sqrt(periods_per_year)),
        "sharpe": _nan_if_bad(mean / sd * math.sqrt(periods_per_year)),
        "sortino": _nan_if_bad(mean * periods_per_year / downside)
        if downside > 0
        else float("nan"),
        "max_drawdown": dd["max_drawdown"],
        "max_drawdown_peak": dd["peak"],
        "max_drawdown_trough": dd["trough"],
        "max_drawdown_recovery": dd["recovery"],
        "calmar": _nan_if_bad(cagr / abs(dd["max_drawdown"]))
        if dd["max_drawdown"] < 0
        else float("nan"),
    }


def relative_stats(
    values: pd.Series, benchmark: pd.Series, periods_per_year: int = PERIODS_PER_YEAR
) -> dict:
    """Beta, alpha (annualised), tracking error and information ratio versus the benchmark."""
    r = daily_returns(values).to_numpy()
    b = daily_returns(benchmark).to_numpy()
    if len(r) < 2:
        nan = float("nan")
        return {"beta": nan, "alpha": nan, "tracking_error": nan, "information_ratio": nan}
    b_res = b - b.mean()
    var_b = float(np.mean(b_res**2))
    beta = float(np.mean(b_res * r)) / var_b if var_b > 0 else float("nan")
    alpha = (1.0 + float(np.mean(r - beta * b))) ** periods_per_year - 1.0
    active = r - b
    te = _std(active)
    return {
        "beta": _nan_if_bad(beta),
        "alpha": _nan_if_bad(alpha),
        "tracking_error": _nan_if_bad(te * math.sqrt(periods_per_year)),
        "information_ratio": _nan_if_bad(float(active.mean()) / te * math.sqrt(periods_per_year)),
    }


def trade_stats(
    trades: pd.DataFrame, values: pd.Series, periods_per_year: int = PERIODS_PER_YEAR
) -> dict:
    """Counts, win rate and annual turnover from the trades frame."""
    # numpy on the few columns used: a sweep computes this once per variant, and
    # filtering the whole frame (25 columns) costs more than the figures.
    status = trades["status"].to_numpy(dtype=object)
    done = (status == "closed") | (status == "open")
    n = int(done.sum())
    entry_value = trades["entry_value_hkd"].to_numpy(dtype=float)[done]
    exit_value = trades["exit_value_hkd"].to_numpy(dtype=float)[done]
    # NaN (no value yet) counts as nothing, as pandas' sum skips it.
    traded_value = float(np.nansum(entry_value) + np.nansum(exit_value))
    years = (len(values) - 1) / periods_per_year
    mean_value = _mean(values.to_numpy(dtype=float))
    turnover = (
        traded_value / 2.0 / mean_value / years if years > 0 and mean_value > 0 else float("nan")
    )
    pnl = trades["pnl_hkd"].to_numpy(dtype=float)[done]
    return {
        "trades": n,
        "trades_open_at_end": int((status[done] == "open").sum()),
        "calls_skipped": int((status == "skipped").sum()),
        "win_rate": float((pnl > 0).mean()) if n else float("nan"),
        "turnover": _nan_if_bad(turnover),
    }


def run_stats(
    equity: pd.DataFrame, trades: pd.DataFrame, costs: dict[str, float], capital: float
) -> dict:
    """Every statistic of a run (``stats.json``): portfolio, benchmark, relative, trades, costs."""
    port = equity["portfolio"]
    bench = equity["benchmark"]
    invested = 1.0 - equity["cash"].to_numpy(dtype=float) / port.to_numpy(dtype=float)
    out = {
        "start": equity.index[0],
        "end": equity.index[-1],
        "sessions": len(equity) - 1,
        "initial_capital_hkd": float(capital),
        "final_equity_hkd": float(port.iloc[-1]),
        **return_stats(port),
        **relative_stats(port, bench),
        "excess_return": float(port.iloc[-1] / port.iloc[0] - bench.iloc[-1] / bench.iloc[0]),
        "average_exposure": _mean(invested[1:]) if len(invested) > 1 else 0.0,
        **trade_stats(trades, port),
        "costs_paid_hkd": float(costs.get("total", 0.0)),
        "costs_by_component_hkd": {k: float(v) for k, v in costs.items() if k != "total"},
        "benchmark": {"final_equity_hkd": float(bench.iloc[-1]), **return_stats(bench)},
    }
    return out
