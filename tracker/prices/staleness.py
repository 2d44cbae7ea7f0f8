"""Staleness said once: every series that ends early, summarised in one line.

A command that loads prices used to print two lines per symbol (the update's "no new bars
after …" and "last bar … sessions behind"). :class:`Staleness` keeps the per-symbol facts and
says them three ways: :meth:`Staleness.line` for a command's stderr (with the command that
lists them), :meth:`Staleness.sentence` for a document (the e-mail, a report: dates only, no
source, no path), and :meth:`Staleness.details` for ``--verbose``.

Fetch failures that are not staleness (a bad CSV row, a vendor error) stay one problem per
symbol (:meth:`Staleness.problems`), since each needs its own fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tracker import sessions

if TYPE_CHECKING:
    from tracker.prices.source import PanelInfo, UpdateSummary

#: How :mod:`tracker.prices.update` starts the reason of a series with nothing new: that is
#: staleness, said by the summary line, not a problem of its own.
NO_NEW_BARS = "no new bars after"
#: How it starts the reason of the symbols not asked once the source was unreachable.
NOT_TRIED = "not tried:"
#: Symbols named in a line before "and N more".
NAMED = 3


@dataclass(frozen=True)
class StaleSeries:
    """A series whose last bar is ``sessions_behind`` HKEX sessions before the date wanted."""

    symbol: str
    last_bar: date
    sessions_behind: int


@dataclass(frozen=True)
class Staleness:
    """How fresh the prices of one command are, for ``until`` (a date)."""

    until: date
    total: int
    stale: tuple[StaleSeries, ...] = ()
    missing: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    unreachable: bool = False

    def __bool__(self) -> bool:
        return bool(self.stale or self.missing or self.failed or self.unreachable)

    def line(self) -> str | None:
        """One line for a command's stderr, or None when every series is fresh.

        ``16 of 17 series end 2025-10-30…2026-08-26, 70–271 sessions before 2026-12-04;
        `tracker prices status` lists them``
        """
        parts = [p for p in (self._stale_clause(), self._missing_clause()) if p]
        if not parts:
            return None
        return "; ".join(parts) + "; `tracker prices status` lists them"

    def sentence(self) -> str | None:
        """One sentence for a document: dates and symbols, never a source or a path."""
        clauses = [self._stale_clause(prose=True), self._missing_clause()]
        if self.failed:
            symbols = _named([s for s, _ in self.failed])
            clauses.append(f"prices of {symbols} could not be updated")
        if self.unreachable:
            clauses.append("the price source was unreachable, so stored prices were used")
        text = "; ".join(c for c in clauses if c)
        return f"{text[0].upper()}{text[1:]}." if text else None

    def problems(self) -> list[str]:
        """One line per failure that is not staleness: ``SYMBOL: reason``.

        A reason that already names the symbol (a CSV file ``…/0700.HK.csv:3: …``) is kept
        as it is, so the line starts with ``file:line``.
        """
        return [
            reason if symbol in reason else f"{symbol}: {reason}" for symbol, reason in self.failed
        ]

    def details(self) -> list[str]:
        """One line per stale or missing series (for ``--verbose``)."""
        lines = [
            f"{s.symbol}: last bar {s.last_bar.isoformat()},"
            f" {_sessions(s.sessions_behind)} before {self.until.isoformat()}"
            for s in self.stale
        ]
        return lines + [f"{symbol}: no prices in the store" for symbol in self.missing]

    def notes(self) -> list[str]:
        """What a command says on stderr: the line, the problems, the unreachable source."""
        out = [line] if (line := self.line()) else []
        out += self.problems()
        if self.unreachable:
            out.append("the price source is unreachable: the stored prices were used as they are")
        return out

    def _stale_clause(self, prose: bool = False) -> str | None:
        if not self.stale:
            return None
        first = min(s.last_bar for s in self.stale).isoformat()
        last = max(s.last_bar for s in self.stale).isoformat()
        lo = min(s.sessions_behind for s in self.stale)
        hi = max(s.sessions_behind for s in self.stale)
        n = len(self.stale)
        of = f" of {self.total}" if self.total > n else ""
        who = f"{self.stale[0].symbol} ends" if n == 1 else f"{n}{of} series end"
        if prose:
            who = f"{self.stale[0].symbol} prices end" if n == 1 else f"{n}{of} price series end"
        if prose:
            when = first if first == last else f"between {first} and {last}"
            count = _sessions(lo) if lo == hi else f"{lo} to {hi} sessions"
        else:
            when = first if first == last else f"{first}…{last}"
            count = _sessions(lo) if lo == hi else f"{lo}–{hi} sessions"
        return f"{who} {when}, {count} before {self.until.isoformat()}"

    def _missing_clause(self) -> str | None:
        if not self.missing:
            return None
        n = len(self.missing)
        verb = "has" if n == 1 else "have"
        return f"{_named(list(self.missing))} {verb} no prices"


def _sessions(n: int) -> str:
    return f"{n} session{'s' if n != 1 else ''}"


def _named(symbols: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B, C and 4 more``."""
    if len(symbols) == 1:
        return symbols[0]
    if len(symbols) <= NAMED:
        return f"{', '.join(symbols[:-1])} and {symbols[-1]}"
    return f"{', '.join(symbols[:NAMED])} and {len(symbols) - NAMED} more"


def staleness(
    symbols: Sequence[str],
    last_bar: Mapping[str, date | None],
    until: date,
    update: UpdateSummary | None = None,
) -> Staleness:
    """Which of ``symbols`` end before ``until``, and which failed to update for other reasons.

    Parameters
    ----------
    symbols
        The series a command uses, in order.
    last_bar
        Each symbol's last stored bar (None or absent: nothing stored).
    until
        The date the command wants prices up to (a session or not); a series is stale when
        at least one HKEX session falls after its last bar, up to ``until``.
    update
        The update that ran before, if any: its failures other than "no new bars" (which
        is staleness) become :meth:`Staleness.problems`.

    Returns
    -------
    Staleness
    """
    wanted = list(dict.fromkeys(symbols))
    stale, missing = [], []
    for symbol in wanted:
        last = last_bar.get(symbol)
        if last is None:
            missing.append(symbol)
            continue
        behind = sessions.count_sessions_between(last, until)
        if behind > 0:
            stale.append(StaleSeries(symbol, last, behind))
    failed, unreachable = [], False
    for result in update.failed if update is not None else ():
        reason = result.reason or "failed"
        if reason.startswith(NOT_TRIED) or (update.unreachable and "unreachable" in reason):
            unreachable = True
        elif not reason.startswith(NO_NEW_BARS):
            failed.append((result.symbol, reason))
    return Staleness(
        until=until,
        total=len(wanted),
        stale=tuple(stale),
        missing=tuple(missing),
        failed=tuple(failed),
        unreachable=unreachable,
    )


def panel_staleness(info: PanelInfo, until: date | None = None) -> Staleness:
    """:func:`staleness` of the panels :func:`tracker.prices.load_panel` returned.

    ``until`` (e.g. a command's ``--as-of``) is capped at the last closed session the panels
    were loaded at; a point-in-time run is not stale for lacking later bars.
    """
    end = info.as_of if until is None else min(until, info.as_of)
    return staleness(info.symbols, info.last_bar, end, info.update)
