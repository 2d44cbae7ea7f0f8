"""Roll-ups of scored calls: by broker, analyst, report, rating or ticker.

Pure functions over the per-call frame of :func:`tracker.scoring.core.score_calls`
(``Scores.calls``); no files, no clock. Every figure comes with the number of
calls it rests on.

Definitions
-----------
* **Directional excess**: ``excess`` for a positive call (buy, overweight,
  attention), ``-excess`` for a negative one (underweight, sell), undefined
  for neutral (its band straddles zero). Mean, median, the bootstrap interval
  and best/worst call use it, on matured calls only, so that "higher is
  better" holds for every call.
* **Hit rate**: hits / matured calls with a verdict (``scored``).
* **Bootstrap interval**: percentile interval of the mean directional excess
  over ``n_boot`` resamples with replacement (Efron & Tibshirani, *An
  Introduction to the Bootstrap*, 1993), drawn from a generator seeded by
  ``seed`` and the group's name, so the figures are reproducible.
* **Positions** (:func:`tracker.scoring.revisions.positions`): a later call by
  the same broker on the same ticker that keeps an open position (same side,
  rating not below the opening one, within 12 months) is a *reiteration* of
  it. With ``positions=True`` each position counts once, scored as its first
  call.
* **Calendar-time portfolio** (Jaffe 1974; Mandelker 1974; recommended by Fama
  1998, "Market efficiency, long-term returns, and behavioral finance", JFE 49;
  Lyon, Barber & Tsai 1999, "Improved methods for tests of long-run abnormal
  stock returns", JF 54; Mitchell & Stafford 2000, "Managerial decisions and
  long-term stock price performance", JB 73): on each session, the
  equal-weighted mean of the daily directional excess returns of the group's
  open calls (held from the session after entry to the horizon session or the
  last session scored). The time series of these means is then averaged: its
  mean is annualised with :data:`tracker.constants.SESSIONS_PER_YEAR` and
  tested with a plain t-statistic ``mean / (sd / sqrt(sessions))``. Because
  each session is one observation, overlapping calls are not counted as
  independent, which is why this view is preferred to t-tests on
  buy-and-hold excess returns (skewed and cross-correlated; they over-reject).
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np
import pandas as pd

from tracker.constants import RATINGS, RATINGS_DESCENDING, SESSIONS_PER_YEAR
from tracker.errors import TrackerError
from tracker.vocab import GROUP_BY, SCORED_VERDICTS

GroupBy = Literal[GROUP_BY]
#: Bootstrap resamples of the mean directional excess.
N_BOOT = 10_000
CI_LEVEL = 0.95
NO_ANALYST = "(no analyst named)"

_SCORED = SCORED_VERDICTS


class UnknownGrouping(TrackerError):
    def __init__(self, value: str):
        super().__init__(f"cannot roll up by {value!r}; use one of {', '.join(GROUP_BY)}")


def directional_excess(calls: pd.DataFrame) -> pd.Series:
    """Excess in the call's direction (fraction); NaN for neutral calls or no excess."""
    d = calls["direction"].to_numpy(dtype=float)
    x = calls["excess"].to_numpy(dtype=float)
    return pd.Series(np.where(d != 0, d * x, np.nan), index=calls.index, name="directional_excess")


def mark_positions(calls: pd.DataFrame) -> pd.DataFrame:
    """Add ``position`` (id of the call that opened it) and ``reiteration`` (bool).

    Positions follow :func:`tracker.scoring.revisions.positions`: a position
    opens at a call and closes at a downgrade below its opening rating (or to
    the other side), or 12 months after it opened; later calls that keep it
    are reiterations and do not restart it.
    """
    from tracker.scoring.revisions import positions

    out = calls.copy()
    marked = positions(calls)
    out["position"] = marked["position"]
    out["reiteration"] = marked["reiteration"].astype(bool)
    return out


def _grouped(calls: pd.DataFrame, by: str) -> pd.DataFrame:
    """The calls with a ``group`` column; analysts are exploded (a call counts for each)."""
    if by not in GROUP_BY:
        raise UnknownGrouping(by)
    if by != "analyst":
        return calls.assign(group=calls[by].astype(str))
    names = calls["analysts"].map(lambda v: list(v) if len(v) else [NO_ANALYST])
    return calls.assign(group=names).explode("group")


def bootstrap_mean_ci(
    values: np.ndarray, rng: np.random.Generator, n_boot: int = N_BOOT, level: float = CI_LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN when fewer than 2)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return np.nan, np.nan
    means = np.empty(n_boot)
    block = max(1, 2_000_000 // n)  # resamples drawn per block, bounding memory
    for lo in range(0, n_boot, block):
        k = min(block, n_boot - lo)
        means[lo : lo + k] = values[rng.integers(0, n, size=(k, n))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def _group_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def rollup(
    calls: pd.DataFrame,
    by: str = "broker",
    positions: bool = False,
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per group: counts, hit rate, directional excess and its interval.

    Parameters
    ----------
    calls
        ``Scores.calls``.
    by
        One of :data:`GROUP_BY`.
    positions
        Count positions instead of calls (reiterations dropped).
    n_boot, level, seed
        Bootstrap resamples, interval level, and the seed of the generator.

    Returns
    -------
    pandas.DataFrame
        Columns: ``<by>``, ``calls``, ``reiterations``, ``matured``, ``open``,
        ``no_data``, ``scored`` (matured with a verdict: the base of the hit
        rate), ``hits``, ``right_direction``, ``misses``, ``hit_rate``,
        ``excess_n`` (the base of the excess figures), ``mean_excess``,
        ``median_excess``, ``ci_low``, ``ci_high`` (fractions), ``best_call``,
        ``best_excess``, ``worst_call``, ``worst_excess``. Sorted by group.
    """
    marked = mark_positions(calls)
    marked["directional_excess"] = directional_excess(marked)
    grouped = _grouped(marked, by)
    rows = []
    for name, g in grouped.groupby("group", sort=True):
        reit = int(g["reiteration"].sum())
        if positions:
            g = g.loc[~g["reiteration"]]
        verdict = g["verdict"].astype(str)
        matured = g["status"].astype(str) == "matured"
        scored = matured & verdict.isin(_SCORED)
        dx = g.loc[scored, "directional_excess"].dropna()
        hits = int((verdict[scored] == "hit").sum())
        low, high = bootstrap_mean_ci(dx.to_numpy(), _group_rng(seed, str(name)), n_boot, level)
        best = g.loc[dx.idxmax()] if len(dx) else None
        worst = g.loc[dx.idxmin()] if len(dx) else None
        rows.append(
            {
                by: name,
                "calls": len(g),
                "reiterations": reit,
                "matured": int(matured.sum()),
                "open": int((g["status"].astype(str) == "open").sum()),
                "no_data": int((verdict == "no data").sum()),
                "scored": int(scored.sum()),
                "hits": hits,
                "right_direction": int((verdict[scored] == "right direction").sum()),
                "misses": int((verdict[scored] == "miss").sum()),
                "hit_rate": hits / scored.sum() if scored.any() else np.nan,
                "excess_n": len(dx),
                "mean_excess": dx.mean() if len(dx) else np.nan,
                "median_excess": dx.median() if len(dx) else np.nan,
                "ci_low": low,
                "ci_high": high,
                "best_call": None if best is None else best["call_id"],
                "best_excess": np.nan if best is None else best["directional_excess"],
                "worst_call": None if worst is None else worst["call_id"],
                "worst_excess": np.nan if worst is None else worst["directional_excess"],
            }
        )
    return pd.DataFrame(rows, columns=_rollup_columns(by))


def _rollup_columns(by: str) -> list[str]:
    return [
        by,
        "calls",
        "reiterations",
        "matured",
        "open",
        "no_data",
        "scored",
        "hits",
        "right_direction",
        "misses",
        "hit_rate",
        "excess_n",
        "mean_excess",
        "median_excess",
        "ci_low",
        "ci_high",
        "best_call",
        "best_excess",
        "worst_call",
        "worst_excess",
    ]


def confusion_matrix(calls: pd.DataFrame, positions: bool = False) -> pd.DataFrame:
    """Called rating (rows) versus realised band at the horizon (columns), matured calls.

    Rows follow :data:`tracker.constants.RATINGS` (attention last), columns
    :data:`RATINGS_DESCENDING`, plus ``calls`` (the row total). Only ratings
    that occur are listed.
    """
    frame = mark_positions(calls) if positions else calls
    if positions:
        frame = frame.loc[~frame["reiteration"]]
    done = frame.loc[(frame["status"].astype(str) == "matured") & frame["realised_band"].notna()]
    called = pd.Categorical(done["rating"].astype(str), categories=list(RATINGS))
    realised = pd.Categorical(
        done["realised_band"].astype(str), categories=list(RATINGS_DESCENDING)
    )
    table = pd.crosstab(called, realised, dropna=False)
    table = table.reindex(index=list(RATINGS), columns=list(RATINGS_DESCENDING), fill_value=0)
    present = [r for r in RATINGS if r in set(frame["rating"].astype(str))]
    table = table.loc[present]
    table["calls"] = table.sum(axis=1)
    table.index.name = "called"
    table.columns.name = "realised"
    return table


def calendar_time(
    calls: pd.DataFrame,
    stock_returns: pd.DataFrame,
    benchmark_returns: pd.DataFrame,
    by: str = "broker",
    positions: bool = False,
    sessions_per_year: int = SESSIONS_PER_YEAR,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calendar-time portfolios of each group's open calls (see the module docstring).

    Parameters
    ----------
    calls
        ``Scores.calls``.
    stock_returns, benchmark_returns
        ``Scores.stock_returns`` and ``Scores.benchmark_returns``: session
        returns on the scoring grid (NaN where a bar is missing for longer
        than the staleness limit); a call contributes on a session only when
        both its stock and its benchmark return are known.
    by, positions
        As in :func:`rollup`.

    Returns
    -------
    (daily, summary)
        ``daily``: index = sessions, columns = (group, "excess" | "calls"):
        the portfolio's directional excess return that session and how many
        calls it held. ``summary``: one row per group with ``sessions`` (with
        at least one open call), ``mean_daily``, ``annualised_mean``
        (``mean_daily * sessions_per_year``), ``t_stat`` and
        ``mean_open_calls``.
    """
    frame = mark_positions(calls)
    if positions:
        frame = frame.loc[~frame["reiteration"]]
    grid = stock_returns.index
    n_sess = len(grid)
    live = frame.loc[
        (frame["direction"] != 0)
        & frame["status"].astype(str).isin(["matured", "open"])
        & frame["entry_price"].notna()
    ]
    grouped = _grouped(live, by)
    start = grid.searchsorted(pd.DatetimeIndex(grouped["entry_session"]), side="right")
    end = grid.searchsorted(pd.DatetimeIndex(grouped["horizon_session"]), side="right")
    grouped = grouped.assign(_start=start, _end=end)
    daily_parts, rows = {}, []
    for name, g in grouped.groupby("group", sort=True):
        excess, count = _portfolio(g, stock_returns, benchmark_returns, n_sess)
        daily_parts[(name, "excess")] = excess
        daily_parts[(name, "calls")] = count
        held = excess[count > 0]
        n = len(held)
        mean = float(held.mean()) if n else np.nan
        sd = float(held.std(ddof=1)) if n > 1 else np.nan
        rows.append(
            {
                by: name,
                "sessions": n,
                "mean_daily": mean,
                "annualised_mean": mean * sessions_per_year if n else np.nan,
                "t_stat": mean / (sd / np.sqrt(n)) if n > 1 and sd > 0 else np.nan,
                "mean_open_calls": float(count[count > 0].mean()) if n else np.nan,
            }
        )
    daily = pd.DataFrame(daily_parts, index=grid)
    if daily_parts:
        daily.columns = pd.MultiIndex.from_tuples(list(daily_parts), names=[by, "figure"])
    summary = pd.DataFrame(
        rows, columns=[by, "sessions", "mean_daily", "annualised_mean", "t_stat", "mean_open_calls"]
    )
    return daily, summary


def _portfolio(
    g: pd.DataFrame, stock_returns: pd.DataFrame, benchmark_returns: pd.DataFrame, n_sess: int
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-weighted directional excess return of the open calls, per session.

    Calls are pooled by (ticker, benchmark) pair; a difference array of each
    pair's signed and absolute open-call counts gives its weight on every
    session, so no loop runs over calls.
    """
    pair_codes, pairs = pd.factorize(
        pd.MultiIndex.from_arrays([g["ticker"].astype(str), g["benchmark"].astype(str)])
    )
    n_pairs = len(pairs)
    signed = np.zeros((n_sess + 1, n_pairs))
    held = np.zeros((n_sess + 1, n_pairs))
    d = g["direction"].to_numpy(dtype=float)
    s, e = g["_start"].to_numpy(), g["_end"].to_numpy()
    ok = e > s
    np.add.at(signed, (s[ok], pair_codes[ok]), d[ok])
    np.add.at(signed, (e[ok], pair_codes[ok]), -d[ok])
    np.add.at(held, (s[ok], pair_codes[ok]), 1.0)
    np.add.at(held, (e[ok], pair_codes[ok]), -1.0)
    signed = np.cumsum(signed, axis=0)[:n_sess]
    held = np.cumsum(held, axis=0)[:n_sess]
    tick = [t for t, _ in pairs]
    bench = [b for _, b in pairs]
    rs = stock_returns.reindex(columns=tick).to_numpy(dtype=float)
    rb = benchmark_returns.reindex(columns=bench).to_numpy(dtype=float)
    ex = rs - rb
    known = ~np.isnan(ex)
    total = np.where(known, signed * np.where(known, ex, 0.0), 0.0).sum(axis=1)
    count = np.where(known, held, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return mean, count


#: z for a two-sided 95 % interval.
Z_95 = 1.959963984540054
#: Ratings that count as a "buy" in a broker's rating distribution.
BUY_RATINGS = ("buy", "overweight")


def wilson_interval(hits: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927, JASA 22); NaN when ``n`` is 0."""
    if n == 0:
        return np.nan, np.nan
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def target_rollup(
    calls: pd.DataFrame, targets: pd.DataFrame, by: str = "broker", positions: bool = False
) -> pd.DataFrame:
    """Target accuracy and rating distribution per group.

    Parameters
    ----------
    calls
        ``Scores.calls``.
    targets
        :func:`tracker.scoring.targets.target_figures` of the same calls (same index).
    by, positions
        As in :func:`rollup`.

    Returns
    -------
    pandas.DataFrame
        ``<by>``, ``target_n`` (matured targets: the base), ``target_met``,
        ``target_met_rate`` with its Wilson 95 % interval ``target_met_ci_low``
        / ``target_met_ci_high``, ``median_sessions_to_met`` (of the targets
        met), ``mean_abs_error_at_end``, ``mean_optimism``, ``rated`` (calls
        with a formal rating, attention mentions excluded) and ``buy_share``
        (the share of those rated buy or overweight). Sorted by group.
    """
    marked = mark_positions(calls)
    cols = ["status", "met", "sessions_to_met", "error_at_end", "optimism"]
    joined = marked.join(targets[cols].add_prefix("t_"))
    if positions:
        joined = joined.loc[~joined["reiteration"]]
    rows = []
    for name, g in _grouped(joined, by).groupby("group", sort=True):
        done = g.loc[g["t_status"].astype(object) == "matured"]
        met = done["t_met"].astype("boolean").fillna(False).astype(bool)
        n, k = len(done), int(met.sum())
        low, high = wilson_interval(k, n)
        steps = pd.to_numeric(done.loc[met, "t_sessions_to_met"], errors="coerce").dropna()
        rated = g.loc[g["rating"].astype(str) != "attention", "rating"].astype(str)
        rows.append(
            {
                by: name,
                "target_n": n,
                "target_met": k,
                "target_met_rate": k / n if n else np.nan,
                "target_met_ci_low": low,
                "target_met_ci_high": high,
                "median_sessions_to_met": float(steps.median()) if len(steps) else np.nan,
                "mean_abs_error_at_end": float(done["t_error_at_end"].abs().mean())
                if n
                else np.nan,
                "mean_optimism": float(done["t_optimism"].mean()) if n else np.nan,
                "rated": len(rated),
                "buy_share": float(rated.isin(BUY_RATINGS).mean()) if len(rated) else np.nan,
            }
        )
    columns = [
        by,
        "target_n",
        "target_met",
        "target_met_rate",
        "target_met_ci_low",
        "target_met_ci_high",
        "median_sessions_to_met",
        "mean_abs_error_at_end",
        "mean_optimism",
        "rated",
        "buy_share",
    ]
    return pd.DataFrame(rows, columns=columns)
