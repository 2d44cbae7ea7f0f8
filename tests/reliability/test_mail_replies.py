"""SMTP replies and drops around the final ".": every recipient served exactly once.

A real SMTP server (aiosmtpd, ``tests/smtp_server.py``) abandons the DATA of
its first transaction after 0, 1, a few or all of the message's lines (closing
or resetting the connection), or answers the final "." with any 2xx, with an
unreadable line, with a 4xx or a 5xx. A week is sent to three recipients,
then sent again. The server counts what it kept: each recipient must have
exactly one copy (0 is a lost delivery, 2 a duplicate), an in-doubt answer
must never be sent again, and a refused one must be retried by the next run.
"""

from __future__ import annotations

import pytest
from helpers.smtp_server import Mailroom, smtp_server
from mailer.test_mailer_delivery_faults import NOW, data_lines, hold_the_dot_until_dropped
from mailer.test_mailer_outbox import CONTENT, WEEK, config, counts

from reliability.ledger import CRASH, DATA_LOST, DUPLICATE, ONCE, check
from reliability.profile import LONG
from tracker.mailer import MailError
from tracker.mailer.outbox import Outbox, send_week

CATEGORY = "mail: SMTP replies and drops around the final dot"
PEOPLE = ["a@example.com", "b@example.com", "c@example.com"]

#: Lines of DATA the server reads before it drops; -1 is every line, -2 all but the last
#: (the message has 24: a count past its end would never drop).
DROP_LINES = [0, 1, 2, 5, 13, -1] + ([3, 4, 8, 21, -2] if LONG else [])
ACCEPTING = [
    "250 2.0.0 ok",
    "251 2.1.5 queued, will forward",
    "252 2.0.0 cannot verify, accepted",
    "200 ok",
    "299 odd but positive",
    "250-first\r\n250 last",
]
UNREADABLE = ["hello", "OK", "2.0.0 queued", "", "ok 250", "354 go on", "199 wait", "x" * 9000]
REFUSING = ["451 4.3.0 try again", "421 4.7.0 closing", "550 5.7.1 rejected", "554 5.0.0 no"]


def outcome(handler: Mailroom) -> tuple[str, str]:
    got = counts(handler)
    twice = [p for p in PEOPLE if got.get(p, 0) > 1]
    never = [p for p in PEOPLE if got.get(p, 0) == 0]
    if twice:
        return DUPLICATE, f"twice: {twice}"
    if never:
        return DATA_LOST, f"never: {never}"
    return ONCE, str(got)


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
@pytest.mark.parametrize("lines", DROP_LINES, ids=lambda n: f"lines-{n}")
def test_drop_in_data_then_rerun(tmp_path, monkeypatch, lines, reset):
    outbox = Outbox.in_home(tmp_path / "home")
    after = data_lines() + 1 + lines if lines < 0 else lines
    assert 0 <= after <= data_lines()
    handler = Mailroom(drops=1, drop_after_lines=after)
    handler.drop_reset = reset
    hold_the_dot_until_dropped(handler, monkeypatch)
    name = f"drop after {'all' if lines == -1 else after} line(s), {'reset' if reset else 'close'}"
    with smtp_server(handler) as server:
        cfg = config(server.port, PEOPLE)
        try:
            send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: None, now=lambda: NOW)
            send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: None, now=lambda: NOW)
        except MailError as exc:
            check(CATEGORY, CRASH, name, f"{type(exc).__name__}: {exc}")
    found, detail = outcome(handler)
    check(CATEGORY, found, name, detail)


@pytest.mark.parametrize("reply", ACCEPTING + UNREADABLE, ids=lambda r: repr(r[:12]))
@pytest.mark.parametrize("which", [0, 1, 2], ids=lambda i: f"recipient-{i}")
def test_reply_after_the_dot_then_rerun(tmp_path, reply, which):
    """The ``which``-th message gets ``reply`` (the server keeps it); the others a 250."""
    outbox = Outbox.in_home(tmp_path / "home")

    class Replying(Mailroom):
        async def handle_DATA(self, server, session, envelope):
            self.accept_reply = reply if len(self.received) == which else "250 ok"
            return await super().handle_DATA(server, session, envelope)

    handler = Replying()
    with smtp_server(handler) as server:
        cfg = config(server.port, PEOPLE)
        for _ in range(2):
            send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: None)
    found, detail = outcome(handler)
    check(CATEGORY, found, f"{reply[:30]!r} to message {which + 1}", detail)


@pytest.mark.parametrize("reply", REFUSING)
def test_refusal_after_the_dot_is_retried_by_the_next_run(tmp_path, reply):
    outbox = Outbox.in_home(tmp_path / "home")
    handler = Mailroom(data_replies=[reply])
    with smtp_server(handler) as server:
        cfg = config(server.port, PEOPLE)
        for _ in range(2):
            try:
                send_week(CONTENT, cfg, outbox, WEEK, sleep=lambda s: None)
            except MailError:
                pass  # reported; the next run resumes
    found, detail = outcome(handler)
    check(CATEGORY, found, f"{reply!r} to the first message", detail)
