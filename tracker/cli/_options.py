"""Option parsing shared by the command groups (shape checks only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tracker.config import Settings


def load_settings() -> Settings:
    """The settings from the environment (``TRACKER_*``).

    Imported here, not at module level, so that ``tracker --help`` does not pay
    for pydantic-settings.
    """
    from tracker.config import Settings

    return Settings()


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
