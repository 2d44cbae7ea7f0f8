"""``tracker scorecard``: the weekly e-mail, previewed or sent, never twice a week.

Exit codes (also in docs/scorecard.md): 0 done (or nothing left to send this
week), 1 bad input or settings, 2 usage error, 69 permanent SMTP failure
(5xx, TLS, a refused recipient), 75 transient failure that outlasted the
retries or another send still running (try again later), 77 SMTP
authentication refused.
"""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import parse_date
from tracker.config import Settings
from tracker.constants import DEFAULT_BENCHMARK

if TYPE_CHECKING:
    from tracker.mailer import MailConfig
    from tracker.prices import PriceSource
    from tracker.scorecard import Scorecard

HK_TZ = "Asia/Hong_Kong"
FILES = ("scorecard.html", "scorecard.txt", "scorecard.eml")


def _as_of(value: str | None) -> date:
    if value is None:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(HK_TZ)).date()
    return parse_date(value, "--as-of")


def build_card(settings: Settings, as_of: date, source: PriceSource | None) -> Scorecard:
    """Score the calls as of ``as_of`` and read the index since the end of last year.

    ``source`` fetches missing prices; ``None`` reads the store only.
    """
    import pandas as pd

    from tracker.prices import load_panel
    from tracker.scorecard import build_scorecard
    from tracker.scoring_run import run_score

    run = run_score(settings, as_of, source=source)
    calls = run.scores.calls
    benches = set(calls["benchmark"]) if "benchmark" in calls else set()
    benchmark = benches.pop() if len(benches) == 1 else DEFAULT_BENCHMARK
    close, _, info = load_panel(
        settings.home, [benchmark], date(as_of.year - 1, 12, 1), as_of, offline=source is None,
        source=source,
    )
    notes = list(run.notes)
    if info.fetch_problem and info.fetch_problem not in notes:
        notes.append(info.fetch_problem)
    return build_scorecard(
        calls,
        close[benchmark] if benchmark in close.columns else pd.Series(dtype="float64"),
        as_of,
        benchmark=benchmark,
        notice=run.banner or info.banner(),
        notes=tuple(notes),
    )


def _write_preview(out: Path, card: Scorecard, chart: bytes, config: MailConfig | None) -> None:
    import base64

    from tracker.mailer import Mailbox, build_message, new_message_id
    from tracker.scorecard import mail_content, render_html, render_text
    from tracker.yamlio import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    data_uri = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
    write_atomic(out / "scorecard.html", render_html(card, data_uri))
    write_atomic(out / "scorecard.txt", render_text(card))
    preview = Mailbox(address="scorecard@tracker.invalid", name="Tracker preview")
    sender = config.settings.sender if config else preview
    to = config.settings.recipients[0] if config else preview
    prefix = config.settings.subject_prefix if config else ""
    content = mail_content(card, chart, prefix)
    message = build_message(content, sender, to, new_message_id(card.week, sender),
                            datetime.now().astimezone())  # fmt: skip
    (out / "scorecard.eml").write_bytes(message.as_bytes())


def _echo_deliveries(deliveries) -> None:
    for d in deliveries:
        typer.echo(f"{d.outcome:<13} {d.recipient} {d.message_id}".rstrip())


class _StderrLog:
    """Route tracker's delivery log lines to stderr for one command run."""

    def __enter__(self) -> None:
        self.handler = logging.StreamHandler(sys.stderr)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger = logging.getLogger("tracker")
        self.level = self.logger.level
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def scorecard_cmd(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of the week (YYYY-MM-DD); default: today in Hong Kong."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write scorecard.html, scorecard.txt and scorecard.eml here."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="E-mail it to the recipients of tracker.toml not yet served this ISO week.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --send: send to everyone again this week.")
    ] = False,
    config: Annotated[
        Path, typer.Option("--config", help="Settings file with the mail and smtp tables.")
    ] = Path("tracker.toml"),
    offline: Annotated[bool, typer.Option("--offline", help="Use the price store only; fetch nothing.")] = False,
    source: Annotated[
        str, typer.Option("--source", help="Where missing prices come from: yahoo, csv:DIR or simulated.")
    ] = "yahoo",
) -> None:
    """The weekly scorecard: headline figures, new and matured calls, open calls, leaderboards.

    Without --out or --send the plain-text version goes to stdout. The SMTP
    password is read only from TRACKER_SMTP_PASSWORD. Exit codes: 0 ok,
    1 bad settings, 69 permanent SMTP failure, 75 try again later, 77 SMTP
    authentication refused (docs/scorecard.md).

    Example: tracker scorecard --send --config /etc/tracker/tracker.toml --offline
    """
    from tracker.cli._render import stderr
    from tracker.mailer import load_mail_config, smtp_password

    if force and not send:
        raise typer.BadParameter("--force only applies with --send", param_hint="--force")
    err = stderr()
    settings = Settings()
    day = _as_of(as_of)
    mail = None
    if send or (out is not None and config.exists()):
        # Read (and check) the settings before the slow part, so a typo fails fast.
        mail = load_mail_config(config)
        for warning in mail.warnings:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    password = smtp_password(settings, mail.settings.smtp) if send and mail else None

    from tracker.prices import source_from_spec

    card = build_card(settings, day, None if offline else source_from_spec(source, settings.home))
    if card.notice:
        err.print(card.notice, markup=False, soft_wrap=True)
    for note in card.notes:
        err.print(note, markup=False, soft_wrap=True)
    if out is None and not send:
        from tracker.scorecard import render_text

        typer.echo(render_text(card), nl=False)
        return

    from tracker.scorecard import mail_content, render_chart

    chart = render_chart(card)
    if out is not None:
        _write_preview(out, card, chart, mail)
        err.print(f"wrote {', '.join(str(out / f) for f in FILES)}", markup=False, soft_wrap=True)
    if send and mail is not None:
        from tracker.mailer import MailError
        from tracker.outbox import Outbox, send_week

        content = mail_content(card, chart, mail.settings.subject_prefix)
        try:
            with _StderrLog():
                report = send_week(content, mail.settings, Outbox.in_home(settings.home),
                                   card.week, password=password, force=force)  # fmt: skip
        except MailError as exc:
            _echo_deliveries(exc.deliveries)  # what was done before the stop
            raise
        _echo_deliveries(report.deliveries)
        sent = report.count("sent")
        err.print(
            f"week {report.week}: sent {sent}, already sent {report.count('already sent')},"
            f" in doubt {report.count('in doubt')}", markup=False, soft_wrap=True,
        )  # fmt: skip
