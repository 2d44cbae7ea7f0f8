"""The scorecard e-mail as a MIME message: one per recipient, text and HTML with inline images."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from tracker.mailer.settings import Mailbox, check_header_value

#: CRLF line ends and 7-bit transfer encodings: safe with any server, no 8BITMIME needed.
SMTP_POLICY = SMTP.clone(cte_type="7bit")


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
