"""What the call finders hand over: rating phrases and candidate calls (flow offsets)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.extract.text import Source


@dataclass
class Phrase:
    """A rating phrase in the flow text."""

    start: int
    end: int
    word: str  # the rating word (simplified / English as written)
    action: str | None
    previous: str | None = None
    mid: tuple[int, int] | None = None  # where a company may be named inside the phrase
    after: tuple[int, int] | None = None  # English "... on Tencent"
    industry: bool = False
    quoted: bool = False


@dataclass
class Candidate:
    """A company that may be a call, before resolution and merging."""

    kind: str  # rating, row, list, advice
    start: int
    end: int
    name_span: tuple[int, int] | None = None
    name: str | None = None  # when no span gives it (the registry's name for a code)
    code: str | None = None
    word: str | None = None
    action: str | None = None
    previous: str | None = None
    thesis: tuple[int, int] | None = None
    subject: bool = False
    weak: bool = False
    context: str = ""


def readable(src: Source, pos: int) -> bool:
    """Whether ``pos`` is text the call finders read (not disclaimers or definitions)."""
    return src.zone(pos) not in ("disclaimer", "definitions")
