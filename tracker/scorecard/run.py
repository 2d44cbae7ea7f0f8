"""The week's scorecard from the price store, and its preview files: the glue
between the store and the pure scorecard core (:mod:`tracker.scorecard.card`).

``tracker scorecard`` prints, writes or sends what :func:`build_card` returns.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.constants import DEFAULT_BENCHMARK

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.mailer import MailConfig
    from tracker.prices import PriceSource
    from tracker.scorecard.card import Scorecard

#: The files :func:`write_preview` writes, in order.
PREVIEW_FILES = ("scorecard.html", "scorecard.txt", "scorecard.eml")


def build_card(settings: Settings, as_of: date, source: PriceSource | None) -> Scorecard:
    """Score the calls as of ``as_of`` and read the index since the end of last year.

    ``source`` fetches missing prices; ``None`` reads the store only. The
    benchmark is the one every call was scored against, else
    :data:`tracker.constants.DEFAULT_BENCHMARK`.
    """
    import pandas as pd

    from tracker.prices.load import load_prices
    from tracker.prices.staleness import panel_staleness
    from tracker.redact import without_local_paths
    from tracker.scorecard.card import build_scorecard
    from tracker.scoring.run import score_book

    # Only the scores: the card ranks its own leaders, so the score command's
    # roll-ups (and their bootstraps) would be thrown away.
    run = score_book(settings, as_of, source=source)
    calls = run.scores.calls
    benches = set(calls["benchmark"]) if "benchmark" in calls else set()
    benchmark = benches.pop() if len(benches) == 1 else DEFAULT_BENCHMARK
    # The index since the end of last year: a wider window than the calls need.
    panels = load_prices(settings.home, [benchmark], date(as_of.year - 1, 12, 1), as_of, source)
    close, info = panels.close, panels.info
    # Staleness in one sentence with dates (the CLI's line names a command and the
    # problems may quote a file); a problem with the index's own panel likewise.
    stale = run.staleness
    said = set(stale.notes()) if stale is not None else set()
    notes = [n for n in (stale.sentence() if stale is not None else None,) if n]
    notes += [n for n in run.notes if n not in said]
    index_stale = panel_staleness(info, as_of)
    if index_stale.failed or index_stale.unreachable:
        sentence = index_stale.sentence()
        if sentence and sentence not in notes:
            notes.append(sentence)
    notes = [without_local_paths(n) for n in notes]
    from tracker.scorecard.targets import targets_section
    from tracker.scoring.target_run import run_targets

    targets = run_targets(settings.home, run.scores, run.close, "broker", False, as_of)
    section = targets_section(calls, targets.targets, as_of)
    return build_scorecard(
        calls,
        close[benchmark] if benchmark in close.columns else pd.Series(dtype="float64"),
        as_of,
        benchmark=benchmark,
        notice=without_local_paths(run.banner or info.banner() or "") or None,
        notes=tuple(notes),
        targets=section,
    )


def write_preview(
    out: Path, card: Scorecard, chart: bytes, config: MailConfig | None
) -> list[Path]:
    """Write :data:`PREVIEW_FILES` into ``out``: the HTML (chart inlined), the text, the message.

    The message is addressed as it would be sent to the first recipient of
    ``config``, or from and to a placeholder address without settings.

    Returns
    -------
    list of Path
        The files written, in the order of :data:`PREVIEW_FILES`.
    """
    import base64

    from tracker.storage import output_dir, output_error

    output_dir(out, "--out")
    data_uri = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
    try:
        _write_files(out, card, chart, config, data_uri)
    except OSError as exc:
        raise output_error(out, exc) from None
    return [out / name for name in PREVIEW_FILES]


def _write_files(
    out: Path, card: Scorecard, chart: bytes, config: MailConfig | None, data_uri: str
) -> None:
    from tracker.mailer import Mailbox, build_message, new_message_id
    from tracker.scorecard.card import mail_content, render_html, render_text
    from tracker.storage import write_files

    html, text = render_html(card, data_uri), render_text(card)
    preview = Mailbox(address="scorecard@tracker.invalid", name="Tracker preview")
    sender = config.settings.sender if config else preview
    to = config.settings.recipients[0] if config else preview
    prefix = config.settings.subject_prefix if config else ""
    content = mail_content(card, chart, prefix)
    message = build_message(
        content, sender, to, new_message_id(card.week, sender), datetime.now().astimezone()
    )
    # The three files together or none of them: no preview of mixed weeks or cut short.
    write_files(
        {
            out / "scorecard.html": html,
            out / "scorecard.txt": text,
            out / "scorecard.eml": message.as_bytes(),
        },
        "the preview files are as they were",
    )
