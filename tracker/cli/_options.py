"""Option parsing shared by the command groups (shape checks only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tracker.config import Settings


#: Sub-folder of the tracker home holding :mod:`tracker.memo`'s entries.
MEMO_DIR = "cache"


def load_settings() -> Settings:
    """The settings from the environment (``TRACKER_*``).

    Imported here, not at module level, so that ``tracker --help`` does not pay
    for pydantic-settings. Also points :mod:`tracker.memo` at ``<home>/cache``.
    """
    from tracker import memo
    from tracker.config import Settings

    settings = Settings()
    # Every command keeps its parsed calls and the HKEX calendar in the home's cache; a
    # home that does not exist yet is not made for a cache (a mistyped TRACKER_HOME).
    memo.use(settings.home / MEMO_DIR if settings.home.is_dir() else None)
    return settings


def parse_date(value: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` to a date; anything else is a usage error naming ``option``."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option
        ) from None
