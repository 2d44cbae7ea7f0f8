"""JSON records of the target figures and revisions: ``calls[].target``, ``previous``,
``rating_action`` and ``target_action`` in ``tracker score --format json``.

Keys are only ever added (schema ``tracker.score/1``, ``docs/scoring.md``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tracker.scoring.records import _plain
from tracker.scoring.targets import TARGET_COLUMNS

#: The columns of a converted target (USD or CNY), kept under ``conversion``.
CONVERSION_COLUMNS: tuple[str, ...] = ("fx_rate", "fx_date", "adr_ratio")

#: Keys of ``calls[].target``, in order (:data:`tracker.scoring.targets.TARGET_COLUMNS`
#: without ``call_id``; the conversion under ``conversion``).
TARGET_KEYS: tuple[str, ...] = tuple(
    c for c in TARGET_COLUMNS if c not in ("call_id", *CONVERSION_COLUMNS)
)


def target_records(targets: pd.DataFrame) -> list[dict[str, Any] | None]:
    """One ``target`` record per row of :func:`tracker.scoring.targets.target_figures`
    (None for a call without a target)."""
    out: list[dict[str, Any] | None] = []
    for row in targets.to_dict(orient="records"):
        if _plain(row["price"]) is None:
            out.append(None)
            continue
        rec = {k: _plain(row[k]) for k in TARGET_KEYS}
        rec["conversion"] = (
            None
            if _plain(row["fx_rate"]) is None
            else {k: _plain(row[k]) for k in CONVERSION_COLUMNS}
        )
        out.append(rec)
    return out


def revision_records(revisions: pd.DataFrame) -> list[dict[str, Any]]:
    """``previous``, ``rating_action`` and ``target_action`` per row of
    :func:`tracker.scoring.revisions.revisions`."""
    out = []
    for row in revisions.to_dict(orient="records"):
        previous = None
        if _plain(row["previous_call_id"]) is not None:
            previous = {
                "call_id": row["previous_call_id"],
                "published": _plain(row["previous_published"]),
                "rating": _plain(row["previous_rating"]),
                "target": _plain(row["previous_target"]),
                "currency": _plain(row["previous_currency"]),
            }
        out.append(
            {
                "previous": previous,
                "rating_action": _plain(row["rating_action"]),
                "target_action": _plain(row["target_action"]),
            }
        )
    return out
