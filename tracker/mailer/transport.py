"""SMTP delivery: one session, failures sorted by kind, retries with backoff.

See :mod:`tracker.mailer` for the failure kinds and what each one raises.
"""

from __future__ import annotations

import base64
import logging
import re
import select
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import SecretStr

from tracker.constants import EXIT_MAIL_AUTH, EXIT_MAIL_PERMANENT, EXIT_MAIL_TEMPFAIL
from tracker.errors import TrackerError
from tracker.mailer.settings import PASSWORD_ENV, SmtpSettings

# The package's logger: records read "tracker.mailer" wherever they come from.
log = logging.getLogger("tracker.mailer")

#: RFC 5321 §4.5.3.2.6: a client waits up to 10 minutes for the reply to the final ".".
DATA_TIMEOUT_S = 600.0


class MailError(TrackerError):
    """Delivery to a recipient stopped.

    ``detail`` is the server's reply or the network error, ``attempts`` how
    many tries were made, ``deliveries`` (filled by the outbox) what happened
    to every recipient of the run before the stop.
    """

    def __init__(
        self, message: str, detail: str = "", attempts: int = 0, deliveries: Sequence[Any] = ()
    ):
        self.detail = detail
        self.attempts = attempts
        self.deliveries = tuple(deliveries)
        super().__init__(message)


class MailTransientError(MailError):
    """A transient failure (4xx, timeout, connection refused) persisted through every retry."""

    exit_code = EXIT_MAIL_TEMPFAIL


class MailPermanentError(MailError):
    """A permanent failure (5xx, TLS, missing server feature): retrying would not help."""

    exit_code = EXIT_MAIL_PERMANENT


class RecipientRefused(MailPermanentError):
    """The server refused one recipient (5xx to RCPT); the others can still be served."""


class MailAuthError(MailPermanentError):
    """The SMTP server refused the username or password."""

    exit_code = EXIT_MAIL_AUTH


class DeliveryInDoubt(MailError):
    """The final "." went out but no reply came back: the server may have accepted it."""


def _code_text(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {' '.join(str(text).split())}"


def _classify(exc: BaseException) -> tuple[str, str]:
    """``(kind, detail)`` with kind ``transient``, ``permanent``, ``auth`` or ``recipient``."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        detail = f"{code} {' '.join(str(text).split())}"
        return ("transient" if 400 <= code < 500 else "recipient"), detail
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        if 400 <= exc.smtp_code < 500:
            return "transient", f"authentication failed for now: {_code_text(exc)}"
        return "auth", f"authentication refused: {_code_text(exc)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        kind = "permanent" if 500 <= exc.smtp_code < 600 else "transient"
        return kind, _code_text(exc)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "transient", f"server disconnected: {exc}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "permanent", str(exc)
    if isinstance(exc, smtplib.SMTPException):
        # e.g. "No suitable authentication method found."
        return "auth" if "auth" in str(exc).lower() else "permanent", str(exc)
    if isinstance(exc, ssl.SSLError):
        return "permanent", f"TLS failed: {exc.reason or exc}; check host, port and security"
    if isinstance(exc, TimeoutError):
        return "transient", "timed out"
    if isinstance(exc, OSError):
        return "transient", exc.strerror or exc.__class__.__name__
    raise exc


def _dot_stuff(data: bytes) -> bytes:
    # RFC 5321 §4.5.2: a line starting with "." gets another one.
    return re.sub(rb"(?m)^\.", b"..", data)


class SmtpTransport:
    """One SMTP session, opened lazily and reopened after a failure.

    Parameters
    ----------
    smtp
        Server settings.
    password
        From :func:`smtp_password`; unwrapped only inside ``login``.
    tls_context
        For ``starttls``/``ssl``; default: system trust store, hostname checked.
    """

    def __init__(
        self,
        smtp: SmtpSettings,
        password: SecretStr | None = None,
        tls_context: ssl.SSLContext | None = None,
    ):
        self.smtp = smtp
        self._password = password
        self._tls = tls_context
        self._conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def open(self) -> None:
        if self._conn is not None:
            return
        s = self.smtp
        if s.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout_s, context=self._context()
            )
        else:
            conn = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_s)
        try:
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        f'{s.host} does not offer STARTTLS: set security = "ssl" (port 465)'
                        " if it expects TLS from the start"
                    )
                conn.starttls(context=self._context())
                conn.ehlo()
            if s.username is not None:
                if not conn.has_extn("auth"):
                    raise smtplib.SMTPNotSupportedError(
                        f"{s.host} does not offer AUTH on this connection: check security and port"
                    )
                secret = self._password.get_secret_value() if self._password else ""
                _login(conn, s.username, secret)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def abort(self) -> None:
        """Drop the connection without a QUIT (after a failure)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def deliver(
        self, sender: str, recipient: str, data: bytes, before_final_dot: Callable[[], None]
    ) -> None:
        """One SMTP transaction; ``before_final_dot`` runs just before the server can accept.

        Raises
        ------
        smtplib.SMTPException, OSError
            The server refused or the connection failed; nothing was accepted.
        DeliveryInDoubt
            The final "." was sent but no reply, or no readable reply, came back.
            A connection lost before the "." left is an ``SMTPServerDisconnected``
            (nothing accepted, retried); any 2xx after it is acceptance.
        """
        self.open()
        conn = self._conn
        assert conn is not None
        # Any 2xx is a positive completion (RFC 5321 §4.2.1): 251 "will forward" included.
        code, resp = conn.mail(sender)
        if not 200 <= code < 300:
            raise smtplib.SMTPSenderRefused(code, resp, sender)
        code, resp = conn.rcpt(recipient)
        if not 200 <= code < 300:
            raise smtplib.SMTPRecipientsRefused({recipient: (code, resp)})
        code, resp = conn.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, resp)
        body = _dot_stuff(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body)
        before_final_dot()
        gone = _peer_gone(conn.sock)
        if gone is not None:
            # The server went (or spoke out of turn) before the "." left: it cannot have
            # accepted, so this is a plain failure to retry, not a delivery in doubt.
            raise smtplib.SMTPServerDisconnected(f"{gone} before the end of the data")
        try:
            conn.send(b".\r\n")
        except smtplib.SMTPServerDisconnected as exc:
            # sendall failed: the "." never left, so the server cannot have accepted.
            self.abort()
            raise smtplib.SMTPServerDisconnected(
                f"connection lost before the end of the data went out ({exc})"
            ) from None
        try:
            if conn.sock is not None:
                conn.sock.settimeout(max(DATA_TIMEOUT_S, self.smtp.timeout_s))
            code, resp = conn.getreply()
        except smtplib.SMTPResponseException as exc:
            # getreply's own "500 Line too long": the server's answer is unreadable.
            self.abort()
            raise DeliveryInDoubt(
                f"unreadable reply to the end of data: {_code_text(exc)}"
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abort()
            raise DeliveryInDoubt(f"no reply to the end of data: {exc}") from None
        if conn.sock is not None:
            conn.sock.settimeout(self.smtp.timeout_s)
        if 200 <= code < 300:
            return
        if 400 <= code < 600:
            raise smtplib.SMTPDataError(code, resp)
        # -1 (no three-digit code), 1xx or 3xx: neither acceptance nor refusal.
        self.abort()
        text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
        reply = " ".join(([str(code)] if code >= 0 else []) + text.split())[:80]
        raise DeliveryInDoubt(f"unreadable reply to the end of data: {reply!r}")


def _peer_gone(sock: Any) -> str | None:
    """Why the server can no longer take the message, or None while it listens quietly.

    During DATA a server says nothing until the final "."; something to read
    (data, an end of file or a reset) means it has dropped the transaction.
    Looked at without waiting.
    """
    if sock is None:
        return "connection lost"
    pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
    if not pending:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return "connection lost"
        if not readable:
            return None
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        chunk = sock.recv(1)
    except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
        return None  # a TLS record with no data for us (e.g. a session ticket)
    except OSError as exc:
        return f"connection lost ({exc.strerror or exc.__class__.__name__})"
    finally:
        sock.settimeout(timeout)
    if not chunk:
        return "the server closed the connection"
    return "the server replied"


def _login(conn: smtplib.SMTP, username: str, secret: str) -> None:
    """Authenticate; a password beyond ASCII goes by AUTH PLAIN in UTF-8 (RFC 4616).

    smtplib encodes credentials as ASCII and would raise UnicodeEncodeError.
    """
    if (username + secret).isascii():
        conn.login(username, secret)
        return
    offered = (conn.esmtp_features.get("auth") or "").upper().split()
    if "PLAIN" not in offered:
        raise smtplib.SMTPAuthenticationError(
            535,
            "the username or password has non-ASCII characters and the server does not offer"
            " AUTH PLAIN, the only method that carries them",
        )
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + secret.encode()).decode()
    code, resp = conn.docmd("AUTH", "PLAIN " + token)
    if code == 334:  # the server wants the response after an empty challenge
        code, resp = conn.docmd(token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


# --------------------------------------------------------------------------- retries


def backoff_delay(smtp: SmtpSettings, attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): ``backoff_s * 2**(attempt-1)``.

    Capped at ``backoff_max_s``; with the defaults 2, 4, 8, 16 s.
    """
    return min(smtp.backoff_s * 2 ** (attempt - 1), smtp.backoff_max_s)


def send_one(
    transport: SmtpTransport,
    sender: str,
    recipient: str,
    data: bytes,
    *,
    before_final_dot: Callable[[], None] = lambda: None,
    on_retry: Callable[[int, str], None] = lambda attempt, detail: None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Deliver ``data`` to one recipient, retrying transient failures; the attempts made.

    Parameters
    ----------
    transport
        The session; reopened after each failure.
    data
        The message as bytes with CRLF line ends (``EmailMessage.as_bytes()``).
    before_final_dot
        Runs just before the server is able to accept (the outbox records it).
    on_retry
        Called with the attempt number and the failure before each backoff.
    sleep
        Called with each backoff delay in seconds.

    Raises
    ------
    MailTransientError
        Still failing after ``max_attempts``.
    RecipientRefused, MailPermanentError, MailAuthError
        A permanent failure; not retried.
    DeliveryInDoubt
        No reply to the end of the data (not retried: it may have been accepted).
    """
    smtp = transport.smtp
    attempt = 0
    while True:
        attempt += 1
        try:
            transport.deliver(sender, recipient, data, before_final_dot)
            return attempt
        except DeliveryInDoubt as exc:
            exc.attempts = attempt
            raise
        except (smtplib.SMTPException, OSError) as exc:
            transport.abort()
            kind, detail = _classify(exc)
            if kind == "transient" and attempt < smtp.max_attempts:
                delay = backoff_delay(smtp, attempt)
                log.warning(
                    "%s: attempt %d of %d failed (%s); retrying in %g s",
                    recipient,
                    attempt,
                    smtp.max_attempts,
                    detail,
                    delay,
                )
                on_retry(attempt, detail)
                sleep(delay)
                continue
        raise _stop(kind, detail, f"{smtp.host}:{smtp.effective_port}", recipient, attempt)


def _stop(kind: str, detail: str, where: str, recipient: str, attempt: int) -> MailError:
    """The error that ends delivery to ``recipient`` after a failure of ``kind`` (no more tries)."""
    if kind == "auth":
        return MailAuthError(
            f"{where}: {detail}; check smtp.username in tracker.toml and {PASSWORD_ENV}",
            detail,
            attempt,
        )
    if kind == "recipient":
        return RecipientRefused(f"{where} refused {recipient}: {detail}", detail, attempt)
    if kind == "permanent":
        return MailPermanentError(
            f"{where} refused the message for {recipient}: {detail} (permanent, not retried)",
            detail,
            attempt,
        )
    return MailTransientError(
        f"{where}: {detail} for {recipient} after {attempt} attempt(s); try again later",
        detail,
        attempt,
    )
