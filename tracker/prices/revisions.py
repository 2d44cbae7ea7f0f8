"""Do freshly fetched bars continue the stored series, or has the source's history moved?

An incremental update asks the source again for a few sessions the store
already holds (:data:`OVERLAP_SESSIONS`). If every such bar agrees with the
stored one and no new split or dividend appears, the new bars simply extend
the series. Otherwise the source's history is no longer the stored one: a
bar was corrected, a dividend or split re-adjusted every earlier price (Yahoo
adjusts as of the download day), or the stored data were wrong. No factor
drawn from one bar can tell these apart (a corrected typo looks like a
ten-for-one split), so the update then takes the whole series again from the
source, which is consistent with itself, and says why.
"""

from __future__ import annotations

import math

import pandas as pd

from tracker.prices.source import placeholder_mask

#: Stored sessions asked for again at each end of the series to compare with the source.
OVERLAP_SESSIONS = 5
#: Relative difference of two prices below which they are the same (float noise).
TOLERANCE = 1e-6


def overlap_first(stored_index: pd.DatetimeIndex, n: int = OVERLAP_SESSIONS) -> pd.Timestamp:
    """The earliest of the last ``n`` stored bars: where a new-bars request starts."""
    return stored_index[-min(n, len(stored_index))]


def overlap_last(stored_index: pd.DatetimeIndex, n: int = OVERLAP_SESSIONS) -> pd.Timestamp:
    """The latest of the first ``n`` stored bars: where a history request ends."""
    return stored_index[min(n, len(stored_index)) - 1]


def _differs(new: float, old: float) -> bool:
    if not (math.isfinite(new) and math.isfinite(old)):
        return math.isfinite(new) != math.isfinite(old)
    if old == 0:
        return new != 0
    return abs(new / old - 1.0) > TOLERANCE


def _event(dividend: float, split: float) -> tuple[float, float]:
    """An event as (dividend, split ratio), nothing as (0, 0); NaN and 1:1 are nothing."""
    d = dividend if math.isfinite(dividend) else 0.0
    s = split if math.isfinite(split) and split not in (0.0, 1.0) else 0.0
    return d, s


def disagreement(stored: pd.DataFrame, fresh: pd.DataFrame) -> str | None:
    """Why ``fresh`` bars do not continue ``stored`` as they are; None when they do.

    Parameters
    ----------
    stored
        The stored bars of one symbol (with their ``placeholder`` column).
    fresh
        Bars just fetched, in the bar schema, overlapping ``stored`` by some dates.

    Returns
    -------
    str or None
        The first difference found: a close or adjusted close that moved on a
        shared date (placeholders, which are no trades, are not compared), or
        a split or dividend that the store does not have.
    """
    common = stored.index.intersection(fresh.index)
    if len(common):
        old, new = stored.loc[common], fresh.loc[common]
        old_flat = (
            old["placeholder"].astype(bool) if "placeholder" in old else placeholder_mask(old)
        )
        real = ~old_flat.to_numpy() & ~placeholder_mask(new).to_numpy()
        for day in common[real]:
            for col, label in (("close", "close"), ("adj_close", "adjusted close")):
                o, n = float(old.at[day, col]), float(new.at[day, col])
                if _differs(n, o):
                    return (
                        f"the {day.date()} {label} is {n:.6g} at the source, {o:.6g} in the store"
                    )
    for day in fresh.index:
        d, s = _event(float(fresh.at[day, "dividends"]), float(fresh.at[day, "splits"]))
        if day in stored.index:
            was = _event(float(stored.at[day, "dividends"]), float(stored.at[day, "splits"]))
        else:
            was = (0.0, 0.0)
        if s and s != was[1]:
            return f"a split ({s:g} for 1) on {day.date()} moves every earlier price"
        if d and _differs(d, was[0]):
            return f"a dividend ({d:g}) on {day.date()} moves every earlier adjusted close"
    return None


def checked_dates(stored: pd.DataFrame, fresh: pd.DataFrame) -> int:
    """How many shared dates :func:`disagreement` could compare (neither side a placeholder)."""
    common = stored.index.intersection(fresh.index)
    if not len(common):
        return 0
    old, new = stored.loc[common], fresh.loc[common]
    old_flat = old["placeholder"].astype(bool) if "placeholder" in old else placeholder_mask(old)
    return int((~old_flat.to_numpy() & ~placeholder_mask(new).to_numpy()).sum())
