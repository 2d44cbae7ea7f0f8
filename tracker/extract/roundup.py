"""One draft per broker: articles that quote several brokers' calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from tracker.extract.draft import extract_draft
from tracker.extract.model import Draft

if TYPE_CHECKING:
    from tracker.recs.models import RatingScale
    from tracker.registry.resolve import Registry


def extract_drafts(
    text: str,
    registry: Registry,
    *,
    today: date,
    scales: Mapping[str, RatingScale] | None = None,
    source: str = "report.txt",
    broker: str | None = None,
    published: date | None = None,
    title: str | None = None,
) -> tuple[Draft, ...]:
    return (
        extract_draft(
            text,
            registry,
            today=today,
            scales=scales,
            source=source,
            broker=broker,
            published=published,
            title=title,
        ),
    )
