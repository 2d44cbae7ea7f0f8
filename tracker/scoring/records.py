"""The JSON records of a scoring run: one dict per call, in a stable schema.

The schema (:data:`SCHEMA`) is documented in ``docs/scoring.md`` and is
stable: keys are only ever added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from tracker.render.formats import jsonable
from tracker.scoring.core import LATEST

if TYPE_CHECKING:
    from tracker.scoring.core import Scores

#: Version of the JSON records of :func:`to_records` (see docs/scoring.md).
SCHEMA = "tracker.score/1"
_CHECKPOINT_FIELDS = (
    "session",
    "stock_price",
    "benchmark_price",
    "stock_return",
    "benchmark_return",
    "excess",
    "band",
    "status",
    "stale_sessions",
)


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: dates as ISO strings, NaN/NA as None, numpy as Python."""
    return jsonable(value)


def to_records(scores: Scores) -> list[dict[str, Any]]:
    """One JSON-ready dict per call, in the documented stable schema (``docs/scoring.md``).

    Returns, excess and band edges are fractions (``0.05`` = 5 %); dates are
    ISO strings; a missing value is None. On the total basis, when a call's
    prices fall back to the close, each record also has ``basis_note``.
    """
    by_call, latest = _checkpoint_records(scores.checkpoints)
    records = [
        _call_record(row, by_call.get(row["call_id"], {}), latest.get(row["call_id"]))
        for row in scores.calls.to_dict(orient="records")
    ]
    if "basis_note" in scores.calls.columns:
        # Only on the total basis, where some calls fall back to the close.
        for rec, note in zip(records, scores.calls["basis_note"], strict=True):
            rec["basis_note"] = note or None
    return records


def _checkpoint_records(
    cps: pd.DataFrame,
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Checkpoint records by call and label, and the ``latest`` record by call."""
    by_call: dict[str, dict[str, dict[str, Any]]] = {}
    latest: dict[str, dict[str, Any]] = {}
    for row in cps.itertuples(index=False):
        rec = {f: _plain(getattr(row, f)) for f in _CHECKPOINT_FIELDS}
        if row.checkpoint == LATEST:
            latest[row.call_id] = rec
        else:
            by_call.setdefault(row.call_id, {})[str(row.checkpoint)] = rec
    return by_call, latest


def _call_record(
    row: dict[str, Any], checkpoints: dict[str, dict[str, Any]], latest: dict[str, Any] | None
) -> dict[str, Any]:
    """The record of one row of ``Scores.calls``."""
    return {
        "call_id": row["call_id"],
        "report": row.get("report"),
        "broker": row.get("broker"),
        "broker_local": _plain(row.get("broker_local")),
        "analysts": _plain(list(row.get("analysts") or [])),
        "name": _plain(row.get("name")),
        "ticker": row["ticker"],
        "rating": row["rating"],
        "scale": row["scale"],
        "published": _plain(row.get("published")),
        "seen": _plain(row.get("seen")),
        "start_date": _plain(row["start_date"]),
        "benchmark": row["benchmark"],
        "entry_convention": row["entry_convention"],
        "entry_session": _plain(row["entry_session"]),
        "entry_price": _plain(row["entry_price"]),
        "benchmark_entry_price": _plain(row["benchmark_entry_price"]),
        "called_band": {
            "text": f"{row['called_band']} pp",
            "lower": _plain(row["called_lower"]),
            "upper": _plain(row["called_upper"]),
        },
        "horizon": {
            "months_min": _plain(row["horizon_min_months"]),
            "months_max": _plain(row["horizon_max_months"]),
            "session": _plain(row["horizon_session"]),
            "window_start_session": _plain(row["window_start_session"]),
            "hit_in_window": _plain(row["window_hit"]),
            "first_session_in_band": _plain(row["window_first_session"]),
        },
        "status": str(row["status"]),
        "verdict": str(row["verdict"]),
        "reason": row["reason"] or None,
        "verdict_session": _plain(row["verdict_session"]),
        "stock_return": _plain(row["stock_return"]),
        "benchmark_return": _plain(row["benchmark_return"]),
        "excess": _plain(row["excess"]),
        "realised_band": _plain(row["realised_band"]),
        "sessions_remaining": _plain(row["sessions_remaining"]),
        "checkpoints": checkpoints,
        "latest": latest,
    }
