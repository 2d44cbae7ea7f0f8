"""A draft as YAML: the calls file (with a comment per value) and, if new, its scale file.

The calls file has the shape of ``recs/*.yaml``; each value carries a comment
with the source line and the confidence of the reading, and the items to
review are listed in the header. A name that did not resolve gets
``ticker: TODO`` so that ``tracker recs validate`` refuses the file until a
person sets it (or deletes the call). Fields the text does not give are left
out (validation names them) rather than filled with a guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import InputFileError, InvalidInput, Problem
from tracker.extract.model import Draft, DraftCall
from tracker.recs.models import Band, Horizon, RatingScale, RatingSystem
from tracker.recs.yamlio import dump_yaml

if TYPE_CHECKING:
    from tracker.registry.resolve import Registry

#: Placeholder ticker of a call whose company did not resolve; validation rejects it.
UNRESOLVED_TICKER = "TODO"


def _where(line: int | None, confidence: str | None = None, words: str | None = None) -> str:
    parts = [f"line {line}" if line else "not in the text"]
    if words:
        parts.append(words)
    if confidence:
        parts.append(confidence)
    return " · ".join(parts)


def _number(v: float | None) -> float | int | None:
    return int(v) if v is not None and float(v).is_integer() else v


def _header(draft: Draft, scales_dir_name: str) -> str:
    lines = [
        f"Draft calls file made by `tracker recs extract` from {draft.source}.",
        "Each value's comment gives its source line and how sure the reading is (high,",
        "medium, low). Check the values against the report, settle the items below,",
        "delete this header, then run `tracker recs validate`.",
        "",
    ]
    if draft.review:
        lines.append(f"To review ({len(draft.review)}):")
        lines += [f"  - {item}" for item in draft.review]
    else:
        lines.append("Nothing was flagged; still check each value against the report.")
    lines.append("")
    lines.append(f"Scale: {draft.scale.message}")
    if draft.scale.status == "new":
        lines.append(
            f"  ({scales_dir_name}/{draft.scale.id}.yaml is written beside this file:"
            " check its bands)"
        )
    if not draft.calls:
        lines.append("No recommendations were found in the text: the draft has no calls.")
    return "\n".join(lines) + "\n"


def _call_map(call: DraftCall) -> Any:
    from ruamel.yaml.comments import CommentedMap

    m = CommentedMap()
    m["name"] = call.name
    m.yaml_add_eol_comment(_where(call.line, call.confidence, call.context), "name")
    m["ticker"] = call.ticker or UNRESOLVED_TICKER
    if call.ticker is None:
        what = "AMBIGUOUS" if call.problem == "ambiguous" else "NOT IN THE REGISTRY"
        hint = f"; candidates: {'; '.join(call.candidates)}" if call.candidates else ""
        m.yaml_add_eol_comment(f"{what}{hint}", "ticker")
    m["rating"] = call.rating or "TODO"
    said = [] if call.rating else ["NOT IN THE TEXT: write the rating or delete the call"]
    if call.rating_words:
        said.append(call.rating_words)
    if call.action:
        said.append(call.action + (f" from {call.previous_rating}" if call.previous_rating else ""))
    if not call.rating_ok:
        said.append("NO SUCH BAND IN THE SCALE")
    if said:
        m.yaml_add_eol_comment(" · ".join(said), "rating")
    if call.target is not None:
        m["target"] = CommentedMap(value=_number(call.target.value), currency=call.target.currency)
        notes = [f"line {call.target_line}"]
        if call.previous_target is not None:
            notes.append(f"was {call.previous_target:g}")
        if call.target_currency_assumed:
            notes.append("currency assumed")
        m.yaml_add_eol_comment(" · ".join(notes), "target")
    if call.action:
        m["action"] = call.action
    if call.previous_rating:
        m["previous_rating"] = call.previous_rating
    if call.previous_target is not None:
        m["previous_target"] = _number(call.previous_target)
    if call.listing == "ADR":
        m["listing"] = "ADR"
        m.yaml_add_eol_comment("a USD target on the US line: check it", "listing")
    if call.note:
        m["note"] = call.note
    return m


def draft_yaml(draft: Draft, scales_dir_name: str = "scales") -> str:
    """The draft calls file as YAML text, comments included."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    data = CommentedMap()
    missing: list[str] = []
    if draft.broker:
        data["broker"] = draft.broker.value
        data.yaml_add_eol_comment(
            _where(draft.broker.line, draft.broker.confidence, draft.broker.words), "broker"
        )
    else:
        missing.append("broker: not found in the text (English name, e.g. Huaan Securities)")
    if draft.broker_local:
        data["broker_local"] = draft.broker_local
    if draft.title:
        data["title"] = draft.title.value
        data.yaml_add_eol_comment(
            _where(draft.title.line, draft.title.confidence, draft.title.words), "title"
        )
    else:
        missing.append("title: not found in the text")
    pub = draft.published
    # A date the text does not give is never filled in: a wrong publication date
    # would score the calls from the wrong day, so the draft refuses to validate
    # until the reviewer writes the real one.
    data["published"] = "TODO" if pub.assumed else pub.value
    data.yaml_add_eol_comment(
        "NOT IN THE TEXT: write the report's publication date (YYYY-MM-DD)"
        if pub.assumed
        else _where(pub.line, pub.confidence, pub.words),
        "published",
    )
    if draft.analysts:
        seq = CommentedSeq()
        for a in draft.analysts:
            am = CommentedMap(name=a.name)
            if a.registration:
                am["registration"] = a.registration
            am.yaml_add_eol_comment(_where(a.line, a.confidence), "name")
            seq.append(am)
        data["analysts"] = seq
    data["source"] = draft.source
    data["language"] = draft.language
    data["scale"] = draft.scale.id
    data.yaml_add_eol_comment(draft.scale.message, "scale")
    if draft.industry:
        data["industry"] = draft.industry.value
        data.yaml_add_eol_comment(_where(draft.industry.line), "industry")
    if draft.industry_rating:
        data["industry_rating"] = draft.industry_rating.value
        data.yaml_add_eol_comment(
            _where(draft.industry_rating.line, None, draft.industry_rating.words), "industry_rating"
        )
    data["recommendations"] = CommentedSeq(_call_map(c) for c in draft.calls)
    header = _header(draft, scales_dir_name)
    if missing:
        header += "\nMissing (add them):\n" + "\n".join(f"  {m}" for m in missing) + "\n"
    data.yaml_set_start_comment(header)
    return dump_yaml(data)


# --------------------------------------------------------------------------- scale file


def _horizon(h: Horizon) -> int | str:
    return h.max_months if h.min_months == h.max_months else f"{h.min_months}-{h.max_months}"


def _band(b: Band) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    m = CommentedMap(rating=b.rating)
    if b.lower_pp is not None:
        m["lower_pp"] = _number(b.lower_pp)
    if b.upper_pp is not None:
        m["upper_pp"] = _number(b.upper_pp)
    if not b.lower_inclusive:
        m["lower_inclusive"] = False
    if b.upper_inclusive:
        m["upper_inclusive"] = True
    if b.aliases:
        aliases = CommentedSeq(b.aliases)
        aliases.fa.set_flow_style()
        m["aliases"] = aliases
    if b.source:
        m["source"] = b.source
    return m


def _system(rs: RatingSystem) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return CommentedMap(
        horizon_months=_horizon(rs.horizon_months), bands=CommentedSeq(_band(b) for b in rs.bands)
    )


def scale_yaml(scale: RatingScale, source: str, line: int | None) -> str:
    """A rating scale read from a report, in the layout of ``recs/scales/*.yaml``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    data = CommentedMap(id=scale.id, broker=scale.broker, source=scale.source)
    if scale.note:
        data["note"] = scale.note
    data["benchmarks"] = CommentedMap(scale.benchmarks)
    data["company"] = _system(scale.company)
    if scale.industry is not None:
        data["industry"] = _system(scale.industry)
    att = scale.attention
    attention = CommentedMap(lower_pp=_number(att.lower_pp), lower_inclusive=att.lower_inclusive)
    if att.horizon_months is not None:
        attention["horizon_months"] = _horizon(att.horizon_months)
    aliases = CommentedSeq(att.aliases)
    aliases.fa.set_flow_style()
    attention["aliases"] = aliases
    if att.source:
        attention["source"] = att.source
    data["attention"] = attention
    where = f", line {line}" if line else ""
    data.yaml_set_start_comment(
        f"{scale.broker} rating definitions, read by `tracker recs extract` from {source}{where}.\n"
        "Bands are excess return over the benchmark in percentage points. A value exactly on a\n"
        'threshold belongs to the band further from zero ("15%以上" includes 15); neutral is\n'
        "strictly inside. Check every band against the report before relying on it."
    )
    return dump_yaml(data)


def write_draft(
    draft: Draft, path: Path, scales_dir: Path | None = None, overwrite: bool = False
) -> list[Path]:
    """Write the draft to ``path`` and, when its scale is new, ``<scales_dir>/<id>.yaml``.

    Parameters
    ----------
    scales_dir : Path, optional
        Defaults to ``path.parent / "scales"`` (the layout of ``recs/``).
    overwrite : bool
        Replace an existing draft file; an existing scale file is never replaced.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputFileError
        The draft exists (without ``overwrite``) or the scale file exists.
    NotWritable, DiskFull
        The files cannot be written (a file where a folder is needed, a read-only
        folder, a full disk); neither file is changed.
    """
    scales_dir = scales_dir if scales_dir is not None else path.parent / "scales"
    if path.exists() and not overwrite:
        raise InputFileError(path, "already exists: choose another -o FILE or pass --force")
    from tracker.storage import write_files

    files: dict[Path, str] = {}
    if draft.scale.status == "new" and draft.scale.scale is not None:
        scale_path = scales_dir / f"{draft.scale.id}.yaml"
        if scale_path.exists():
            raise InputFileError(
                scale_path,
                "already exists and differs from the report's definitions:"
                " rename it or move it away",
            )
        files[scale_path] = scale_yaml(draft.scale.scale, draft.source, draft.scale.line)
    files[path] = draft_yaml(draft, scales_dir.name)
    # Both or neither: a scale file without its draft would be a half-written extract.
    return write_files(files, "nothing was written")


def draft_problems(path: Path, scales_dir: Path, registry: Registry) -> tuple[Problem, ...]:
    """What :func:`tracker.recs.book.load_report` finds wrong in a written draft; empty if it
    validates.

    A fresh draft usually has problems: the review items (``ticker: TODO``,
    missing fields) are left for a person to settle.
    """
    from tracker.recs.book import load_report, load_scales

    try:
        load_report(path, load_scales(scales_dir), registry)
    except InvalidInput as exc:
        return tuple(exc.problems)
    return ()
