"""``tracker recs extract``: draft a calls file from a report's text."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.cli._render import say

if TYPE_CHECKING:
    from tracker.errors import Problem
    from tracker.extract import Draft


def extract(
    report: Annotated[
        Path,
        typer.Argument(
            help="The report: text (UTF-8), PDF or a saved web page; Chinese or English."
        ),
    ],
    broker: Annotated[
        str | None, typer.Option(help="Broker, English or Chinese name (overrides the text).")
    ] = None,
    published: Annotated[
        str | None, typer.Option("--date", help="Publication date YYYY-MM-DD (overrides the text).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Report title (overrides the text).")] = None,
    output_arg: Annotated[
        # A string, not a Path: pathlib drops the trailing "/" that asks for a folder.
        str | None,
        typer.Option(
            "-o",
            "--output",
            help=(
                "Write the draft here (a folder: one draft per broker, as a round-up needs),"
                " and a new rating scale to scales/ beside it; default: stdout."
            ),
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing draft file.")] = False,
) -> None:
    """Draft a calls file from a report's text, for a person to review and commit.

    Broker, analysts, title, date, the rating definitions and the recommended
    companies are read from the text; each value's comment in the draft gives
    its source line and confidence, and names that do not resolve are listed
    at the top. An article quoting several brokers gives one draft per broker
    (write them with -o FOLDER). Text without recommendations gives an empty
    draft (exit 0).

    Example: tracker recs extract report.pdf -o recs/2025-05-06-huaan-hk-internet-ai.yaml
    """
    from tracker import sessions
    from tracker.cli._render import stderr
    from tracker.extract.inputs import read_report
    from tracker.extract.roundup import extract_drafts
    from tracker.extract.writer import draft_problems, draft_yaml, write_draft
    from tracker.recs.book import load_scales
    from tracker.registry.resolve import Registry
    from tracker.storage import folder_problem

    settings = load_settings()
    day = parse_date(published, "--date")
    output = None if output_arg is None else Path(output_arg)
    into_folder = output is not None and (output.is_dir() or output_arg.endswith(("/", "\\")))
    if output is not None:
        # Refuse a path under a file before reading the report, not after.
        blocked = folder_problem(output if into_folder else output.parent, "-o")
        if blocked is not None:
            raise blocked
    text = read_report(report)
    if output is None:
        scales_dir = settings.scales_dir
    else:
        scales_dir = (output if into_folder else output.parent) / "scales"
    scales = load_scales(scales_dir) if scales_dir.is_dir() else {}
    registry = Registry.load(settings.home)
    drafts = extract_drafts(
        text,
        registry,
        today=sessions.today_hk(),
        scales=scales,
        source=report.name,
        broker=broker,
        published=day,
        title=title,
    )
    console = stderr()
    if output is None:
        sys.stdout.write("---\n".join(draft_yaml(d, scales_dir.name) for d in drafts))
        for draft in drafts:
            say(console, *_new_scale_note(draft))
    elif len(drafts) > 1 and not into_folder:
        from tracker.errors import InputFileError

        raise InputFileError(
            report,
            f"{len(drafts)} brokers' calls (a round-up): give a folder, -o DIR/,"
            " to write one draft per broker",
        )
    else:
        for draft in drafts:
            path = output / _draft_name(draft, report) if into_folder else output
            written = write_draft(draft, path, scales_dir, overwrite=force)
            say(console, *(f"wrote {p}" for p in written))
            say(console, *_validation_lines(draft_problems(path, scales_dir, registry)))
    for draft in drafts:
        who = f"{draft.broker.value}: " if len(drafts) > 1 and draft.broker else ""
        say(console, who + draft.summary(), *(f"  review: {item}" for item in draft.review))


def _draft_name(draft: Draft, report: Path) -> str:
    """``YYYY-MM-DD-<broker id>-<report stem>.yaml`` (``undated`` when the text gives no date)."""
    import re

    from tracker.extract.meta import broker_named

    day = "undated" if draft.published.assumed else draft.published.value.isoformat()
    known = broker_named(draft.broker.value) if draft.broker else None
    who = known.id if known else "broker"
    stem = re.sub(r"[^a-z0-9]+", "-", report.stem.lower()).strip("-") or "report"
    return f"{day}-{who}-{stem}.yaml"


def _new_scale_note(draft: Draft) -> list[str]:
    if draft.scale.status != "new":
        return []
    return [
        f"note: the report defines a new scale {draft.scale.id!r}; run with -o FILE to write"
        f" it to scales/{draft.scale.id}.yaml beside the draft"
    ]


def _validation_lines(problems: tuple[Problem, ...]) -> list[str]:
    if not problems:
        return ["the draft validates as it is; review it against the report"]
    return [
        f"the draft does not validate yet ({len(problems)} problem(s)); settle the review items:",
        *(f"  {problem}" for problem in problems),
    ]
