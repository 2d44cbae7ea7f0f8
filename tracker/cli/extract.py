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
    report: Annotated[Path, typer.Argument(help="The report's text (UTF-8): Chinese or English.")],
    broker: Annotated[
        str | None, typer.Option(help="Broker, English or Chinese name (overrides the text).")
    ] = None,
    published: Annotated[
        str | None, typer.Option("--date", help="Publication date YYYY-MM-DD (overrides the text).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Report title (overrides the text).")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the draft here, and a new rating scale to scales/ beside it; default: stdout.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing draft file.")] = False,
) -> None:
    """Draft a calls file from a report's text, for a person to review and commit.

    Broker, analysts, title, date, the rating definitions and the recommended
    companies are read from the text; each value's comment in the draft gives
    its source line and confidence, and names that do not resolve are listed
    at the top. Text without recommendations gives an empty draft (exit 0).

    Example: tracker recs extract report.txt -o recs/2025-05-06-huaan-hk-internet-ai.yaml
    """
    from tracker import sessions
    from tracker.cli._render import stderr
    from tracker.extract import extract_draft
    from tracker.extract.writer import draft_problems, draft_yaml, write_draft
    from tracker.recs.book import load_scales
    from tracker.recs.yamlio import read_text
    from tracker.registry.resolve import Registry

    settings = load_settings()
    day = parse_date(published, "--date")
    text = read_text(report)
    scales_dir = output.parent / "scales" if output is not None else settings.scales_dir
    scales = load_scales(scales_dir) if scales_dir.is_dir() else {}
    registry = Registry.load(settings.home)
    draft = extract_draft(
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
        sys.stdout.write(draft_yaml(draft, scales_dir.name))
        say(console, *_new_scale_note(draft))
    else:
        written = write_draft(draft, output, scales_dir, overwrite=force)
        say(console, *(f"wrote {path}" for path in written))
        say(console, *_validation_lines(draft_problems(output, scales_dir, registry)))
    say(console, draft.summary(), *(f"  review: {item}" for item in draft.review))


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
