"""The scorecard e-mail: settings, MIME message, SMTP delivery with retries.

Settings come from the ``[mail]`` and ``[smtp]`` tables of ``tracker.toml``;
the SMTP password comes only from the environment variable
``TRACKER_SMTP_PASSWORD`` (:attr:`tracker.config.Settings.smtp_password`), is
held as a :class:`~pydantic.SecretStr` and unwrapped only in the call to
``SMTP.login``. It is never read from a file, logged or written anywhere.

One message goes to each recipient (each sees only their own address);
:func:`tracker.outbox.send_week` records every step in the outbox ledger so
that a week is never sent twice.

Failures are sorted into three kinds:

transient
    connection refused or reset, timeouts, DNS failure, a dropped connection,
    any 4xx reply: retried with exponential backoff
    (``backoff_s * 2**(attempt-1)``, capped at ``backoff_max_s``) up to
    ``max_attempts``, then :class:`MailTransientError` (exit 75).
permanent
    any 5xx reply, TLS refused, STARTTLS or AUTH not offered:
    :class:`MailPermanentError` (exit 69), no retry. A 5xx for one recipient
    (``RCPT`` refused) marks that recipient failed and the others are still served.
authentication
    the server refused the username/password: :class:`MailAuthError` (exit 77).
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import ssl
import stat
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from tracker.constants import (
    EXIT_MAIL_AUTH,
    EXIT_MAIL_PERMANENT,
    EXIT_MAIL_TEMPFAIL,
    MAX_INPUT_BYTES,
)
from tracker.errors import ConfigError, InputFileError, InvalidInput, Problem, TrackerError

if TYPE_CHECKING:
    from tracker.config import Settings

log = logging.getLogger(__name__)

#: The environment variable holding the SMTP password (read by ``Settings``).
PASSWORD_ENV = "TRACKER_SMTP_PASSWORD"
#: Hosts for which ``security = "none"`` (no TLS) is allowed.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: RFC 5321 §4.5.3.2.6: a client waits up to 10 minutes for the reply to the final ".".
DATA_TIMEOUT_S = 600.0
#: Keys that must never be in tracker.toml; their values are neither used nor echoed.
_SECRET_KEY = re.compile(r"(^|_)(password|passwd|pass|secret|token|api_?key)$", re.I)
#: A practical subset of RFC 5322 ``addr-spec`` (ASCII, no quoted local parts).
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
#: CRLF line ends and 7-bit transfer encodings: safe with any server, no 8BITMIME needed.
SMTP_POLICY = SMTP.clone(cte_type="7bit")
_NAME_ADDR = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*$", re.S)


# --------------------------------------------------------------------------- errors


class HeaderInjection(ConfigError):
    """A header value (address, display name, subject) with a line break or control character."""


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


# --------------------------------------------------------------------------- settings


def check_header_value(value: str, what: str) -> str:
    """``value`` unchanged if it is safe in a mail header, else :class:`HeaderInjection`.

    A CR or LF would let a value add headers or recipients (header injection);
    other control characters have no place in a header either.
    """
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"{what} {value!r} contains a line break: refused (header injection)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise HeaderInjection(f"{what} {value!r} contains a control character: refused")
    return value


def _header_safe(value: str, what: str) -> str:
    # Inside pydantic validators a ValueError becomes a file: field: message problem.
    try:
        return check_header_value(value, what)
    except HeaderInjection as exc:
        raise ValueError(str(exc)) from None


class Mailbox(BaseModel):
    """An e-mail address with an optional display name (which may be Chinese).

    Accepts ``"陈大文 <chan@example.com>"``, ``"chan@example.com"`` or
    ``{name = "...", address = "..."}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            _header_safe(data, "address")
            m = _NAME_ADDR.match(data)
            if m:
                name = m.group("name").strip().strip('"').strip()
                return {"address": m.group("addr").strip(), "name": name or None}
            return {"address": data.strip()}
        return data

    @model_validator(mode="after")
    def _valid(self) -> Mailbox:
        _header_safe(self.address, "address")
        if self.name is not None:
            _header_safe(self.name, "name")
            if len(self.name) > 200:
                raise ValueError(f"name {self.name[:20]!r}... is longer than 200 characters")
        if not _ADDR_SPEC.match(self.address) or len(self.address) > 254:
            raise ValueError(
                f"{self.address!r} is not an e-mail address like name@example.com"
                " (ASCII, no spaces)"
            )
        return self

    @property
    def key(self) -> str:
        """The address as the outbox records it (lower case)."""
        return self.address.lower()

    def header(self) -> Address:
        local, domain = self.address.rsplit("@", 1)
        return Address(display_name=self.name or "", username=local, domain=domain)

    def __str__(self) -> str:
        return str(self.header())


class SmtpSettings(BaseModel):
    """How to reach the SMTP server. The password is not here: see :data:`PASSWORD_ENV`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535, description="default by security")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="per network operation, s")
    max_attempts: int = Field(default=5, ge=1, le=20, description="per recipient")
    backoff_s: float = Field(default=2.0, ge=0, le=3600, description="first retry delay, s")
    backoff_max_s: float = Field(default=300.0, ge=0, le=86400, description="cap of the delay, s")

    @model_validator(mode="after")
    def _valid(self) -> SmtpSettings:
        _header_safe(self.host, "host")
        if any(c.isspace() for c in self.host):
            raise ValueError(f"host {self.host!r} contains a space")
        if self.username is not None:
            _header_safe(self.username, "username")
        if self.security == "none" and self.host.lower().strip("[]") not in LOCAL_HOSTS:
            raise ValueError(
                f"security 'none' sends mail and password in clear text and is allowed only for"
                f" {', '.join(sorted(LOCAL_HOSTS))}; use 'starttls' or 'ssl' for {self.host!r}"
            )
        return self

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


class MailSettings(BaseModel):
    """Who sends the scorecard to whom, and through which server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: Mailbox
    recipients: tuple[Mailbox, ...] = Field(max_length=500)
    subject_prefix: str = Field(default="", max_length=100)
    smtp: SmtpSettings

    @model_validator(mode="after")
    def _valid(self) -> MailSettings:
        _header_safe(self.subject_prefix, "subject_prefix")
        if not self.recipients:
            # Here rather than min_length, which would also fire when an item is invalid.
            raise ValueError("recipients: list at least one address")
        seen: set[str] = set()
        for mailbox in self.recipients:
            if mailbox.key in seen:
                raise ValueError(f"recipients: {mailbox.address} is listed twice")
            seen.add(mailbox.key)
        return self


@dataclass(frozen=True)
class MailConfig:
    """Validated settings plus the warnings found while reading them (for the CLI to show)."""

    settings: MailSettings
    path: Path
    warnings: tuple[str, ...] = ()


def _secret_keys(data: Any, path: tuple = ()) -> list[tuple]:
    """Paths (keys and list indexes) of every key that looks like a secret, at any depth."""
    found: list[tuple] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if _SECRET_KEY.search(str(key)):
                found.append((*path, key))
            else:
                found += _secret_keys(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _secret_keys(value, (*path, i))
    return found


def _drop(data: Any, path: tuple) -> None:
    node = data
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]


def load_mail_config(path: Path) -> MailConfig:
    """Read and validate the ``[mail]`` and ``[smtp]`` tables of ``tracker.toml``.

    A key that looks like a secret (``password``, ``token``, ...) is dropped
    unread and warned about; if the file is also readable by every user the
    warning says so (and to change that password). Other tables are left to
    other commands.

    Raises
    ------
    ConfigError
        The file is missing or unreadable.
    InvalidInput
        Malformed TOML or invalid settings, every problem as ``file: field: message``.
    """
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: create it with [mail] and [smtp] tables (see docs/scorecard.md)"
            " or pass --config"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputFileError(path, f"file is {len(raw):,} bytes; the limit is {MAX_INPUT_BYTES:,}")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8: save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"TOML: {exc}") from None

    warnings = []
    secrets = _secret_keys(data)
    for key in secrets:
        _drop(data, key)
    if secrets:
        keys = ", ".join(".".join(str(p) for p in key) for key in secrets)
        if mode & stat.S_IROTH:
            warnings.append(
                f"{path} is readable by every user (mode {stat.S_IMODE(mode):04o}) and holds"
                f" a secret ({keys}): remove it, run `chmod 600 {path}` and change that password."
                f" tracker ignores it and reads the password only from {PASSWORD_ENV}"
            )
        else:
            warnings.append(
                f"{path} holds a secret ({keys}), which tracker ignores: remove it and set"
                f" {PASSWORD_ENV} in the environment instead"
            )

    mail = data.get("mail")
    smtp = data.get("smtp")
    problems = []
    if not isinstance(mail, dict):
        problems.append(Problem(str(path), None, "mail", "a [mail] table is required"))
    if not isinstance(smtp, dict):
        problems.append(Problem(str(path), None, "smtp", "an [smtp] table is required"))
    if problems:
        raise InvalidInput(problems)
    try:
        settings = MailSettings.model_validate({**mail, "smtp": smtp})
    except ValidationError as exc:
        raise InvalidInput(_problems(exc, path)) from None
    return MailConfig(settings=settings, path=path, warnings=tuple(warnings))


def _problems(exc: ValidationError, path: Path) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
        msg = re.sub(r"^Value error, ", "", err["msg"])
        # A cross-field rule names the field it blames at the start of its message.
        m = re.match(r"^(recipients|sender|subject_prefix): (.*)$", msg, re.S)
        if m and not loc:
            loc, msg = [m.group(1)], m.group(2)
        if not loc or loc[0] != "smtp":
            loc = ["mail", *loc]
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}: check the spelling"
        elif err["type"] == "missing":
            msg = "required field is missing"
        problems.append(Problem(str(path), None, ".".join(loc), msg))
    return problems


def smtp_password(settings: Settings, smtp: SmtpSettings) -> SecretStr | None:
    """The password to log in with, from the environment only.

    Raises
    ------
    ConfigError
        ``smtp.username`` is set but :data:`PASSWORD_ENV` is empty or unset.
    """
    if smtp.username is None:
        return None
    password = settings.smtp_password
    if password is None or not password.get_secret_value():
        raise ConfigError(
            f"smtp.username is set but {PASSWORD_ENV} is not: export the password in the"
            " environment of the command (never in tracker.toml)"
        )
    return password


# --------------------------------------------------------------------------- message


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML through ``<img src="cid:{cid}">``."""

    cid: str
    data: bytes
    subtype: str = "png"
    filename: str = "chart.png"


@dataclass(frozen=True)
class MailContent:
    """What every recipient gets: subject, plain text, HTML and its inline images."""

    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()


def new_content_id(domain: str = "tracker.invalid") -> str:
    """A fresh Content-ID without angle brackets, for ``cid:`` references."""
    return f"chart.{secrets.token_hex(8)}@{domain}"


def new_message_id(week: str, sender: Mailbox) -> str:
    """A unique Message-ID with angle brackets, in the sender's domain.

    64 random bits; short enough that the header is never folded
    (``email.utils.make_msgid`` ids are, and some parsers keep the fold).
    """
    domain = sender.address.rsplit("@", 1)[1]
    return f"<scorecard.{week}.{secrets.token_hex(8)}@{domain}>"


def build_message(
    content: MailContent,
    sender: Mailbox,
    to: Mailbox,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The MIME message for one recipient.

    Structure: ``multipart/related`` holding ``multipart/alternative``
    (``text/plain``, ``text/html``, both UTF-8) followed by each inline image
    with its ``Content-ID``. Headers: From, To, Subject (RFC 2047 encoded when
    not ASCII), Date, Message-ID, Auto-Submitted (RFC 3834, so vacation
    responders stay quiet).

    Raises
    ------
    HeaderInjection
        The subject, a name or an address holds a line break or control character.
    """
    check_header_value(content.subject, "subject")
    check_header_value(message_id, "Message-ID")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender.header()
    msg["To"] = to.header()
    msg["Subject"] = content.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    body = EmailMessage(policy=SMTP_POLICY)
    body.set_content(content.text, subtype="plain", charset="utf-8")
    body.add_alternative(content.html, subtype="html", charset="utf-8")
    if not content.images:
        for name, value in body.items():
            msg[name] = value
        msg.set_payload(body.get_payload())
        return msg
    msg.make_related()
    msg.set_param("type", "multipart/alternative")  # RFC 2387: the root part's type
    msg.attach(body)
    for image in content.images:
        check_header_value(image.cid, "Content-ID")
        part = EmailMessage(policy=SMTP_POLICY)
        part.set_content(
            image.data,
            maintype="image",
            subtype=image.subtype,
            cid=f"<{image.cid}>",
            disposition="inline",
            filename=image.filename,
        )
        msg.attach(part)
    return msg


# --------------------------------------------------------------------------- SMTP


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
                        f"{s.host} does not offer STARTTLS: set security = \"ssl\" (port 465)"
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
                conn.login(s.username, secret)
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
            The final "." was sent but no reply arrived.
        """
        self.open()
        conn = self._conn
        assert conn is not None
        code, resp = conn.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, sender)
        code, resp = conn.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, resp)})
        code, resp = conn.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, resp)
        body = _dot_stuff(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body)
        before_final_dot()
        try:
            conn.send(b".\r\n")
            if conn.sock is not None:
                conn.sock.settimeout(max(DATA_TIMEOUT_S, self.smtp.timeout_s))
            code, resp = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abort()
            raise DeliveryInDoubt(f"no reply to the end of data: {exc}") from None
        if conn.sock is not None:
            conn.sock.settimeout(self.smtp.timeout_s)
        if code != 250:
            raise smtplib.SMTPDataError(code, resp)


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
    where = f"{smtp.host}:{smtp.effective_port}"
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
                    recipient, attempt, smtp.max_attempts, detail, delay,
                )  # fmt: skip
                on_retry(attempt, detail)
                sleep(delay)
                continue
        if kind == "auth":
            raise MailAuthError(
                f"{where}: {detail}; check smtp.username in tracker.toml and {PASSWORD_ENV}",
                detail, attempt,
            )  # fmt: skip
        if kind == "recipient":
            raise RecipientRefused(f"{where} refused {recipient}: {detail}", detail, attempt)
        if kind == "permanent":
            raise MailPermanentError(
                f"{where} refused the message for {recipient}: {detail} (permanent, not retried)",
                detail, attempt,
            )  # fmt: skip
        raise MailTransientError(
            f"{where}: {detail} for {recipient} after {attempt} attempt(s); try again later",
            detail, attempt,
        )  # fmt: skip
