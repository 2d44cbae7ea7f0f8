"""Score `tracker recs extract` on a corpus of notes with known calls (`make extract-eval`).

Usage: python scripts/extract_eval.py [CORPUS_DIR] [--corpus DIR ...] [-v]

A corpus directory holds ``docs/*.txt`` and ``expected.yaml`` (the layout of
../shared/reports/corpus/README.md). Without one, both the real corpus
(../shared/reports/corpus) and the held-out notes written for the project
(tests/resources/heldout) are scored, each with its own table. Every note is
extracted as the command would (one draft per broker), and compared with what a
careful reader found:

* **exact**: an expected call with an extracted call of the same ticker, currency, normalised
  rating and target price, and the same broker;
* **missed**: an expected call with no exact match;
* **invented**: an extracted call matching no expected call of its ticker and broker
  (whatever its values);
* **dates right**: each date the text gives (the note's, or a table row's own) found as is;
* **dates guessed**: a date produced where the text gives none, or a wrong one.

The scoring is plain code over plain records (:func:`score_note`), independent of the
extractor, so it can be checked on a corpus of one's own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "reports" / "corpus"
HELDOUT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "resources" / "heldout"


@dataclass(frozen=True)
class Got:
    """One extracted call, reduced to what is scored."""

    broker: str | None
    ticker: str | None
    rating: str | None
    target: float | None
    currency: str | None
    date: date | None = None  # the call's own date, when it has one


@dataclass
class Score:
    """The counts for one note or for the corpus."""

    expected: int = 0
    exact: int = 0
    invented: int = 0
    dates_given: int = 0
    dates_right: int = 0
    dates_guessed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.expected - self.exact

    def add(self, other: Score) -> None:
        self.expected += other.expected
        self.exact += other.exact
        self.invented += other.invented
        self.dates_given += other.dates_given
        self.dates_right += other.dates_right
        self.dates_guessed += other.dates_guessed


def broker_key(name: str | None) -> str | None:
    """One spelling per broker: the table's id, else the casefolded name before any '('."""
    if not name:
        return None
    from tracker.extract.meta import broker_named

    for part in [name, *name.replace("(", "/").replace(")", "").split("/")]:
        part = part.strip()
        hit = broker_named(part) if part else None
        if hit is not None:
            return hit.id
    return name.split("(")[0].strip().casefold()


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _same_target(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6


def _expected_broker(note: dict, rec: dict) -> str | None:
    return broker_key(rec.get("broker_en") or rec.get("broker") or note.get("broker_en"))


def score_note(note: dict, published: date | None, got: Iterable[Got]) -> Score:
    """Compare one note's extraction with its expected calls.

    Parameters
    ----------
    note : dict
        The note's entry in expected.yaml (``date``, ``expected_recommendations``).
    published : date or None
        The note's date as extracted (None when the extractor reported it missing).
    got : iterable of Got
        Every call extracted from the note, all drafts together.
    """
    score = Score()
    left = list(got)
    expected = note.get("expected_recommendations") or []
    score.expected = len(expected)
    paired: set[int] = set()
    for rec in expected:
        want = (
            rec.get("ticker"),
            _expected_broker(note, rec),
            (rec.get("currency") or None),
        )
        same = [
            i
            for i, g in enumerate(left)
            if i not in paired
            and g.ticker == want[0]
            and broker_key(g.broker) == want[1]
            and (want[2] is None or g.target is None or g.currency == want[2])
        ]
        exact = [
            i
            for i in same
            if left[i].rating == rec.get("rating_normalized")
            and _same_target(left[i].target, rec.get("target_price"))
            and (rec.get("target_price") is None or left[i].currency == want[2])
        ]
        if exact:
            score.exact += 1
            paired.add(exact[0])
        elif same:
            paired.add(same[0])
            score.problems.append(f"wrong: {rec.get('ticker')} {want[1]}: got {left[same[0]]}")
        else:
            score.problems.append(
                f"missed: {rec.get('ticker')} {want[1]} {rec.get('target_price')}"
            )
        if rec.get("date") is not None:
            score.dates_given += 1
            own = left[(exact or same)[0]].date if (exact or same) else None
            if own == _as_date(rec["date"]):
                score.dates_right += 1
            elif own is not None:
                score.dates_guessed += 1
    for i, g in enumerate(left):
        if i not in paired:
            keys = {(r.get("ticker"), _expected_broker(note, r)) for r in expected}
            if (g.ticker, broker_key(g.broker)) not in keys:
                score.invented += 1
                score.problems.append(f"invented: {g}")
    want_date = _as_date(note.get("date"))
    if want_date is not None:
        score.dates_given += 1
        if published == want_date:
            score.dates_right += 1
        elif published is not None:
            score.dates_guessed += 1
            score.problems.append(f"date: got {published}, expected {want_date}")
        else:
            score.problems.append(f"date: missing, expected {want_date}")
    elif published is not None:
        score.dates_guessed += 1
        score.problems.append(f"date: got {published}, the text gives none")
    return score


Extractor = Callable[[str, str], tuple[date | None, list[Got]]]


def tracker_extractor() -> Extractor:
    """The extraction `tracker recs extract` runs, as (note date, calls)."""
    from tracker.extract.roundup import extract_drafts
    from tracker.recs.book import load_scales
    from tracker.registry.resolve import Registry

    registry = Registry.curated()
    scales_dir = Path(__file__).resolve().parents[1] / "recs" / "scales"
    scales = load_scales(scales_dir) if scales_dir.is_dir() else {}
    # Far in the future, so that no date is refused as "after today".
    today = date(2100, 1, 1)

    def run(text: str, name: str) -> tuple[date | None, list[Got]]:
        drafts = extract_drafts(text, registry, today=today, scales=scales, source=name)
        # The note's date: that of the drafts whose calls carry no date of their own.
        days = {
            d.published.value
            for d in drafts
            if not d.published.assumed and not (d.calls and all(c.dated for c in d.calls))
        }
        got = [
            Got(
                broker=d.broker.value if d.broker else None,
                ticker=c.ticker,
                rating=c.rating if c.rating != "attention" else None,
                target=c.target.value if c.target else None,
                currency=c.target.currency if c.target else None,
                date=c.dated,
            )
            for d in drafts
            for c in d.calls
        ]
        return (days.pop() if len(days) == 1 else None), got

    return run


def evaluate(corpus: Path, extractor: Extractor) -> list[tuple[str, Score]]:
    """Each note's score, in the order of expected.yaml."""
    from ruamel.yaml import YAML

    notes = YAML(typ="safe").load((corpus / "expected.yaml").read_text(encoding="utf-8"))
    out = []
    for note in notes["documents"]:
        text = (corpus / "docs" / note["file"]).read_text(encoding="utf-8")
        published, got = extractor(text, note["file"])
        out.append((note["file"], score_note(note, published, got)))
    return out


def report(scores: list[tuple[str, Score]], verbose: bool = False) -> str:
    """The table printed by `make extract-eval`."""
    head = (
        f"{'note':<10} {'calls':>5} {'exact':>5} {'missed':>6} {'invented':>8} "
        f"{'dates':>7} {'guessed':>7}"
    )
    lines = [head]
    total = Score()
    for name, s in scores:
        total.add(s)
        lines.append(_row(name, s))
        if verbose:
            lines.extend(f"    {p}" for p in s.problems)
    lines.append(_row("total", total))
    pct = 100.0 * total.exact / total.expected if total.expected else 0.0
    lines.append(
        f"exact {total.exact}/{total.expected} ({pct:.0f}%), invented {total.invented}, "
        f"dates right {total.dates_right}/{total.dates_given}, guessed {total.dates_guessed}"
    )
    return "\n".join(lines) + "\n"


def _row(name: str, s: Score) -> str:
    return (
        f"{name:<10} {s.expected:>5} {s.exact:>5} {s.missed:>6} {s.invented:>8} "
        f"{s.dates_right:>3}/{s.dates_given:<3} {s.dates_guessed:>7}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, help="a corpus directory")
    parser.add_argument(
        "--corpus",
        dest="more",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a corpus directory (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show each difference")
    args = parser.parse_args(argv)
    corpora = [c for c in [args.corpus, *args.more] if c is not None]
    if not corpora:
        corpora = [DEFAULT_CORPUS, HELDOUT_CORPUS]
    missing = [c for c in corpora if not (c / "expected.yaml").is_file()]
    if missing:
        for c in missing:
            print(f"error: {c}/expected.yaml not found", file=sys.stderr)
        return 1
    extractor = tracker_extractor()
    for i, corpus in enumerate(corpora):
        if len(corpora) > 1:
            sys.stdout.write(("\n" if i else "") + f"== {corpus.resolve().name}\n")
        sys.stdout.write(report(evaluate(corpus, extractor), args.verbose))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
