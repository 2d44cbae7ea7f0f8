"""The outbox ledger: which recipient got which week's scorecard, in SQLite.

One row per (ISO week, round, recipient) with the Message-ID, the status and
timestamps (UTC, ISO 8601). ``round`` is 0 for a week's normal sends and
grows by one with each ``--force``. Every status change is committed (WAL
journal) before the next network step, so the ledger survives a SIGKILL at
any instant; all but ``committing`` are also synced to disk
(``synchronous=FULL``) before that step.

Statuses, in the order a send moves through them:

``sending``
    Recorded before the SMTP transaction. The server has not been sent the
    final "." yet, so it cannot have accepted the message: after a crash the
    recipient is served again (with the same Message-ID).
``committing``
    Recorded just before the final "."; after the server's 2xx it becomes
    ``sent``. A row left here by a crash is *in doubt*: the server may or may
    not have accepted it. It counts as served (see :func:`send_week`).
``sent``
    The server accepted the message.
``failed``
    A permanent failure, or transient failures beyond the retries; the next
    run tries this recipient again.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from tracker.constants import EXIT_MAIL_TEMPFAIL
from tracker.errors import TrackerError
from tracker.mailer import (
    DeliveryInDoubt,
    Mailbox,
    MailContent,
    MailError,
    MailSettings,
    RecipientRefused,
    SmtpTransport,
    build_message,
    new_message_id,
    send_one,
)

log = logging.getLogger(__name__)

SENDING = "sending"
COMMITTING = "committing"
SENT = "sent"
FAILED = "failed"
STATUSES = (SENDING, COMMITTING, SENT, FAILED)
#: Statuses that count as served: never sent again without ``--force``.
SERVED = (SENT, COMMITTING)

FILENAME = "outbox.sqlite3"
_SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS outbox (
    week        TEXT    NOT NULL,
    round       INTEGER NOT NULL,
    recipient   TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (week, round, recipient)
);
PRAGMA user_version = {_SCHEMA_VERSION};
"""


class OutboxBusy(TrackerError):
    """Another scorecard send holds the outbox."""

    exit_code = EXIT_MAIL_TEMPFAIL


class OutboxError(TrackerError):
    """The outbox file is unreadable or from a newer tracker."""


def iso_week(day: date) -> str:
    """The ISO 8601 week of ``day``, e.g. ``date(2026, 11, 23)`` → ``"2026-W48"``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class OutboxRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    week: str
    round: int
    recipient: str
    message_id: str
    status: str
    attempts: int
    error: str | None
    created_at: str
    updated_at: str
    sent_at: str | None

    @property
    def served(self) -> bool:
        return self.status in SERVED


@dataclass(frozen=True)
class Plan:
    """The round a run works in and the rows that round already holds, by recipient."""

    week: str
    round: int
    rows: dict[str, OutboxRow]

    def pending(self, recipients: Sequence[str]) -> list[str]:
        """Recipients (in the given order) not yet served in this round."""
        return [r for r in recipients if r not in self.rows or not self.rows[r].served]


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Outbox:
    """The ledger file ``outbox.sqlite3`` in the tracker home.

    Parameters
    ----------
    path
        The SQLite file; created (mode 0600: it lists addresses) on first use.
    """

    def __init__(self, path: Path):
        self.path = path
        self._held: sqlite3.Connection | None = None  # open while locked()

    @classmethod
    def in_home(cls, home: Path) -> Outbox:
        return cls(home / FILENAME)

    def _connect(self) -> sqlite3.Connection:
        from tracker.storage import output_dir

        output_dir(self.path.parent, "tracker home")
        fresh = not self.path.exists()
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                conn.close()
                raise OutboxError(
                    f"{self.path} was written by a newer tracker (schema {version});"
                    " upgrade tracker"
                )
            if version == 0:
                conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            from tracker.storage import disk_full, is_disk_failure

            if is_disk_failure(exc):
                raise disk_full(self.path, exc, "nothing was sent") from None
            raise OutboxError(
                f"cannot open the outbox {self.path}: {exc}; move it aside to start a new ledger"
                " (the week's recipients would then be sent to again)"
            ) from None
        if fresh:
            os.chmod(self.path, 0o600)
        return conn

    @contextmanager
    def locked(self) -> Iterator[Outbox]:
        """Hold the outbox for one run; a second concurrent run fails at once.

        Raises
        ------
        OutboxBusy
            Another process holds the lock.
        """
        from filelock import FileLock, Timeout

        from tracker.storage import output_dir, output_error

        output_dir(self.path.parent, "tracker home")
        lock = FileLock(str(self.path) + ".lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise OutboxBusy(
                f"another scorecard send is running (lock {lock.lock_file}); try again when it ends"
            ) from None
        except OSError as exc:  # a read-only home, a full disk (Timeout is caught above)
            raise output_error(str(self.path) + ".lock", exc, "nothing was sent") from None
        try:
            # One connection for the whole run: a status change then costs one write,
            # not an open, a sync and a checkpoint (see send_week on the commit window).
            self._held = self._connect()
            yield self
        finally:
            if self._held is not None:
                self._held.close()
                self._held = None
            lock.release()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._held is not None:
            yield self._held
            return
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, week: str | None = None) -> list[OutboxRow]:
        """Every row (of one week), oldest round first."""
        with self._connection() as conn:
            sql = "SELECT * FROM outbox"
            args: tuple = ()
            if week is not None:
                sql += " WHERE week = ?"
                args = (week,)
            cur = conn.execute(sql + " ORDER BY week, round, created_at, recipient", args)
            return [OutboxRow(**dict(r)) for r in cur.fetchall()]

    def plan(self, week: str, recipients: Sequence[str], force: bool = False) -> Plan:
        """The round to work in and its rows.

        Without ``force``: the week's latest round (0 when the week is new), so
        an interrupted run — forced or not — resumes where it stopped. With
        ``force``: a new, empty round.
        """
        with self._connection() as conn:
            latest = conn.execute(
                "SELECT MAX(round) FROM outbox WHERE week = ?", (week,)
            ).fetchone()[0]
            if latest is None:
                return Plan(week, 0, {})
            if force:
                return Plan(week, latest + 1, {})
            cur = conn.execute("SELECT * FROM outbox WHERE week = ? AND round = ?", (week, latest))
            rows = {r["recipient"]: OutboxRow(**dict(r)) for r in cur.fetchall()}
            return Plan(week, latest, {k: v for k, v in rows.items() if k in set(recipients)})

    def record(
        self,
        week: str,
        round: int,
        recipient: str,
        message_id: str,
        status: str,
        error: str | None = None,
        attempt: bool = False,
        sync: bool = True,
    ) -> None:
        """Insert or update one recipient's row, committed before returning.

        ``attempt=True`` adds one to the row's attempt count; ``error`` replaces
        the last error (``None`` keeps it unless the status is ``sent``).
        ``sync=False`` commits without waiting for the disk: the row survives
        a killed process but not a power cut until the next synced commit.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown outbox status {status!r}")
        now = _utc_now()
        try:
            self._record(week, round, recipient, message_id, status, error, attempt, sync, now)
        except sqlite3.DatabaseError as exc:
            from tracker.storage import disk_full, is_disk_failure

            if is_disk_failure(exc):
                # Before a send, the row is not recorded and nothing goes out; after one,
                # the row keeps its last recorded status (see the module doc).
                raise disk_full(self.path, exc, f"{recipient} keeps its last status") from None
            raise OutboxError(f"cannot write the outbox {self.path}: {exc}") from None

    def _record(self, week, round, recipient, message_id, status, error, attempt, sync, now):
        with self._connection() as conn:
            if not sync:
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                with conn:
                    conn.execute(
                        """
                        INSERT INTO outbox (week, round, recipient, message_id, status, attempts,
                                            error, created_at, updated_at, sent_at)
                        VALUES (:week, :round, :rcpt, :mid, :status, :inc, :error, :now, :now,
                                :sent)
                        ON CONFLICT (week, round, recipient) DO UPDATE SET
                            message_id = excluded.message_id,
                            status = excluded.status,
                            attempts = attempts + :inc,
                            error = CASE WHEN :status = 'sent' THEN NULL
                                         ELSE COALESCE(excluded.error, error) END,
                            updated_at = excluded.updated_at,
                            sent_at = COALESCE(excluded.sent_at, sent_at)
                        """,
                        {
                            "week": week,
                            "round": round,
                            "rcpt": recipient,
                            "mid": message_id,
                            "status": status,
                            "inc": int(attempt),
                            "error": error,
                            "now": now,
                            "sent": now if status == SENT else None,
                        },
                    )
            finally:
                if not sync:
                    conn.execute("PRAGMA synchronous=FULL")


# --------------------------------------------------------------------------- sending

#: Outcome of one recipient in a :class:`SendReport`.
OUTCOME_SENT = "sent"
OUTCOME_ALREADY_SENT = "already sent"
OUTCOME_IN_DOUBT = "in doubt"
OUTCOME_REFUSED = "refused"


@dataclass(frozen=True)
class Delivery:
    """What happened to one recipient in one run."""

    recipient: str
    message_id: str
    outcome: str
    attempts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class SendReport:
    """The outcome of :func:`send_week` for every configured recipient, in config order."""

    week: str
    round: int
    deliveries: tuple[Delivery, ...] = ()

    def count(self, outcome: str) -> int:
        return sum(d.outcome == outcome for d in self.deliveries)


def _local_now() -> datetime:
    return datetime.now(UTC).astimezone()


def send_week(
    content: MailContent,
    config: MailSettings,
    outbox: Outbox,
    week: str,
    *,
    password: SecretStr | None = None,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _local_now,
    tls_context: ssl.SSLContext | None = None,
) -> SendReport:
    """Send the week's scorecard to every recipient not yet served this ISO week.

    Each recipient's row goes ``sending`` (before the SMTP transaction) →
    ``committing`` (just before the final ".", from which the server may
    accept) → ``sent`` (after its 2xx). After a crash, a ``sending`` row is
    served again with the same Message-ID: the server never saw the end of
    that message, and a server discards a transaction whose data did not end
    (RFC 5321 §4.1.1.4), so nothing was delivered. A ``committing`` row is *in
    doubt* and counts as delivered: a duplicate is what this ledger exists to
    prevent, and the log names the Message-ID so the user can check the
    server's log; ``--force`` resends the whole week. A connection found lost
    just before the "." (or whose "." could not be written) is an ordinary
    transient failure: the row goes back to ``sending`` and is retried. Only a
    "." that left with no reply, or an unreadable one, leaves a row in doubt.

    No ledger beside an SMTP session can be exact at every instant: the ".",
    which lets the server accept, and the ledger's record of it are two
    separate writes. A row is marked ``committing`` on the run's open
    connection without waiting for the disk, and the "." is handed to the
    kernel at once (which delivers it even if the process is then killed), so
    a kill leaves a recipient unserved only if it lands in the tens of
    microseconds between the two writes. (A power cut before the server's
    reply can lose the unsynced mark: the recipient is then sent the message
    again.) A run with nothing to send does not connect at all.

    Parameters
    ----------
    content
        Subject, text, HTML and inline images (the same for everyone).
    config
        Sender, recipients and server.
    outbox
        The ledger; locked for the whole run.
    week
        ISO week key, e.g. ``"2026-W48"`` (:func:`iso_week`).
    password
        From :func:`tracker.mailer.smtp_password`.
    force
        Start a new round: send to everyone again.
    sleep
        Called with each backoff delay in seconds (tests pass a recorder).
    now
        Clock for the Date header.
    tls_context
        For ``starttls``/``ssl``; default: the system's trust store.

    Returns
    -------
    SendReport
        One :class:`Delivery` per recipient.

    Raises
    ------
    MailTransientError, MailPermanentError, MailAuthError
        Delivery stopped (after recording the failure); recipients already
        served stay served and the next run resumes with the others. A refused
        recipient does not stop the others: the error is raised at the end.
    OutboxBusy
        Another send holds the outbox.
    """
    with outbox.locked():
        plan = outbox.plan(week, [r.key for r in config.recipients], force=force)
        done, todo = _served_already(plan, config.recipients)
        if not todo:
            log.info("week %s: every recipient already served; nothing to send", week)
            return SendReport(week, plan.round, tuple(done))
        transport = SmtpTransport(config.smtp, password, tls_context)
        try:
            for rcpt, row in todo:
                try:
                    done.append(
                        _send_to(rcpt, row, content, config, outbox, plan, transport, sleep, now)
                    )
                except MailError as exc:
                    served = sum(d.outcome != OUTCOME_REFUSED for d in done)
                    raise type(exc)(
                        f"{exc}. {served} of {len(config.recipients)} recipient(s) served;"
                        " the next run this week resumes with the others",
                        exc.detail,
                        exc.attempts,
                        done,
                    ) from None
        finally:
            transport.close()
        refused = [d for d in done if d.outcome == OUTCOME_REFUSED]
        if refused:
            raise RecipientRefused(
                "; ".join(f"{d.recipient} refused: {d.detail}" for d in refused)
                + ". The other recipients were served; fix or remove the refused address(es)"
                " and rerun to send to them",
                refused[0].detail,
                refused[0].attempts,
                done,
            )
        return SendReport(week, plan.round, tuple(done))


def _served_already(
    plan: Plan, recipients: Sequence[Mailbox]
) -> tuple[list[Delivery], list[tuple[Mailbox, OutboxRow | None]]]:
    done: list[Delivery] = []
    todo: list[tuple[Mailbox, OutboxRow | None]] = []
    for rcpt in recipients:
        row = plan.rows.get(rcpt.key)
        if row is not None and row.status == SENT:
            done.append(Delivery(rcpt.address, row.message_id, OUTCOME_ALREADY_SENT, row.attempts))
        elif row is not None and row.status == COMMITTING:
            log.warning(
                "%s: in doubt since %s (interrupted while the server was accepting %s); counted"
                " as delivered and not resent: check the mail server's log, or use --force to"
                " resend the week to everyone",
                rcpt.address,
                row.updated_at,
                row.message_id,
            )
            done.append(Delivery(rcpt.address, row.message_id, OUTCOME_IN_DOUBT, row.attempts))
        else:
            todo.append((rcpt, row))
    return done, todo


def _send_to(
    rcpt: Mailbox,
    row: OutboxRow | None,
    content: MailContent,
    config: MailSettings,
    outbox: Outbox,
    plan: Plan,
    transport: SmtpTransport,
    sleep: Callable[[float], None],
    now: Callable[[], datetime],
) -> Delivery:
    """Serve one recipient, recording each step; a failure is recorded, then raised."""
    week, rnd, key = plan.week, plan.round, rcpt.key
    # A row left at "sending" never reached the server's acceptance: reuse its Message-ID.
    message_id = row.message_id if row is not None else new_message_id(week, config.sender)
    outbox.record(week, rnd, key, message_id, SENDING, attempt=True)
    data = build_message(content, config.sender, rcpt, message_id, now()).as_bytes()

    def retrying(attempt: int, detail: str) -> None:
        outbox.record(week, rnd, key, message_id, SENDING, detail, attempt=True)

    try:
        attempts = send_one(
            transport,
            config.sender.address,
            rcpt.address,
            data,
            before_final_dot=lambda: outbox.record(
                week, rnd, key, message_id, COMMITTING, sync=False
            ),
            on_retry=retrying,
            sleep=sleep,
        )
    except DeliveryInDoubt as exc:
        log.warning("%s: %s; counted as delivered (%s)", rcpt.address, exc, message_id)
        return Delivery(rcpt.address, message_id, OUTCOME_IN_DOUBT, exc.attempts, str(exc))
    except RecipientRefused as exc:
        outbox.record(week, rnd, key, message_id, FAILED, exc.detail)
        log.error("%s", exc)
        return Delivery(rcpt.address, message_id, OUTCOME_REFUSED, exc.attempts, exc.detail)
    except MailError as exc:
        outbox.record(week, rnd, key, message_id, FAILED, exc.detail or str(exc))
        log.error("%s: %s", rcpt.address, exc)
        raise
    outbox.record(week, rnd, key, message_id, SENT)
    log.info("%s: sent %s", rcpt.address, message_id)
    return Delivery(rcpt.address, message_id, OUTCOME_SENT, attempts)
