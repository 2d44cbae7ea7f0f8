"""Outcomes of reliability cases, appended to a JSON-lines log for the report.

Every case records one outcome before it is asserted, so a failing case is
counted too. The log is written only when ``TRACKER_RELIABILITY_LOG`` names a
file (``scripts/reliability_report.py`` sets it); otherwise recording is a no-op.
"""

from __future__ import annotations

import json
import os

LOG_ENV = "TRACKER_RELIABILITY_LOG"

#: Acceptable ends of a case.
VALID = "valid load"  # the input was accepted and loaded
COMPLETED = "completed"  # no fault reached this item: it was done normally
CLEAN_ERROR = "clean error"  # refused with one-line messages and exit code 1 or 2
RECOVERED = "recovered"  # a fault was retried away, or a restart finished the job
INTACT = "data intact"  # stored data exactly as before the fault (or exactly as after)
ONCE = "delivered once"  # every recipient got the mail exactly once
NO_LEAK = "no leak"  # the secret appeared nowhere
WARNED = "warned"  # a risky setting was reported
ESCAPED = "escaped"  # user text rendered inert in HTML; a path kept inside its folder
GOOD = (VALID, COMPLETED, CLEAN_ERROR, RECOVERED, INTACT, ONCE, NO_LEAK, WARNED, ESCAPED)

#: The bar: none of these may ever happen.
CRASH = "crash"  # a traceback, an unexpected exception, a wrong exit code, a malformed message
DATA_LOST = "data lost"  # stored data changed or damaged by a failure; a recipient never served
DUPLICATE = "duplicate"  # a recipient got the mail twice; a row stored twice
LEAK = "leak"  # a secret in output, logs, errors or files; unescaped user text; escaped path
CODE_RUN = "code executed"  # an input made tracker run code
OVER_BUDGET = "over budget"  # a case took too long or used too much memory
BAD = (CRASH, DATA_LOST, DUPLICATE, LEAK, CODE_RUN, OVER_BUDGET)

OUTCOMES = GOOD + BAD


def record(
    category: str,
    outcome: str,
    case: str = "",
    detail: str = "",
    *,
    seconds: float | None = None,
    peak_mb: float | None = None,
) -> str:
    """Append one case's outcome to the log (if any) and return ``outcome``.

    ``seconds`` (wall time) and ``peak_mb`` (peak resident memory, MB) are
    optional measurements the report summarises per category.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    path = os.environ.get(LOG_ENV)
    if path:
        entry = {
            "category": category,
            "outcome": outcome,
            "case": case[:200],
            "detail": detail[:500],
        }
        if seconds is not None:
            entry["seconds"] = round(seconds, 4)
        if peak_mb is not None:
            entry["peak_mb"] = round(peak_mb, 1)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return outcome


def check(
    category: str,
    outcome: str,
    case: str = "",
    detail: str = "",
    *,
    seconds: float | None = None,
    peak_mb: float | None = None,
) -> None:
    """Record the outcome, then fail the test if it is one of :data:`BAD`."""
    record(category, outcome, case, detail, seconds=seconds, peak_mb=peak_mb)
    assert outcome not in BAD, f"{category}: {case!r}: {outcome}: {detail}"
