"""Conventions of the whole project, kept in one place.

Exit codes follow pipx's convention: 0 ok, 1 bad input or domain error,
2 partial failure (some items failed, the rest finished) or usage error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PARTIAL = 2
EXIT_USAGE = 2
#: Scorecard delivery, with the sysexits.h values that cron wrappers and systemd know:
#: a transient SMTP failure that outlasted the retries, or another send still running
#: (EX_TEMPFAIL: try again later).
EXIT_MAIL_TEMPFAIL = 75
#: A permanent SMTP failure: a 5xx reply, TLS refused, a recipient refused (EX_UNAVAILABLE).
EXIT_MAIL_PERMANENT = 69
#: The SMTP server refused the username/password (EX_NOPERM).
EXIT_MAIL_AUTH = 77

# The ratings are spelled once, in the vocabulary; re-exported here for older imports.
from tracker.vocab import ATTENTION, RATINGS, RATINGS_DESCENDING  # noqa: E402, F401

#: Default benchmark per market: the reports define HK ratings against the Hang Seng Index.
DEFAULT_BENCHMARK = "^HSI"
#: Total-return proxy for the Hang Seng Index (Tracker Fund of Hong Kong).
TOTAL_RETURN_BENCHMARK = "2800.HK"

#: Sessions per year used to annualise daily figures: HKEX averaged 246.3
#: sessions a year over 2010-2025 (exchange_calendars XHKG).
SESSIONS_PER_YEAR = 246

#: The HKEX calendar in exchange_calendars.
HKEX_CALENDAR = "XHKG"
#: Earliest date the session helpers serve.
CALENDAR_START = "2000-01-01"

#: Limits for hand-edited input files.
MAX_INPUT_BYTES = 1_000_000
