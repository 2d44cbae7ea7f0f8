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
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import load_settings, parse_date
from tracker.cli._render import say

if TYPE_CHECKING:
    from pydantic import SecretStr
    from rich.console import Console

    from tracker.config import Settings
    from tracker.mailer import MailConfig
    from tracker.scorecard.card import Scorecard


def _as_of(value: str | None) -> date:
    if value is None:
        from tracker import sessions

        return sessions.today_hk()
    return parse_date(value, "--as-of")


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
        typer.Option(
            "--as-of", help="Last day of the week (YYYY-MM-DD); default: today in Hong Kong."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write scorecard.html, scorecard.txt and scorecard.eml here."),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="E-mail it to the recipients of tracker.toml not yet served this ISO week.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --send: send to everyone again this week.")
    ] = False,
    config: Annotated[
        Path, typer.Option("--config", help="Settings file with the mail and smtp tables.")
    ] = Path("tracker.toml"),
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the price store only; fetch nothing.")
    ] = False,
    source: Annotated[
        str,
        typer.Option(
            "--source", help="Where missing prices come from: yahoo, csv:DIR or simulated."
        ),
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
    from tracker.mailer import smtp_password

    if force and not send:
        raise typer.BadParameter("--force only applies with --send", param_hint="--force")
    err = stderr()
    settings = load_settings()
    day = _as_of(as_of)
    # Read (and check) the mail settings before the slow part, so a typo fails fast.
    mail = _mail_config(config, err) if send or (out is not None and config.exists()) else None
    password = smtp_password(settings, mail.settings.smtp) if send and mail else None

    from tracker.prices import source_from_spec
    from tracker.scorecard.card import render_chart, render_text
    from tracker.scorecard.run import build_card, write_preview

    card = build_card(settings, day, None if offline else source_from_spec(source, settings.home))
    say(err, *((card.notice, *card.notes) if card.notice else card.notes))
    if out is None and not send:
        typer.echo(render_text(card), nl=False)
        return
    chart = render_chart(card)
    if out is not None:
        written = write_preview(out, card, chart, mail)
        say(err, f"wrote {', '.join(map(str, written))}")
    if send and mail is not None:
        _send(card, chart, mail, settings, password, force, err)


def _mail_config(path: Path, err: Console) -> MailConfig:
    from tracker.mailer import load_mail_config

    mail = load_mail_config(path)
    say(err, *(f"warning: {warning}" for warning in mail.warnings))
    return mail


def _send(
    card: Scorecard,
    chart: bytes,
    mail: MailConfig,
    settings: Settings,
    password: SecretStr | None,
    force: bool,
    err: Console,
) -> None:
    """Send the week's e-mail to those not yet served; one line per recipient on stdout."""
    from tracker.mailer import MailError
    from tracker.mailer.outbox import Outbox, send_week
    from tracker.scorecard.card import mail_content

    content = mail_content(card, chart, mail.settings.subject_prefix)
    try:
        with _StderrLog():
            report = send_week(
                content,
                mail.settings,
                Outbox.in_home(settings.home),
                card.week,
                password=password,
                force=force,
            )
    except MailError as exc:
        _echo_deliveries(exc.deliveries)  # what was done before the stop
        raise
    _echo_deliveries(report.deliveries)
    say(
        err,
        f"week {report.week}: sent {report.count('sent')}, already sent"
        f" {report.count('already sent')}, in doubt {report.count('in doubt')}",
    )
