"""The ``[mail]`` and ``[smtp]`` settings of ``tracker.toml``, validated; the SMTP password.

The password comes only from the environment variable :data:`PASSWORD_ENV`;
a key in the file that looks like a secret is dropped unread and warned about.
Header values in the settings (addresses, names, the subject prefix) are checked
against header injection when they are read.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from tracker.constants import MAX_INPUT_BYTES
from tracker.errors import ConfigError, InputFileError, InvalidInput, Problem
from tracker.fields import Number, Whole

if TYPE_CHECKING:
    from tracker.config import Settings

#: The environment variable holding the SMTP password (read by ``Settings``).
PASSWORD_ENV = "TRACKER_SMTP_PASSWORD"
#: Hosts for which ``security = "none"`` (no TLS) is allowed.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: Keys that must never be in tracker.toml; their values are neither used nor echoed.
_SECRET_KEY = re.compile(r"(^|_)(password|passwd|pass|secret|token|api_?key)$", re.I)
#: A practical subset of RFC 5322 ``addr-spec`` (ASCII, no quoted local parts).
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_NAME_ADDR = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*$", re.S)


class HeaderInjection(ConfigError):
    """A header value (address, display name, subject) with a line break or control character."""


def check_header_value(value: str, what: str) -> str:
    """``value`` unchanged if it is safe in a mail header, else :class:`HeaderInjection`.

    A CR or LF would let a value add headers or recipients (header injection);
    other control characters have no place in a header either.
    """
    # NEL and the Unicode line/paragraph separators count as line breaks too: the
    # email package splits headers on them (str.splitlines) and refuses to send.
    if any(c in "\r\n\x85\u2028\u2029" for c in value):
        raise HeaderInjection(f"{what} {value!r} contains a line break: refused (header injection)")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
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
    port: Whole | None = Field(default=None, ge=1, le=65535, description="default by security")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    timeout_s: Number = Field(default=30.0, gt=0, le=600, description="per network operation, s")
    max_attempts: Whole = Field(default=5, ge=1, le=20, description="per recipient")
    backoff_s: Number = Field(default=2.0, ge=0, le=3600, description="first retry delay, s")
    backoff_max_s: Number = Field(default=300.0, ge=0, le=86400, description="cap of the delay, s")

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
    data, mode = _read_toml(path)
    warnings = _drop_secrets(data, path, mode)
    return MailConfig(settings=_validate(data, path), path=path, warnings=warnings)


def _read_toml(path: Path) -> tuple[dict[str, Any], int]:
    """The parsed file and its permission bits."""
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
        return tomllib.loads(raw.decode("utf-8")), mode
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8: save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"TOML: {exc}") from None


def _drop_secrets(data: dict[str, Any], path: Path, mode: int) -> tuple[str, ...]:
    """Remove every secret-looking key from ``data`` (unread); the warnings to show."""
    secrets = _secret_keys(data)
    for key in secrets:
        _drop(data, key)
    if not secrets:
        return ()
    keys = ", ".join(".".join(str(p) for p in key) for key in secrets)
    if mode & stat.S_IROTH:
        return (
            f"{path} is readable by every user (mode {stat.S_IMODE(mode):04o}) and holds"
            f" a secret ({keys}): remove it, run `chmod 600 {path}` and change that password."
            f" tracker ignores it and reads the password only from {PASSWORD_ENV}",
        )
    return (
        f"{path} holds a secret ({keys}), which tracker ignores: remove it and set"
        f" {PASSWORD_ENV} in the environment instead",
    )


def _validate(data: dict[str, Any], path: Path) -> MailSettings:
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
        return MailSettings.model_validate({**mail, "smtp": smtp})
    except ValidationError as exc:
        raise InvalidInput(_problems(exc, path)) from None


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
