"""SIGKILL of a scorecard send at random instants: every recipient served exactly once.

A sending process (``send_week`` as ``tests/mailer/test_mailer_outbox.py`` runs it) mails a
week's scorecard to six recipients through a real SMTP server (aiosmtpd) that
answers each command after a few milliseconds. It is killed at an instant
drawn uniformly over the send (from the first MAIL command to the end, as
timed on an uninterrupted send), then a new process reruns the week. The
server counts what it accepted: each recipient must have exactly one message
(0 is a lost delivery, 2 a duplicate) and the ledger must say every one was served.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers.smtp_server import Mailroom, smtp_server
from mailer.test_mailer_outbox import SENDER_SCRIPT, WEEK, config, counts, run_sender

from reliability.ledger import CRASH, DATA_LOST, DUPLICATE, ONCE, check, record
from reliability.profile import cases, rng
from tracker.mailer.outbox import COMMITTING, SENT, Outbox

CATEGORY = "crash: scorecard send"
PEOPLE = [f"r{i}@example.com" for i in range(6)]
#: The server's delay before each reply to MAIL, RCPT and DATA, seconds.
REPLY_DELAY_S = 0.01


class SlowMailroom(Mailroom):
    """Accepts mail like :class:`Mailroom`, a little slowly; ``started`` is set at the first
    MAIL."""

    def __init__(self):
        super().__init__()
        self.started = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.started.set()
        await asyncio.sleep(REPLY_DELAY_S)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(REPLY_DELAY_S)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        # The message counts as received once its final "." is in, as with a real server
        # (which may deliver it even if the client goes before the 250): record, then wait.
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(REPLY_DELAY_S)
        return reply


def send_span_s(tmp_path) -> float:
    """Seconds from the first MAIL to the end of an uninterrupted send to everyone."""
    handler = SlowMailroom()
    home = tmp_path / "reference"
    with smtp_server(handler) as server:
        proc = run_sender(config(server.port, PEOPLE), home, tmp_path)
        assert handler.started.wait(60), proc.communicate()
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=120)
        span = time.monotonic() - t0
    assert proc.returncode == 0, err
    assert counts(handler) == dict.fromkeys(PEOPLE, 1)
    return span


def commit_window_note(losses: list[str]) -> str:
    """Why a recipient can go unserved: the known gap of the outbox, reported to its owner.

    ``tracker.mailer.outbox`` records "committing" before the final "." and counts such
    a row as served after a crash. The mark and the "." are two writes; the mark
    goes out unsynced on the run's open connection and the "." right after, so
    the window is tens of microseconds (it was about 1.5 ms while the mark was
    synced and its file closed first). A kill inside it leaves a recipient who
    is never served: recorded as data lost in the figures, and the test becomes
    an expected failure naming it; any other loss fails it.
    """
    return f"known outbox commit window, {len(losses)} recipient(s) never served: {losses}"


def test_kill_during_send_then_rerun(tmp_path):
    span = send_span_s(tmp_path)
    random = rng("send-kill")
    in_window: list[str] = []
    for k in range(cases(4, 60)):
        home = tmp_path / f"home{k}"
        handler = SlowMailroom()
        with smtp_server(handler) as server:
            cfg = config(server.port, PEOPLE)
            proc = run_sender(cfg, home, tmp_path)
            assert handler.started.wait(60), proc.communicate()
            time.sleep(random.uniform(0.0, span))
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            got_before = sum(counts(handler).values())
            ledger = {r.recipient: r.status for r in Outbox.in_home(home).rows(WEEK)}
            rerun = subprocess.run(
                [sys.executable, "-c", SENDER_SCRIPT, str(tmp_path / "cfg.json"), str(home), WEEK],
                capture_output=True,
                text=True,
                timeout=120,
            )
        name = (
            f"kill {k + 1}: {got_before} delivered before the kill,"
            f" ledger {sorted(ledger.values())}"
            if killed
            else f"kill {k + 1}: the send had ended"
        )
        got = counts(handler)
        if rerun.returncode != 0 or "Traceback" in rerun.stderr:
            check(CATEGORY, CRASH, name, rerun.stderr[-300:])
        served = {r.recipient: r.status for r in Outbox.in_home(home).rows(WEEK)}
        twice = [p for p in PEOPLE if got.get(p, 0) > 1]
        never = [p for p in PEOPLE if got.get(p, 0) == 0]
        if twice:
            check(CATEGORY, DUPLICATE, name, f"twice: {twice}")
        elif never:
            detail = f"never delivered: {never}; ledger says {[served.get(p) for p in never]}"
            if all(served.get(p) == COMMITTING for p in never):
                # See commit_window_note: counted, and the sweep goes on.
                record(
                    CATEGORY, DATA_LOST, name, detail + " (kill inside the outbox's commit window)"
                )
                in_window.append(detail)
            else:
                check(CATEGORY, DATA_LOST, name, detail)
        else:
            assert set(served.values()) <= {SENT, COMMITTING}
            check(CATEGORY, ONCE, name, f"rerun: {rerun.stdout.strip()}")
    if in_window:
        pytest.xfail(commit_window_note(in_window))
