"""``tracker recs extract``: draft a calls file from a report's text."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli._options import parse_date
from tracker.config import Settings


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
    from tracker.cli._render import stderr
    from tracker.errors import InvalidInput
    from tracker.extract import extract_draft
    from tracker.extract.writer import draft_yaml, write_draft
    from tracker.recs import load_report, load_scales
    from tracker.registry import Registry
    from tracker.yamlio import read_text

    settings = Settings()
    day = parse_date(published, "--date")
    text = read_text(report)
    scales_dir = output.parent / "scales" if output is not None else settings.scales_dir
    scales = load_scales(scales_dir) if scales_dir.is_dir() else {}
    registry = Registry.load(settings.home)
    draft = extract_draft(
        text, registry, today=date.today(), scales=scales, source=report.name,
        broker=broker, published=day, title=title,
    )  # fmt: skip
    console = stderr()
    if output is None:
        sys.stdout.write(draft_yaml(draft, scales_dir.name))
        if draft.scale.status == "new":
            console.print(
                f"note: the report defines a new scale {draft.scale.id!r}; run with -o FILE to write"
                f" it to scales/{draft.scale.id}.yaml beside the draft",
                markup=False,
                soft_wrap=True,
            )
    else:
        for path in write_draft(draft, output, scales_dir, overwrite=force):
            console.print(f"wrote {path}", markup=False, soft_wrap=True)
        try:
            load_report(output, load_scales(scales_dir), registry)
        except InvalidInput as exc:
            n = len(exc.problems)
            console.print(
                f"the draft does not validate yet ({n} problem(s)); settle the review items:",
                markup=False,
                soft_wrap=True,
            )
            for problem in exc.problems:
                console.print(f"  {problem}", markup=False, soft_wrap=True)
        else:
            console.print(
                "the draft validates as it is; review it against the report",
                markup=False,
                soft_wrap=True,
            )
    console.print(draft.summary(), markup=False, soft_wrap=True)
    for item in draft.review:
        console.print(f"  review: {item}", markup=False, soft_wrap=True)
