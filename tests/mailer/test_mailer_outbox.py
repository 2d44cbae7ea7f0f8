"""tracker.mailer.outbox: the ledger and send_week against a real SMTP server: never twice,
never skipped."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from helpers.smtp_server import Mailroom, smtp_server

from tracker.mailer import (
    MailContent,
    MailPermanentError,
    MailSettings,
    MailTransientError,
    RecipientRefused,
)
from tracker.mailer.outbox import (
    COMMITTING,
    FAILED,
    SENDING,
    SENT,
    Outbox,
    OutboxBusy,
    iso_week,
    send_week,
)

WEEK = "2026-W48"
PEOPLE = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]
CONTENT = MailContent(subject="评分卡 2026-W48", text="腾讯控股 +3.2 pp\n", html="<p>腾讯控股</p>")


def config(port: int, recipients=PEOPLE, **smtp) -> MailSettings:
    return MailSettings.model_validate(
        {
            "sender": "Tracker <tracker@example.com>",
            "recipients": list(recipients),
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout_s": 5, **smtp},
        }
    )


def counts(handler: Mailroom) -> dict[str, int]:
    """How many messages each address received."""
    out: dict[str, int] = {}
    for r in handler.received:
        for a in r.rcpt_tos:
            out[a] = out.get(a, 0) + 1
    return out


@pytest.fixture
def outbox(tracker_home) -> Outbox:
    return Outbox.in_home(tracker_home)


@pytest.mark.parametrize(
    "day, week",
    [
        (date(2026, 11, 23), "2026-W48"),  # a Monday
        (date(2026, 11, 29), "2026-W48"),  # the Sunday of the same week
        (date(2027, 1, 1), "2026-W53"),  # 2026 has 53 ISO weeks (it starts on a Thursday)
        (date(2024, 12, 30), "2025-W01"),  # Monday of the week holding 2025-01-02 (a Thursday)
    ],
)
def test_iso_week(day, week):
    assert iso_week(day) == week


def test_send_then_rerun_is_a_no_op(outbox):
    handler = Mailroom()
    with smtp_server(handler) as server:
        report = send_week(CONTENT, config(server.port), outbox, WEEK)
        assert [d.outcome for d in report.deliveries] == ["sent"] * 4
        assert counts(handler) == dict.fromkeys(PEOPLE, 1)
        ids = {r.recipient: r.message_id for r in outbox.rows(WEEK)}
        got_ids = {r.rcpt_tos[0]: r.message["Message-ID"] for r in handler.received}
        assert ids == got_ids and len(set(ids.values())) == 4
    # The server is gone: a rerun in the same week must not even try to connect.
    again = send_week(CONTENT, config(server.port), outbox, WEEK, sleep=lambda s: pytest.fail())
    assert [d.outcome for d in again.deliveries] == ["already sent"] * 4
    assert counts(handler) == dict.fromkeys(PEOPLE, 1)
    rows = outbox.rows(WEEK)
    assert {r.status for r in rows} == {SENT} and {r.attempts for r in rows} == {1}
    assert all(r.sent_at is not None and r.error is None for r in rows)


def test_force_resends_and_keeps_history(outbox):
    handler = Mailroom()
    with smtp_server(handler) as server:
        send_week(CONTENT, config(server.port), outbox, WEEK)
        report = send_week(CONTENT, config(server.port), outbox, WEEK, force=True)
        assert report.round == 1 and report.count("sent") == 4
        assert counts(handler) == dict.fromkeys(PEOPLE, 2)
        # The forced round is now the week's round: a plain rerun sends nothing.
        assert send_week(CONTENT, config(server.port), outbox, WEEK).count("already sent") == 4
        # Another week is another matter.
        assert send_week(CONTENT, config(server.port), outbox, "2026-W49").count("sent") == 4
    assert [(r.round, r.status) for r in outbox.rows(WEEK)] == [(0, SENT)] * 4 + [(1, SENT)] * 4


def test_new_recipient_later_in_the_week_gets_only_theirs(outbox):
    handler = Mailroom()
    with smtp_server(handler) as server:
        send_week(CONTENT, config(server.port, PEOPLE[:2]), outbox, WEEK)
        report = send_week(CONTENT, config(server.port, PEOPLE[:3]), outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["already sent", "already sent", "sent"]
    assert counts(handler) == dict.fromkeys(PEOPLE[:3], 1)


def test_interrupted_mid_list_resumes_with_the_rest(outbox):
    # c's mailbox host is down for longer than the retries: the run stops at c.
    handler = Mailroom(rcpt_replies={"c@example.com": "451 4.4.1 Try later"})
    sleeps: list[float] = []
    with smtp_server(handler) as server:
        with pytest.raises(MailTransientError) as info:
            send_week(
                CONTENT, config(server.port, max_attempts=3), outbox, WEEK, sleep=sleeps.append
            )
        assert sleeps == [2.0, 4.0]
        assert str(info.value).endswith(
            "2 of 4 recipient(s) served; the next run this week resumes with the others"
        )
        assert info.value.exit_code == 75
        status = {r.recipient: (r.status, r.attempts) for r in outbox.rows(WEEK)}
        assert status == {
            "a@example.com": (SENT, 1),
            "b@example.com": (SENT, 1),
            "c@example.com": (FAILED, 3),
        }
        assert counts(handler) == {"a@example.com": 1, "b@example.com": 1}

        handler.rcpt_replies.clear()
        report = send_week(CONTENT, config(server.port), outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["already sent"] * 2 + ["sent"] * 2
    assert counts(handler) == dict.fromkeys(PEOPLE, 1)


def test_550_stops_the_run(outbox):
    handler = Mailroom(data_replies=["554 5.7.1 Rejected by policy"])
    with smtp_server(handler) as server:
        with pytest.raises(MailPermanentError) as info:
            send_week(CONTENT, config(server.port), outbox, WEEK, sleep=lambda s: pytest.fail())
    assert info.value.exit_code == 69
    assert str(info.value) == (
        f"127.0.0.1:{server.port} refused the message for a@example.com: 554 5.7.1 Rejected by"
        " policy (permanent, not retried). 0 of 4 recipient(s) served; the next run this week"
        " resumes with the others"
    )
    assert [(r.recipient, r.status, r.error) for r in outbox.rows(WEEK)] == [
        ("a@example.com", FAILED, "554 5.7.1 Rejected by policy")
    ]


def test_refused_recipient_does_not_stop_the_others(outbox):
    handler = Mailroom(rcpt_replies={"b@example.com": "550 5.1.1 No such user"})
    with smtp_server(handler) as server:
        with pytest.raises(RecipientRefused) as info:
            send_week(CONTENT, config(server.port), outbox, WEEK, sleep=lambda s: pytest.fail())
    assert info.value.exit_code == 69
    assert str(info.value).startswith("b@example.com refused: 550 5.1.1 No such user. The other")
    assert counts(handler) == {"a@example.com": 1, "c@example.com": 1, "d@example.com": 1}
    assert [d.outcome for d in info.value.deliveries] == ["sent", "refused", "sent", "sent"]


def test_second_concurrent_run_is_refused(outbox):
    with outbox.locked():
        with pytest.raises(OutboxBusy, match="another scorecard send is running") as info:
            send_week(CONTENT, config(1), outbox, WEEK)
    assert info.value.exit_code == 75


def test_outbox_file_is_private(outbox):
    outbox.record(WEEK, 0, "a@example.com", "<x@example.com>", SENDING)
    assert oct(os.stat(outbox.path).st_mode & 0o777) == "0o600"


def test_resume_after_sending_row_reuses_message_id(outbox):
    # A crash left b at "sending": it never reached the end of the data, so it is resent,
    # with the Message-ID recorded before the crash.
    outbox.record(WEEK, 0, "a@example.com", "<a.1@example.com>", SENT)
    outbox.record(WEEK, 0, "b@example.com", "<b.1@example.com>", SENDING, attempt=True)
    handler = Mailroom()
    with smtp_server(handler) as server:
        report = send_week(CONTENT, config(server.port, PEOPLE[:2]), outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["already sent", "sent"]
    (got,) = handler.received
    assert got.rcpt_tos == ["b@example.com"] and got.message["Message-ID"] == "<b.1@example.com>"


def test_unsynced_committing_mark_survives_a_kill(outbox):
    # The mark is written without a sync on the run's open connection; a process killed
    # right after writing it must leave it for the next run, and the file must stay sound.
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from tracker.mailer.outbox import Outbox
        outbox = Outbox(Path(sys.argv[1]))
        with outbox.locked():
            outbox.record("{WEEK}", 0, "a@example.com", "<a.1@example.com>", "sending")
            outbox.record("{WEEK}", 0, "a@example.com", "<a.1@example.com>", "committing",
                          sync=False)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script, str(outbox.path)], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    (row,) = outbox.rows(WEEK)
    assert (row.status, row.message_id, row.attempts) == (COMMITTING, "<a.1@example.com>", 0)
    conn = sqlite3.connect(outbox.path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_one_connection_per_locked_run_syncs_all_but_the_mark(outbox):
    with outbox.locked():
        conn = outbox._held
        outbox.record(WEEK, 0, "a@example.com", "<a.1@example.com>", SENDING)
        outbox.record(WEEK, 0, "a@example.com", "<a.1@example.com>", COMMITTING, sync=False)
        # Visible to another connection at once; the run's connection is back to FULL (2).
        other = sqlite3.connect(outbox.path)
        assert other.execute("SELECT status FROM outbox").fetchall() == [(COMMITTING,)]
        other.close()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert outbox._held is conn
    assert outbox._held is None


def test_committing_row_is_in_doubt_and_not_resent(outbox, caplog):
    outbox.record(WEEK, 0, "a@example.com", "<a.1@example.com>", COMMITTING)
    handler = Mailroom()
    with smtp_server(handler) as server:
        report = send_week(CONTENT, config(server.port, PEOPLE[:2]), outbox, WEEK)
    assert [d.outcome for d in report.deliveries] == ["in doubt", "sent"]
    assert counts(handler) == {"b@example.com": 1}
    assert "a@example.com: in doubt since" in caplog.text and "<a.1@example.com>" in caplog.text


# --------------------------------------------------------------------------- SIGKILL

SENDER_SCRIPT = textwrap.dedent(
    """
    import sys
    from tracker.mailer import MailContent, MailSettings
    from tracker.mailer.outbox import Outbox, send_week
    from pathlib import Path

    cfg = MailSettings.model_validate_json(Path(sys.argv[1]).read_text())
    content = MailContent(subject="评分卡", text="t", html="<p>t</p>")
    report = send_week(content, cfg, Outbox.in_home(Path(sys.argv[2])), sys.argv[3])
    print(",".join(d.outcome for d in report.deliveries))
    """
)


def run_sender(cfg: MailSettings, home: Path, tmp_path: Path) -> subprocess.Popen:
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(cfg.model_dump_json())
    return subprocess.Popen(
        [sys.executable, "-c", SENDER_SCRIPT, str(cfg_file), str(home), WEEK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "stage, expect_b",
    [
        # Killed while the server waits to answer RCPT for b: b's row is "sending", the
        # server never got b's data, the restart sends it.
        pytest.param("RCPT", SENDING, id="killed-before-data"),
        # Killed after the server took b's final "." and before its 250 reached us:
        # b's row is "committing" (in doubt); the server did accept it; not resent.
        pytest.param("DATA", COMMITTING, id="killed-awaiting-final-reply"),
    ],
)
def test_sigkill_during_send_neither_duplicates_nor_skips(tmp_path, tracker_home, stage, expect_b):
    handler = Mailroom(hold=(stage, "b@example.com"))
    with smtp_server(handler) as server:
        cfg = config(server.port, PEOPLE[:3])
        proc = run_sender(cfg, tracker_home, tmp_path)
        assert handler.reached.wait(60), proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        handler.release.set()

        outbox = Outbox.in_home(tracker_home)
        status = {r.recipient: r.status for r in outbox.rows(WEEK)}
        assert status == {"a@example.com": SENT, "b@example.com": expect_b}

        handler.hold = None
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                SENDER_SCRIPT,
                str(tmp_path / "cfg.json"),
                str(tracker_home),
                WEEK,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    expected_b = "sent" if expect_b == SENDING else "in doubt"
    assert done.stdout.strip() == f"already sent,{expected_b},sent"
    # Every recipient got the week's scorecard exactly once.
    assert counts(handler) == dict.fromkeys(PEOPLE[:3], 1)


def test_ledger_survives_sigkill_readable(tmp_path, tracker_home):
    """After the kills above the SQLite file is consistent (integrity check)."""
    handler = Mailroom(hold=("DATA", "a@example.com"))
    with smtp_server(handler) as server:
        proc = run_sender(config(server.port, PEOPLE[:1]), tracker_home, tmp_path)
        assert handler.reached.wait(60), proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    conn = sqlite3.connect(Outbox.in_home(tracker_home).path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_lost_reply_to_final_dot_is_in_doubt_and_not_resent(outbox, tracker_home):
    import threading

    handler = Mailroom(hold=("DATA", "a@example.com"))
    result: dict = {}
    with smtp_server(handler) as server:
        cfg = config(server.port, PEOPLE[:1])
        worker = threading.Thread(
            target=lambda: result.update(r=send_week(CONTENT, cfg, outbox, WEEK))
        )
        worker.start()
        assert handler.reached.wait(30)
        # The server took the message, then dies before its 250 reaches the client.
        server.controller.stop()
        server.controller = None
        worker.join(30)
    (d,) = result["r"].deliveries
    assert d.outcome == "in doubt" and d.detail.startswith("no reply to the end of data")
    assert [r.status for r in outbox.rows(WEEK)] == [COMMITTING]
    assert counts(handler) == {"a@example.com": 1}
    with smtp_server(handler) as server:
        handler.hold = None
        again = send_week(CONTENT, config(server.port, PEOPLE[:1]), outbox, WEEK)
    assert [d.outcome for d in again.deliveries] == ["in doubt"]
    assert counts(handler) == {"a@example.com": 1}
