"""Quick or long: how many cases each reliability test tries.

``TRACKER_RELIABILITY=long`` selects the long profile (thousands of fuzz cases,
more kill points, random seeds); anything else, or nothing, the quick profile
that ``make test`` and CI run (a few hundred fuzz cases, fixed seeds, under
about 90 s for the whole suite).
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, settings

#: Environment variable choosing the profile.
PROFILE_ENV = "TRACKER_RELIABILITY"
PROFILE = "long" if os.environ.get(PROFILE_ENV, "").strip().lower() == "long" else "quick"
LONG = PROFILE == "long"


def cases(quick: int, long: int) -> int:
    """The number of cases for the active profile."""
    return long if LONG else quick


def fuzz(quick: int, long: int) -> settings:
    """Hypothesis settings: ``quick``/``long`` examples, no deadline, no example database.

    The quick profile is derandomised so that CI tries the same cases every run;
    the long profile draws new ones each time. Time per case is bounded by the
    tests themselves (a slow case is an outcome to count, not a flaky failure).
    """
    return settings(
        max_examples=cases(quick, long),
        deadline=None,
        derandomize=not LONG,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


def rng(salt: str) -> random.Random:
    """Seeded randomness for kill times and schedules: fixed in quick, fresh in long."""
    return random.Random(None if LONG else f"tracker-reliability-{salt}")
