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

#: Canonical ratings from strongest to weakest; ``attention`` (建议关注 / 相关公司)
#: is a positive call without a formal rating and has its own band in each scale.
RATINGS_DESCENDING: tuple[str, ...] = ("buy", "overweight", "neutral", "underweight", "sell")
ATTENTION = "attention"
RATINGS: tuple[str, ...] = (*RATINGS_DESCENDING, ATTENTION)

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
