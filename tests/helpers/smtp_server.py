"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, with failure injection."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USERNAME = "tracker-bot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class Mailroom:
    """The server's handler: records accepted mail; replies can be scripted.

    ``data_replies`` are returned (first in, first out) instead of accepting
    the next messages; ``rcpt_replies`` refuse given addresses every time;
    ``hold`` makes the server wait, before replying to RCPT or to the end of
    DATA for one address, until ``release`` is set (``reached`` says it waits).
    ``accept_reply`` is the reply that accepts a message (any 2xx, or garbage
    after which the message is still kept). ``drops`` is how many of the next
    DATA commands the server abandons after reading ``drop_after_lines`` lines
    of the message, before its final "." (``drop_reset``: a TCP reset rather
    than a close); ``dropped`` is set each time.
    """

    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    hold: tuple[str, str] | None = None  # ("RCPT" | "DATA", address)
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    transactions: int = 0
    accept_reply: str = "250 2.0.0 Message accepted for delivery"
    drops: int = 0
    drop_after_lines: int = 0
    drop_reset: bool = False
    dropped: threading.Event = field(default_factory=threading.Event)

    async def _maybe_hold(self, stage: str, address: str) -> None:
        if self.hold == (stage, address):
            self.reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._maybe_hold("RCPT", address)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.transactions += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        await self._maybe_hold("DATA", envelope.rcpt_tos[0])
        return self.accept_reply

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class DroppingSMTP(SMTP):
    """aiosmtpd's server, able to abandon a DATA command half-way (see :class:`Mailroom`)."""

    async def smtp_DATA(self, arg: str) -> None:
        room = self.event_handler
        if not isinstance(room, Mailroom) or room.drops <= 0 or not self.envelope.rcpt_tos:
            return await super().smtp_DATA(arg)
        room.drops -= 1
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        for _ in range(room.drop_after_lines):
            await self._reader.readuntil(b"\r\n")
        if room.drop_reset:
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
        else:
            self.transport.close()
        # The transport closes its socket in a callback it has just scheduled; this one
        # runs after it, so "dropped" means the client's side can already see the drop.
        asyncio.get_running_loop().call_soon(room.dropped.set)
        # Read no further: closing the connection cancels this coroutine.
        await asyncio.Event().wait()


class _Controller(Controller):
    def factory(self):
        return DroppingSMTP(self.handler, **self.SMTP_kwargs)


def authenticator_for(password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USERNAME.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


class Server:
    """Start/stop an aiosmtpd controller on a fixed port (so it can come up late)."""

    def __init__(self, handler: Mailroom, port: int | None = None, **kwargs):
        self.handler = handler
        self.port = port or free_port()
        self.kwargs = kwargs
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = _Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **self.kwargs
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.handler.release.set()
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server(handler: Mailroom | None = None, start: bool = True, **kwargs) -> Iterator[Server]:
    server = Server(handler or Mailroom(), **kwargs)
    if start:
        server.start()
    try:
        yield server
    finally:
        server.stop()


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1/localhost made with the openssl CLI, or None without it."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
