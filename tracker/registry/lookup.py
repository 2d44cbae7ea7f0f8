"""Resolving many names at once: each a security or the reason it failed, never a guess."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.errors import AmbiguousTicker, PartialFailure, TickerNotFound, TrackerError

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry, Security


@dataclass(frozen=True)
class Lookup:
    """One name and what it resolved to: ``security``, or ``error`` saying why not."""

    name: str
    security: Security | None = None
    error: TrackerError | None = None


def resolve_names(registry: Registry, names: Sequence[str]) -> list[Lookup]:
    """Each of ``names`` resolved through ``registry``, in order.

    An unknown or ambiguous name is a :class:`Lookup` with its error (the
    candidates are in the message); any other error propagates.
    """
    out = []
    for name in names:
        try:
            out.append(Lookup(name, security=registry.get(registry.resolve(name))))
        except (TickerNotFound, AmbiguousTicker) as exc:
            out.append(Lookup(name, error=exc))
    return out


def lookup_failure(lookups: Sequence[Lookup]) -> TrackerError | None:
    """The error a command ends with: None if every name resolved.

    A single name fails with its own error; with several, all failing is a
    :class:`TrackerError` and some failing a :class:`PartialFailure`.
    """
    failures = [lk.error for lk in lookups if lk.error is not None]
    if not failures:
        return None
    if len(lookups) == 1:
        return failures[0]
    message = f"{len(failures)} of {len(lookups)} names could not be resolved"
    if len(failures) == len(lookups):
        return TrackerError(message)
    return PartialFailure(message)
