"""Where a delivery ends: refused, accepted (any 2xx), lost before the "." or in doubt after it.

The rule under test (RFC 5321 §4.1.1.4, §4.2.1): a server can accept a message
only once the final "." has reached it, and any 2xx reply is acceptance. So a
connection lost before the "." left is a plain failure, retried until the
message is delivered once; a reply after the "." that is neither 2xx, 4xx nor
5xx leaves the message in doubt: counted as served, never sent twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers.smtp_server import USERNAME, Mailroom, authenticator_for, smtp_server
from mailer.test_mailer_outbox import CONTENT, WEEK, config, counts
from pydantic import SecretStr

from tracker.mailer import (
    MailAuthError,
    MailTransientError,
    SmtpTransport,
    build_message,
    new_message_id,
    send_one,
)
from tracker.mailer.outbox import COMMITTING, FAILED, SENT, Outbox, send_week
from tracker.mailer.settings import SmtpSettings

RCPT = "a@example.com"


@pytest.fixture
def outbox(tracker_home) -> Outbox:
    return Outbox.in_home(tracker_home)


def hold_the_dot_until_dropped(handler: Mailroom, monkeypatch) -> None:
    """Make each of the server's ``handler.drops`` drops happen before the "." goes out.

    The outbox records ``committing`` just before the "."; waiting there for the
    server to drop the connection orders the two events the way these cases need.
    """
    real = Outbox.record
    pending = [handler.drops]

    def record(self, week, round, recipient, message_id, status, *args, **kwargs):
        if status == COMMITTING and pending[0] > 0:
            assert handler.dropped.wait(10), "the server never dropped the connection"
            handler.dropped.clear()
            pending[0] -= 1
        return real(self, week, round, recipient, message_id, status, *args, **kwargs)

    monkeypatch.setattr(Outbox, "record", record)


NOW = datetime(2026, 11, 23, 8, tzinfo=timezone(timedelta(hours=8)))


def data_lines() -> int:
    """How many lines the DATA of this week's message has before its final "."."""
    cfg = config(25, [RCPT])
    sent = build_message(
        CONTENT, cfg.sender, cfg.recipients[0], new_message_id(WEEK, cfg.sender), NOW
    ).as_bytes()
    return sent.count(b"\r\n") + (not sent.endswith(b"\r\n"))


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
@pytest.mark.parametrize("lines", [0, 1, 5, -1], ids=["at-354", "1-line", "5-lines", "all-lines"])
def test_drop_in_the_middle_of_data_is_retried_and_delivered_once(
    outbox, monkeypatch, lines, reset
):
    # lines=-1: the server reads the whole message except its final ".", then goes.
    handler = Mailroom(drops=1, drop_after_lines=data_lines() if lines < 0 else lines)
    handler.drop_reset = reset
    hold_the_dot_until_dropped(handler, monkeypatch)
    sleeps: list[float] = []
    with smtp_server(handler) as server:
        cfg = config(server.port, [RCPT])
        report = send_week(CONTENT, cfg, outbox, WEEK, sleep=sleeps.append, now=lambda: NOW)
        again = send_week(CONTENT, cfg, outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["sent"]
    assert [d.outcome for d in again.deliveries] == ["already sent"]
    assert sleeps == [2.0]  # one backoff: the drop was a transient failure
    assert counts(handler) == {RCPT: 1}
    (row,) = outbox.rows(WEEK)
    assert row.status == SENT and row.attempts == 2


def test_drops_on_every_attempt_end_failed_and_are_retried_next_run(outbox, monkeypatch):
    handler = Mailroom(drops=5, drop_after_lines=3)  # 5 = max_attempts
    hold_the_dot_until_dropped(handler, monkeypatch)
    with smtp_server(handler) as server:
        cfg = config(server.port, [RCPT])
        with pytest.raises(MailTransientError, match="before the end of the data"):
            send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: None)
        assert [r.status for r in outbox.rows(WEEK)] == [FAILED]
        assert counts(handler) == {}
        report = send_week(CONTENT, cfg, outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["sent"]
    assert counts(handler) == {RCPT: 1}


@pytest.mark.parametrize(
    "reply",
    [
        "250 2.0.0 ok",
        "251 2.1.5 queued, will forward",
        "252 2.0.0 cannot verify, accepted",
        "200 ok",
        "299 odd but positive",
        "250-first line\r\n250 second line",
    ],
)
def test_any_2xx_after_the_dot_is_acceptance(outbox, reply):
    handler = Mailroom(accept_reply=reply)
    with smtp_server(handler) as server:
        cfg = config(server.port, [RCPT, "b@example.com"])
        report = send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: pytest.fail("retried"))
        again = send_week(CONTENT, cfg, outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["sent", "sent"]
    assert [d.outcome for d in again.deliveries] == ["already sent", "already sent"]
    assert counts(handler) == {RCPT: 1, "b@example.com": 1}
    assert [r.status for r in outbox.rows(WEEK)] == [SENT, SENT]


@pytest.mark.parametrize(
    "reply",
    [
        "hello",
        "OK",
        "2.0.0 queued",
        "",
        "ok 250",
        "354 go on",
        "199 wait",
        "x" * 9000,  # longer than smtplib reads in one line: its own "500 Line too long"
    ],
    ids=["word", "OK", "no-code", "empty", "code-last", "354", "1xx", "too-long"],
)
def test_unreadable_reply_after_the_dot_is_in_doubt_and_never_resent(outbox, reply):
    handler = Mailroom(accept_reply=reply)
    with smtp_server(handler) as server:
        cfg = config(server.port, [RCPT, "b@example.com"])
        report = send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: pytest.fail("retried"))
        handler.accept_reply = "250 ok"
        again = send_week(CONTENT, cfg, outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["in doubt", "in doubt"]
    assert report.deliveries[0].detail.startswith("unreadable reply to the end of data")
    assert [d.outcome for d in again.deliveries] == ["in doubt", "in doubt"]
    # The server kept each message once; the in-doubt rows were not sent again.
    assert counts(handler) == {RCPT: 1, "b@example.com": 1}
    assert [r.status for r in outbox.rows(WEEK)] == [COMMITTING, COMMITTING]


@pytest.mark.parametrize("reply", ["251 2.1.5 will forward", "252 2.1.5 cannot verify"])
def test_2xx_to_rcpt_is_acceptance(reply):
    class Forwarding(Mailroom):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            envelope.rcpt_tos.append(address)
            return reply

    handler = Forwarding()
    with smtp_server(handler) as server:
        transport = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout_s=5)
        )
        assert send_one(transport, "t@example.com", RCPT, b"Subject: x\r\n\r\nhi\r\n") == 1
        transport.close()
    assert counts(handler) == {RCPT: 1}


# --------------------------------------------------------------------------- passwords


def _auth_server(password: str, **kw):
    return smtp_server(
        Mailroom(),
        authenticator=authenticator_for(password),
        auth_require_tls=False,
        auth_required=True,
        **kw,
    )


NON_ASCII = ["pässwörd-1", "密码-秘密", "ключ", "e\u0301t\u00e9", "emoji-\U0001f511"]


@pytest.mark.parametrize("password", NON_ASCII)
def test_non_ascii_password_logs_in_with_auth_plain(outbox, password):
    with _auth_server(password) as server:
        cfg = config(server.port, [RCPT], username=USERNAME)
        report = send_week(CONTENT, cfg, outbox, WEEK, password=SecretStr(password))
    assert [d.outcome for d in report.deliveries] == ["sent"]
    assert counts(server.handler) == {RCPT: 1}


@pytest.mark.parametrize("password", NON_ASCII)
def test_wrong_non_ascii_password_is_an_auth_error_and_the_row_failed(outbox, password):
    with _auth_server("right") as server:
        cfg = config(server.port, [RCPT], username=USERNAME)
        with pytest.raises(MailAuthError, match="535") as info:
            send_week(CONTENT, cfg, outbox, WEEK, password=SecretStr(password))
    assert password not in str(info.value)
    assert [r.status for r in outbox.rows(WEEK)] == [FAILED]


def test_non_ascii_password_without_auth_plain_says_why(outbox):
    password = "pässwörd"
    with _auth_server(password, auth_exclude_mechanism=["PLAIN"]) as server:
        cfg = config(server.port, [RCPT], username=USERNAME)
        with pytest.raises(MailAuthError, match="does not offer AUTH PLAIN") as info:
            send_week(CONTENT, cfg, outbox, WEEK, password=SecretStr(password))
    assert info.value.exit_code == 77 and password not in str(info.value)
    assert [r.status for r in outbox.rows(WEEK)] == [FAILED]
