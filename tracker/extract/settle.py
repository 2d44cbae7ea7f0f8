"""Settling the candidate calls: resolve each name, merge duplicates, choose the rating,
tie target prices, and list for review whatever a person must decide."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.extract.calls import Candidate, canonical_rating
from tracker.extract.model import DraftCall, Review, Sourced
from tracker.extract.names import CODE, clean_name, looks_like_name, resolve_code, resolve_name
from tracker.extract.targets import target_prices
from tracker.extract.text import Source, language_of
from tracker.extract.vocab import RATING_RANKS
from tracker.recs.models import RatingScale, TargetPrice

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry

_PRIORITY = {"rating": 3, "row": 2, "list": 1, "advice": 0}
_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass
class _Call:
    cands: list[Candidate]
    name: str
    ticker: str | None
    problem: str | None
    candidates: tuple[str, ...]
    confidence: str
    target: TargetPrice | None = None
    previous_target: float | None = None
    target_line: int | None = None
    target_assumed: bool = False
    conflict: str | None = None


def _parens(text: str) -> tuple[str, str | None, str | None]:
    """``腾讯控股(00700.HK,买入)`` -> (``腾讯控股``, ``00700``, ``买入``)."""
    code = word = None
    for inner in re.findall(r"\(([^)]*)\)", text):
        m = CODE.search(f"({inner})")
        if m:
            code = next(g for g in m.groups() if g)
        for part in re.split(r"[,;/\s]+", inner):
            if part.lower() in RATING_RANKS:
                word = part
    return re.sub(r"\([^)]*\)", "", text), code, word


def _display_name(registry: Registry, ticker: str | None, language: str) -> str:
    if ticker is None:
        return ""
    sec = registry.get(ticker)
    if language == "zh-Hant":
        return sec.name_zh_hant or sec.name_zh_hans or sec.name_en
    if language == "en":
        return sec.name_en or sec.name_zh_hans or ""
    return sec.name_zh_hans or sec.name_zh_hant or sec.name_en


def _resolve(src: Source, registry: Registry, cand: Candidate) -> _Call | None:
    written = clean_name(src.original(*cand.name_span)) if cand.name_span else (cand.name or "")
    lookup = (
        clean_name(src.text[cand.name_span[0] : cand.name_span[1]]) if cand.name_span else written
    )
    written, code_w, word = _parens(written)
    lookup, code_l, _ = _parens(lookup)
    written, lookup = clean_name(written), clean_name(lookup)
    code = cand.code or code_l or code_w
    if word and cand.word is None:
        cand.word = word
    base = {"rating": "high", "row": "medium", "list": "high", "advice": "medium"}[cand.kind]
    if cand.subject or cand.weak:
        base = "medium"
    conflict = None
    if code:
        res = resolve_code(registry, code)
        if res.ticker and lookup:
            by_name = resolve_name(registry, lookup)
            if by_name.ticker not in (None, res.ticker):
                base = "medium"
                conflict = (
                    f"{lookup} is {by_name.ticker} in the registry"
                    f" but the text gives code {code}; {res.ticker} kept"
                )
        name = written or _display_name(registry, res.ticker, language_of(src)) or code
    else:
        if not lookup or (
            not looks_like_name(lookup) and resolve_name(registry, lookup).ticker is None
        ):
            return None
        res = resolve_name(registry, lookup)
        name = written
        if res.ticker is None and cand.weak:
            return None  # a weak trigger ("推荐") keeps only names the registry knows
    confidence = base if res.ticker else "low"
    return _Call(
        [cand], name, res.ticker, res.problem, res.candidates, confidence, conflict=conflict
    )


def settle_calls(
    src: Source,
    registry: Registry,
    cands: list[Candidate],
    scale: RatingScale | None,
    scale_id: str,
    review: list[Review],
) -> list[DraftCall]:
    """One :class:`DraftCall` per company, in the order the text first names them.

    Candidates naming the same ticker (or, unresolved, the same name) merge; the
    strongest evidence (rating phrase > table row > list > advice section) sets
    the rating. Review items are appended to ``review``.
    """
    merged: dict[str, _Call] = {}
    for cand in cands:
        call = _resolve(src, registry, cand)
        if call is None:
            continue
        key = call.ticker or "?" + re.sub(r"-(?:SW|W|S|B)$", "", call.name)
        if key not in merged:
            merged[key] = call
            continue
        have = merged[key]
        have.cands.append(cand)
        if _RANK[call.confidence] > _RANK[have.confidence]:
            have.confidence = call.confidence
        have.conflict = have.conflict or call.conflict
    calls = sorted(merged.values(), key=lambda c: min(x.start for x in c.cands))
    _attach_targets(src, calls, scale, review)
    return [_draft_call(src, call, scale, scale_id, review) for call in calls]


def _draft_call(
    src: Source, call: _Call, scale: RatingScale | None, scale_id: str, review: list[Review]
) -> DraftCall:
    best = max(
        call.cands, key=lambda c: (_PRIORITY[c.kind] - 0.5 * c.weak, not c.subject, -c.start)
    )
    rated = [c for c in call.cands if c.word is not None]
    if rated and best.word is None:
        best = rated[0]
    rating, ok = canonical_rating(best.word, scale)
    where = best.name_span[0] if best.kind == "list" and best.name_span else best.start
    line = src.line(where)
    others = {canonical_rating(c.word, scale)[0] for c in rated} - {rating}
    if others:
        review.append(
            Review(
                field="recommendations",
                line=line,
                message=(
                    f"{call.name}: the text also rates it {', '.join(sorted(others))};"
                    f" {rating} kept"
                ),
            )
        )
    if not ok:
        review.append(
            Review(
                field="recommendations",
                line=line,
                message=(
                    f"{call.name}: rating {best.word!r} has no band in scale {scale_id!r}:"
                    " pick one it has"
                ),
            )
        )
    if call.ticker is None:
        what = "ambiguous in the registry" if call.problem == "ambiguous" else "not in the registry"
        hint = f" (candidates: {'; '.join(call.candidates)})" if call.candidates else ""
        review.append(
            Review(
                field="recommendations",
                line=line,
                message=f"{call.name}: {what}{hint}; set its ticker or delete the call",
            )
        )
    if call.conflict:
        review.append(Review(field="recommendations", line=line, message=call.conflict))
    thesis = next((c.thesis for c in call.cands if c.thesis), None)
    note = _note(src.original(*thesis)) if thesis else None
    previous = canonical_rating(best.previous, scale)[0] if best.previous else None
    return DraftCall(
        name=call.name,
        ticker=call.ticker,
        problem=call.problem,
        candidates=call.candidates,
        rating=rating,
        rating_ok=ok,
        rating_words=best.context if best.kind == "rating" else None,
        action=best.action,
        previous_rating=previous,
        note=note,
        line=line,
        context=_context(best),
        confidence=call.confidence,  # type: ignore[arg-type]
        target=call.target,
        previous_target=call.previous_target,
        target_line=call.target_line,
        target_currency_assumed=call.target_assumed,
    )


def _note(text: str) -> str | None:
    note = " ".join(text.split()).strip(" ,，、;；:：。")
    return note if len(note) >= 2 else None


def _context(c: Candidate) -> str:
    if c.kind == "list":
        return f"{c.context} list" + (" (weak)" if c.weak else "")
    if c.kind == "rating":
        return "rating phrase, company of the report" if c.subject else "rating phrase"
    return c.context


def _attach_targets(
    src: Source, calls: list[_Call], scale: RatingScale | None, review: list[Review]
) -> None:
    """Give each target price to the call named nearest before it in its sentence
    (else nearest after it), else to the only rated call of the report."""
    rated = [c for c in calls if any(x.word is not None for x in c.cands)]
    for hit in target_prices(src.text):
        if src.zone(hit.start) in ("disclaimer", "definitions"):
            continue
        a, b = src.sentence(hit.start)
        line = src.line(hit.start)
        spots = [(x.start, call) for call in calls for x in call.cands if a <= x.start < b]
        before = [(pos, c) for pos, c in spots if pos <= hit.start]
        after = [(pos, c) for pos, c in spots if pos > hit.start]
        if before:
            call = max(before, key=lambda t: t[0])[1]
        elif after:
            call = min(after, key=lambda t: t[0])[1]
        elif len(rated) == 1:
            call = rated[0]
        else:
            review.append(
                Review(
                    field="recommendations",
                    line=line,
                    message=f"target price {hit.value:g} {hit.currency} not tied to a company",
                )
            )
            continue
        if call.target is not None:
            if call.target.value == hit.value and call.previous_target is None and hit.previous:
                call.previous_target, call.target_line = hit.previous, line
            elif call.target.value != hit.value:
                review.append(
                    Review(
                        field="recommendations",
                        line=line,
                        message=(
                            f"{call.name}: another target price {hit.value:g}"
                            f" (kept {call.target.value:g})"
                        ),
                    )
                )
            continue
        if hit.currency_assumed:
            review.append(
                Review(
                    field="recommendations",
                    line=line,
                    message=(
                        f"{call.name}: target price currency not written as HKD/CNY/USD;"
                        " HKD assumed"
                    ),
                )
            )
        call.target = TargetPrice(value=hit.value, currency=hit.currency)  # type: ignore[arg-type]
        call.previous_target, call.target_line, call.target_assumed = (
            hit.previous,
            line,
            hit.currency_assumed,
        )


def settle_industry(
    src: Source, hits: list, scale: RatingScale | None, scale_id: str, review: list[Review]
) -> tuple[Sourced | None, Sourced | None]:
    """The industry and its rating from the first industry rating phrase, written as a word
    the scale's industry bands know (or left out, and flagged)."""
    if not hits:
        return None, None
    phrase, name = hits[0]
    line = src.line(phrase.start)
    industry = Sourced(value=name, line=line) if name else None
    word = phrase.word
    if scale is not None and scale.canonical_industry_rating(word) is None:
        rating = canonical_rating(word, None)[0]
        if scale.canonical_industry_rating(rating) is None:
            review.append(
                Review(
                    field="industry_rating",
                    line=line,
                    message=f"{word!r} has no industry band in scale {scale_id!r}; left out",
                )
            )
            return industry, None
        word = rating
    return industry, Sourced(value=word, line=line, words=src.original(phrase.start, phrase.end))
