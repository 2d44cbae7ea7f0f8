"""Called and realised bands: the rating-band arithmetic of scoring.

Bands are in percentage points (:class:`tracker.recs.models.Band`); an excess
return (a fraction) is turned into points with :func:`excess_pp`, rounded to
:data:`EXCESS_ROUND_PP` decimals first so that float noise cannot move a value
off a threshold (0.15 - 0.10 is 0.04999999999999999 in binary). Everything
works on arrays of calls at once; the loops run over the few distinct scales
and ratings only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker.constants import RATINGS_DESCENDING
from tracker.errors import ScoringInputError
from tracker.recs.models import Band, RatingScale

#: Excess in percentage points is rounded to this many decimals before it is
#: compared with a band edge.
EXCESS_ROUND_PP = 9


def _edges(band: Band) -> tuple[float, float, bool, bool]:
    lo = -np.inf if band.lower_pp is None else float(band.lower_pp)
    hi = np.inf if band.upper_pp is None else float(band.upper_pp)
    return lo, hi, band.lower_inclusive, band.upper_inclusive


def band_direction(band: Band) -> int:
    """+1 for a band at or above zero (a positive call), -1 at or below zero, 0 across zero."""
    if band.lower_pp is not None and band.lower_pp >= 0:
        return 1
    if band.upper_pp is not None and band.upper_pp <= 0:
        return -1
    return 0


def band_text(band: Band) -> str:
    """Interval notation in percentage points, e.g. ``[5, 15)``, ``(0, inf)``."""
    lo, hi, lo_inc, hi_inc = _edges(band)
    left = "[" if lo_inc and np.isfinite(lo) else "("
    right = "]" if hi_inc and np.isfinite(hi) else ")"
    return f"{left}{_num(lo)}, {_num(hi)}{right}"


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def excess_pp(excess: np.ndarray) -> np.ndarray:
    """Excess fractions as percentage points, rounded for comparison with band edges."""
    return np.round(np.asarray(excess, dtype=float) * 100.0, EXCESS_ROUND_PP)


def reaches(
    x_pp: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    lo_inc: np.ndarray,
    hi_inc: np.ndarray,
    direction: np.ndarray,
    overshoot_is_hit: bool = True,
) -> np.ndarray:
    """Whether each excess (pp) reaches its called band (broadcasting).

    NaN never reaches. With ``overshoot_is_hit`` a positive call needs only
    the lower edge, a negative one only the upper edge.
    """
    with np.errstate(invalid="ignore"):
        above = (x_pp > lo) | (lo_inc & (x_pp == lo))
        below = (x_pp < hi) | (hi_inc & (x_pp == hi))
    inside = above & below
    if not overshoot_is_hit:
        return inside
    return np.where(direction > 0, above, np.where(direction < 0, below, inside))


def realised_band_codes(x_pp: np.ndarray, scale: RatingScale) -> np.ndarray:
    """Index into :data:`RATINGS_DESCENDING` of the company band each excess falls in (-1: NaN)."""
    bands = sorted(scale.company.bands, key=lambda b: -np.inf if b.lower_pp is None else b.lower_pp)
    code_of = np.array([RATINGS_DESCENDING.index(b.rating) for b in bands])
    k = np.zeros(len(x_pp), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for band in bands[1:]:
            lo, _, lo_inc, _ = _edges(band)
            k += (x_pp > lo) | (lo_inc & (x_pp == lo))
    out = code_of[k]
    out[np.isnan(x_pp)] = -1
    return out


@dataclass(frozen=True)
class CalledBands:
    """The band each call promised, one array element per call (edges in pp)."""

    lo: np.ndarray
    hi: np.ndarray
    lo_inc: np.ndarray
    hi_inc: np.ndarray
    direction: np.ndarray
    text: np.ndarray

    def reached(self, x_pp: np.ndarray, overshoot_is_hit: bool) -> np.ndarray:
        """:func:`reaches` for one excess (pp) per call."""
        return reaches(
            x_pp, self.lo, self.hi, self.lo_inc, self.hi_inc, self.direction, overshoot_is_hit
        )


def called_bands(calls: pd.DataFrame, scales: dict[str, RatingScale]) -> CalledBands:
    """The called band of every call, from its ``scale`` and ``rating``.

    Raises
    ------
    ScoringInputError
        A scale that is not in ``scales``, or a rating the scale does not have.
    """
    scale_codes, scale_uniq = pd.factorize(calls["scale"].to_numpy(dtype=object))
    rating_codes, rating_uniq = pd.factorize(calls["rating"].to_numpy(dtype=object))
    codes, pairs = pd.factorize(scale_codes * max(1, len(rating_uniq)) + rating_codes)
    rows = []
    for pair in pairs:
        scale_id = scale_uniq[pair // max(1, len(rating_uniq))]
        rating = rating_uniq[pair % max(1, len(rating_uniq))]
        scale = scales.get(scale_id)
        if scale is None:
            known = ", ".join(sorted(scales)) or "none"
            raise ScoringInputError(f"unknown scale {scale_id!r}; known scales: {known}")
        try:
            band = scale.band(rating)
        except KeyError:
            raise ScoringInputError(f"scale {scale_id!r} has no rating {rating!r}") from None
        rows.append((*_edges(band), band_direction(band), band_text(band)))
    if not rows:
        empty = np.array([], dtype=float)
        return CalledBands(
            empty,
            empty,
            empty.astype(bool),
            empty.astype(bool),
            empty.astype(int),
            empty.astype(object),
        )
    table = list(zip(*rows, strict=True))
    take = np.asarray(codes)
    return CalledBands(
        lo=np.array(table[0], dtype=float)[take],
        hi=np.array(table[1], dtype=float)[take],
        lo_inc=np.array(table[2], dtype=bool)[take],
        hi_inc=np.array(table[3], dtype=bool)[take],
        direction=np.array(table[4], dtype=np.int8)[take],
        text=np.array(table[5], dtype=object)[take],
    )


def realised_codes(
    x_pp: np.ndarray, scale_ids: np.ndarray, scales: dict[str, RatingScale]
) -> np.ndarray:
    """:func:`realised_band_codes` for calls on several scales (``scale_ids``, one per excess)."""
    codes = np.full(len(x_pp), -1, dtype=np.int64)
    for scale_id in pd.unique(scale_ids):
        mask = scale_ids == scale_id
        codes[mask] = realised_band_codes(x_pp[mask], scales[scale_id])
    return codes


def band_categorical(codes: np.ndarray) -> pd.Categorical:
    """Band codes (-1 for none) as a categorical of :data:`RATINGS_DESCENDING`."""
    return pd.Categorical.from_codes(codes, categories=list(RATINGS_DESCENDING))
