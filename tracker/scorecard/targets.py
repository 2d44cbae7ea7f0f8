"""The scorecard's targets section: targets reached this week, the open targets
nearest to and furthest from being reached, and target accuracy per broker.

Pure: the scored calls and their target figures
(:func:`tracker.scoring.targets.target_figures`) in, a :class:`TargetsSection` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Open targets listed at each end (nearest and furthest).
TARGETS_LISTED = 5


@dataclass(frozen=True)
class TargetLine:
    """One call's target. ``to_go`` is the move still needed from the last close,
    in the target's direction (0.1 = 10 % to go); fractions throughout."""

    call_id: str
    broker: str
    name: str
    ticker: str
    rating: str
    target: float
    entry_price: float | None
    last_price: float | None
    to_go: float | None
    best_progress: float | None
    met_session: date | None
    sessions_to_met: int | None


@dataclass(frozen=True)
class TargetAccuracy:
    """A broker's matured targets: how many were met in their window, and how far off."""

    broker: str
    n: int
    met: int
    ci_low: float | None
    ci_high: float | None
    median_sessions_to_met: float | None
    mean_abs_error: float | None


@dataclass(frozen=True)
class TargetsSection:
    reached_this_week: tuple[TargetLine, ...]
    nearest: tuple[TargetLine, ...]
    furthest: tuple[TargetLine, ...]
    by_broker: tuple[TargetAccuracy, ...]


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _line(call, t) -> TargetLine:
    import pandas as pd

    met = t["met_session"]
    steps = t["sessions_to_met"]
    return TargetLine(
        call_id=str(call["call_id"]),
        broker=str(call["broker"]),
        name=str(call["name"]),
        ticker=str(call["ticker"]),
        rating=str(call["rating"]),
        target=float(t["compared_price"]),
        entry_price=_num(t["entry_price"]),
        last_price=_num(t["last_price"]),
        to_go=_num(t["to_go"]),
        best_progress=_num(t["best_progress"]),
        met_session=None if pd.isna(met) else pd.Timestamp(met).date(),
        sessions_to_met=None if pd.isna(steps) else int(steps),
    )


def targets_section(
    calls: pd.DataFrame, targets: pd.DataFrame, as_of: date, listed: int = TARGETS_LISTED
) -> TargetsSection:
    """The targets section of the week ending on ``as_of`` (7 calendar days, as the card).

    Parameters
    ----------
    calls
        ``Scores.calls``.
    targets
        Their target figures (same index).
    as_of
        The last day of the week.
    listed
        How many open targets to list at each end.
    """
    import pandas as pd

    from tracker.scoring.rollup import target_rollup

    t = targets.copy()
    direction = pd.to_numeric(t["direction"], errors="coerce").astype(float)
    t["to_go"] = direction * (t["compared_price"] / t["last_price"] - 1.0)
    lo = pd.Timestamp(as_of - timedelta(days=6))
    met = pd.DatetimeIndex(t["met_session"])
    this_week = (met >= lo) & (met <= pd.Timestamp(as_of))
    open_ = (
        (t["status"].astype(object) == "pending").to_numpy()
        & t["met"].isna().to_numpy()
        & t["to_go"].notna().to_numpy()
    )
    by_to_go = t.loc[open_].sort_values("to_go", kind="stable")

    def lines(frame: pd.DataFrame) -> tuple[TargetLine, ...]:
        return tuple(_line(calls.loc[i], frame.loc[i]) for i in frame.index)

    acc = target_rollup(calls, targets, by="broker")
    by_broker = tuple(
        TargetAccuracy(
            broker=str(r["broker"]),
            n=int(r["target_n"]),
            met=int(r["target_met"]),
            ci_low=_num(r["target_met_ci_low"]),
            ci_high=_num(r["target_met_ci_high"]),
            median_sessions_to_met=_num(r["median_sessions_to_met"]),
            mean_abs_error=_num(r["mean_abs_error_at_end"]),
        )
        for r in acc.to_dict(orient="records")
        if r["target_n"] > 0
    )
    return TargetsSection(
        reached_this_week=lines(t.loc[this_week].sort_values("met_session", kind="stable")),
        nearest=lines(by_to_go.head(listed)),
        furthest=lines(by_to_go.iloc[::-1].head(listed)) if len(by_to_go) > listed else (),
        by_broker=by_broker,
    )
