"""Domain errors. The CLI turns each into a one-line ``error: <message>`` and its exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracker.constants import EXIT_ERROR, EXIT_PARTIAL


class TrackerError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code: int = EXIT_ERROR


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, reported as ``file:line: field: message``."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InvalidInput(TrackerError):
    """One or more input files failed validation; every problem is listed."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputFileError(InvalidInput):
    """A single problem in a single file (unreadable, not UTF-8, malformed YAML...)."""

    def __init__(self, file: str | Path, message: str, line: int | None = None, field: str = ""):
        super().__init__([Problem(str(file), line, field, message)])


class TickerNotFound(TrackerError):
    """A name or code that the registry does not know."""

    def __init__(self, query: str, candidates: Sequence[str] = ()):
        self.query = query
        self.candidates = tuple(candidates)
        hint = (
            f"; closest: {', '.join(self.candidates)}"
            if self.candidates
            else "; import the HKEX list with `tracker registry import`"
        )
        super().__init__(f"unknown company or ticker {query!r}{hint}")


class AmbiguousTicker(TrackerError):
    """A name that matches more than one security."""

    def __init__(self, query: str, candidates: Sequence[str]):
        self.query = query
        self.candidates = tuple(candidates)
        super().__init__(
            f"{query!r} is ambiguous: {', '.join(self.candidates)}; give the code instead"
        )


class ConfigError(TrackerError):
    """Bad settings or configuration file."""


class DataUnavailable(TrackerError):
    """Prices or other data needed for a computation are missing."""


class ScoringInputError(TrackerError):
    """The calls or prices handed to the scorer are not usable as given."""


class PartialFailure(TrackerError):
    """Some items failed and were reported; the others finished."""

    exit_code = EXIT_PARTIAL
