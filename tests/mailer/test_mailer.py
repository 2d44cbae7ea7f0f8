"""tracker.mailer: settings from tracker.toml, the MIME message, SMTP failures and retries."""

from __future__ import annotations

import email
import email.policy
import os
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers.smtp_server import USERNAME, Mailroom, authenticator_for, smtp_server
from pydantic import SecretStr

from tracker.config import Settings
from tracker.errors import ConfigError, InvalidInput
from tracker.mailer import (
    HeaderInjection,
    InlineImage,
    MailAuthError,
    Mailbox,
    MailContent,
    MailPermanentError,
    MailTransientError,
    RecipientRefused,
    SmtpSettings,
    SmtpTransport,
    backoff_delay,
    build_message,
    load_mail_config,
    send_one,
    smtp_password,
)

# aiosmtpd warns that AUTH without TLS is unsafe: the tests do it on purpose, on 127.0.0.1.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SUBJECT = "每周评分卡 2026-W48: 腾讯控股 +3.2 pp"
HKT = timezone(timedelta(hours=8))


def tiny_png() -> bytes:
    """A valid 1x1 white PNG, built by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def content(cid: str = "chart.1@tracker.invalid") -> MailContent:
    return MailContent(
        subject=SUBJECT,
        text="腾讯控股 0700.HK excess +3.2 pp\n.a line starting with a dot\n",
        html=(
            f'<html><body><p>腾讯控股 &amp; 美团</p><img src="cid:{cid}" alt="chart"></body></html>'
        ),
        images=(InlineImage(cid=cid, data=tiny_png()),),
    )


def write_toml(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


VALID = """
[mail]
sender = "Tracker <tracker@example.com>"
recipients = ["陈大文 <chan@example.com>", "ops@example.com"]

[smtp]
host = "smtp.example.com"
username = "tracker@example.com"
"""


# --------------------------------------------------------------------------- settings


def test_load_valid_config_with_chinese_name_and_default_port(tmp_path):
    cfg = load_mail_config(write_toml(tmp_path / "tracker.toml", VALID))
    s = cfg.settings
    assert s.sender == Mailbox(address="tracker@example.com", name="Tracker")
    assert s.recipients[0] == Mailbox(address="chan@example.com", name="陈大文")
    assert s.recipients[1] == Mailbox(address="ops@example.com")
    assert s.smtp.security == "starttls"
    assert s.smtp.effective_port == 587  # submission port for STARTTLS (RFC 6409)
    assert cfg.warnings == ()


@pytest.mark.parametrize(
    "security, port", [("ssl", 465), ("starttls", 587)], ids=["ssl-465", "starttls-587"]
)
def test_default_ports(security, port):
    assert SmtpSettings(host="mail.example.com", security=security).effective_port == port


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_security_none_allowed_for_localhost(host):
    assert SmtpSettings(host=host, security="none").effective_port == 25


def test_security_none_refused_for_remote_host(tmp_path):
    path = write_toml(
        tmp_path / "tracker.toml",
        VALID.replace('host = "smtp.example.com"', 'host = "smtp.example.com"\nsecurity = "none"'),
    )
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    assert str(info.value) == (
        f"{path}: smtp: security 'none' sends mail and password in clear text and is allowed"
        " only for 127.0.0.1, ::1, localhost; use 'starttls' or 'ssl' for 'smtp.example.com'"
    )


@pytest.mark.parametrize(
    "recipient, what",
    [
        pytest.param(r'"ops@example.com\r\nBcc: victim@example.org"', "address", id="crlf-bcc"),
        pytest.param(r'"Ops\nBcc: x@example.org <ops@example.com>"', "address", id="lf-in-name"),
        pytest.param(
            '{ name = "Ops\\rX", address = "ops@example.com" }', "name", id="cr-in-name-table"
        ),
        pytest.param(
            '{ name = "Ops", address = "ops@example.com\\nBcc: x@example.org" }',
            "address",
            id="lf-in-address-table",
        ),
    ],
)
def test_line_break_in_recipient_is_refused(tmp_path, recipient, what):
    text = VALID.replace('"ops@example.com"]', f"{recipient}]")
    path = write_toml(tmp_path / "tracker.toml", text)
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: mail.recipients.1")
    assert f"{what} " in message
    assert "contains a line break: refused (header injection)" in message


def test_line_break_in_sender_name_is_refused(tmp_path):
    text = VALID.replace(
        '"Tracker <tracker@example.com>"', '"Tracker\\r\\nX-Evil: 1 <t@example.com>"'
    )
    with pytest.raises(InvalidInput, match=r"mail.sender: address .* contains a line break"):
        load_mail_config(write_toml(tmp_path / "tracker.toml", text))


def test_every_problem_is_listed(tmp_path):
    text = """
[mail]
sender = "not an address"
recipients = ["a@example.com", "A@example.com"]
colour = "red"

[smtp]
host = "mail.example.com"
port = 70000
"""
    path = write_toml(tmp_path / "tracker.toml", text)
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    lines = str(info.value).splitlines()
    assert (
        f"{path}: mail.sender: 'not an address' is not an e-mail address like name@example.com"
        " (ASCII, no spaces)" in lines
    )
    assert f"{path}: mail.colour: unknown field 'colour': check the spelling" in lines
    assert f"{path}: smtp.port: Input should be less than or equal to 65535" in lines
    assert len(lines) == 3  # the duplicate is reported once the other fields are valid


def test_duplicate_recipient_is_refused(tmp_path):
    text = VALID.replace('"ops@example.com"]', '"ops@example.com", "OPS@example.com"]')
    path = write_toml(tmp_path / "tracker.toml", text)
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    assert str(info.value) == f"{path}: mail.recipients: OPS@example.com is listed twice"


def test_empty_recipients_are_refused(tmp_path):
    text = VALID.replace('["陈大文 <chan@example.com>", "ops@example.com"]', "[]")
    path = write_toml(tmp_path / "tracker.toml", text)
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    assert str(info.value) == f"{path}: mail.recipients: list at least one address"


def test_missing_tables_and_file(tmp_path):
    path = write_toml(tmp_path / "tracker.toml", "[other]\nx = 1\n")
    with pytest.raises(InvalidInput) as info:
        load_mail_config(path)
    assert (
        str(info.value)
        == f"{path}: mail: a [mail] table is required\n{path}: smtp: an [smtp] table is required"
    )
    with pytest.raises(ConfigError, match="not found: create it with"):
        load_mail_config(tmp_path / "absent.toml")


def test_malformed_toml(tmp_path):
    path = write_toml(tmp_path / "tracker.toml", "[mail\nsender = 1\n")
    with pytest.raises(
        InvalidInput, match=r"TOML: Expected ']' at the end of a table declaration \(at line 1"
    ):
        load_mail_config(path)


SECRET = "hunter2-Zq9!vK"


def test_secret_in_file_is_ignored_and_warned(tmp_path):
    text = VALID + f'password = "{SECRET}"\n'
    cfg = load_mail_config(write_toml(tmp_path / "tracker.toml", text, 0o600))
    assert cfg.warnings == (
        f"{tmp_path / 'tracker.toml'} holds a secret (smtp.password), which tracker ignores:"
        " remove it and set TRACKER_SMTP_PASSWORD in the environment instead",
    )
    assert SECRET not in repr(cfg)


def test_world_readable_file_with_secret_gets_a_stronger_warning(tmp_path):
    text = VALID + f'smtp_token = "{SECRET}"\n[mail.extra]\napi_key = "{SECRET}"\n'
    path = write_toml(tmp_path / "tracker.toml", text.replace("[mail.extra]\n", ""), 0o644)
    cfg = load_mail_config(path)
    (warning,) = cfg.warnings
    assert warning.startswith(f"{path} is readable by every user (mode 0644) and holds a secret")
    assert "smtp.smtp_token" in warning and "smtp.api_key" in warning
    assert f"chmod 600 {path}" in warning and "change that password" in warning
    assert SECRET not in warning and SECRET not in repr(cfg)


def test_secret_inside_a_recipient_table_is_dropped(tmp_path):
    text = VALID.replace(
        '"ops@example.com"]', f'{{ address = "ops@example.com", token = "{SECRET}" }}]'
    )
    cfg = load_mail_config(write_toml(tmp_path / "tracker.toml", text))
    assert cfg.settings.recipients[1] == Mailbox(address="ops@example.com")
    assert "(mail.recipients.1.token)" in cfg.warnings[0] and SECRET not in cfg.warnings[0]


def test_oversized_file_is_refused(tmp_path):
    path = write_toml(tmp_path / "tracker.toml", VALID + "# " + "x" * 1_000_000 + "\n")
    with pytest.raises(InvalidInput, match="the limit is 1,000,000"):
        load_mail_config(path)


def test_world_readable_file_without_secret_is_fine(tmp_path):
    assert load_mail_config(write_toml(tmp_path / "tracker.toml", VALID, 0o644)).warnings == ()


def test_password_only_from_environment(monkeypatch):
    smtp = SmtpSettings(host="smtp.example.com", username="bot@example.com")
    with pytest.raises(ConfigError) as info:
        smtp_password(Settings(), smtp)
    assert str(info.value) == (
        "smtp.username is set but TRACKER_SMTP_PASSWORD is not: export the password in the"
        " environment of the command (never in tracker.toml)"
    )
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", SECRET)
    password = smtp_password(Settings(), smtp)
    assert isinstance(password, SecretStr) and password.get_secret_value() == SECRET
    assert SECRET not in repr(Settings()) and SECRET not in str(Settings())
    assert smtp_password(Settings(), SmtpSettings(host="localhost", security="none")) is None


# --------------------------------------------------------------------------- message


def test_message_structure_headers_and_inline_image():
    cid = "chart.1@tracker.invalid"
    sender = Mailbox(address="tracker@example.com", name="港股 Tracker")
    to = Mailbox(address="chan@example.com", name="陈大文")
    date = datetime(2026, 11, 23, 8, 0, tzinfo=HKT)
    raw = build_message(content(cid), sender, to, "<abc.1@example.com>", date).as_bytes()

    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322 line limit
    assert all(b < 128 for b in raw)  # 7-bit clean: Chinese is encoded
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == SUBJECT
    assert b"Subject: =?utf-8?" in raw
    assert msg["To"].addresses[0].display_name == "陈大文"
    assert msg["To"].addresses[0].addr_spec == "chan@example.com"
    assert msg["From"].addresses[0].display_name == "港股 Tracker"
    assert msg["Message-ID"] == "<abc.1@example.com>"
    assert msg["Date"].datetime == date
    assert msg["Auto-Submitted"] == "auto-generated"

    assert msg.get_content_type() == "multipart/related"
    assert msg.get_param("type") == "multipart/alternative"
    alternative, image = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.get_payload()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert plain.get_content().splitlines() == content().text.splitlines()  # canonical CRLF
    assert "腾讯控股 &amp; 美团" in html.get_content()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == tiny_png()
    assert f'src="cid:{cid}"' in html.get_content()


@pytest.mark.parametrize(
    "subject", ["周报\r\nBcc: x@example.org", "周报\nX: y", "周报\x00"], ids=["crlf", "lf", "nul"]
)
def test_header_injection_in_subject_is_refused(subject):
    c = MailContent(subject=subject, text="t", html="<p>t</p>")
    with pytest.raises(HeaderInjection, match="subject"):
        build_message(
            c,
            Mailbox(address="a@example.com"),
            Mailbox(address="b@example.com"),
            "<x@y>",
            datetime(2026, 1, 1, tzinfo=HKT),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"address": "a@example.com\r\nBcc: b@example.org"},
        {"address": "a@example.com", "name": "A\nBcc: b@example.org"},
        {"address": "a@example.com", "name": "A\rB"},
    ],
    ids=["address-crlf", "name-lf", "name-cr"],
)
def test_mailbox_refuses_line_breaks(kwargs):
    with pytest.raises(ValueError, match="line break: refused"):
        Mailbox(**kwargs)


def test_backoff_is_exponential_and_capped():
    smtp = SmtpSettings(host="localhost", security="none", backoff_s=2, backoff_max_s=10)
    # 2 * 2**(n-1): 2, 4, 8, then the cap 10
    assert [backoff_delay(smtp, n) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


# --------------------------------------------------------------------------- SMTP


def local(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_s=5, **kw)


def raw_message(to: str = "chan@example.com") -> bytes:
    return build_message(
        content(),
        Mailbox(address="tracker@example.com"),
        Mailbox(address=to),
        "<m.1@example.com>",
        datetime(2026, 11, 23, 8, tzinfo=HKT),
    ).as_bytes()


def test_send_one_delivers_and_dot_stuffs():
    with smtp_server() as server:
        transport = SmtpTransport(local(server.port))
        try:
            attempts = send_one(transport, "tracker@example.com", "chan@example.com", raw_message())
        finally:
            transport.close()
    assert attempts == 1
    (got,) = server.handler.received
    assert got.mail_from == "tracker@example.com" and got.rcpt_tos == ["chan@example.com"]
    msg = got.message
    assert msg["Subject"] == SUBJECT
    plain = msg.get_payload()[0].get_payload()[0]
    # A line starting with "." survives the transfer (RFC 5321 §4.5.2 transparency).
    assert plain.get_content().splitlines()[1] == ".a line starting with a dot"


def test_server_down_then_up_is_retried():
    handler = Mailroom()
    with smtp_server(handler, start=False) as server:
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) == 2:
                server.start()  # the server comes up during the second backoff

        transport = SmtpTransport(local(server.port))
        attempts = send_one(
            transport, "tracker@example.com", "chan@example.com", raw_message(), sleep=sleep
        )
        transport.close()
    assert attempts == 3
    assert sleeps == [2.0, 4.0]  # backoff_s=2: 2*2**0, 2*2**1
    assert len(handler.received) == 1


def test_451_then_accept():
    handler = Mailroom(data_replies=["451 4.3.0 Temporary local problem, try again"])
    sleeps: list[float] = []
    retries: list[tuple[int, str]] = []
    with smtp_server(handler) as server:
        transport = SmtpTransport(local(server.port))
        attempts = send_one(
            transport,
            "tracker@example.com",
            "chan@example.com",
            raw_message(),
            sleep=sleeps.append,
            on_retry=lambda n, d: retries.append((n, d)),
        )
        transport.close()
    assert attempts == 2 and sleeps == [2.0]
    assert retries == [(1, "451 4.3.0 Temporary local problem, try again")]
    assert handler.transactions == 2 and len(handler.received) == 1


def test_550_stops_without_retry():
    handler = Mailroom(data_replies=["550 5.7.1 Message rejected as spam"])
    sleeps: list[float] = []
    with smtp_server(handler) as server:
        transport = SmtpTransport(local(server.port))
        with pytest.raises(MailPermanentError) as info:
            send_one(
                transport,
                "tracker@example.com",
                "chan@example.com",
                raw_message(),
                sleep=sleeps.append,
            )
        transport.close()
    err = info.value
    assert type(err) is MailPermanentError and err.exit_code == 69
    assert str(err) == (
        f"127.0.0.1:{server.port} refused the message for chan@example.com:"
        " 550 5.7.1 Message rejected as spam (permanent, not retried)"
    )
    assert sleeps == [] and handler.transactions == 1 and handler.received == []


def test_recipient_refused_is_its_own_error():
    handler = Mailroom(rcpt_replies={"gone@example.com": "550 5.1.1 No such user"})
    with smtp_server(handler) as server:
        transport = SmtpTransport(local(server.port))
        with pytest.raises(RecipientRefused) as info:
            send_one(
                transport,
                "tracker@example.com",
                "gone@example.com",
                raw_message(),
                sleep=lambda s: pytest.fail("a 5xx must not be retried"),
            )
        transport.close()
    assert info.value.exit_code == 69 and info.value.detail == "550 5.1.1 No such user"


def test_transient_failure_exhausts_retries():
    handler = Mailroom(data_replies=["421 4.7.0 Try again later"] * 10)
    sleeps: list[float] = []
    with smtp_server(handler) as server:
        transport = SmtpTransport(local(server.port, max_attempts=4))
        with pytest.raises(MailTransientError) as info:
            send_one(
                transport,
                "tracker@example.com",
                "chan@example.com",
                raw_message(),
                sleep=sleeps.append,
            )
        transport.close()
    assert info.value.exit_code == 75 and info.value.attempts == 4
    assert sleeps == [2.0, 4.0, 8.0]  # three waits between four attempts
    assert str(info.value) == (
        f"127.0.0.1:{server.port}: 421 4.7.0 Try again later for chan@example.com after 4"
        " attempt(s); try again later"
    )


def test_connection_refused_throughout_is_transient():
    with smtp_server(start=False) as server:  # nothing listens on the port
        transport = SmtpTransport(local(server.port, max_attempts=3, backoff_s=0.5))
        sleeps: list[float] = []
        with pytest.raises(
            MailTransientError, match="Connection refused for chan@example.com after 3"
        ):
            send_one(
                transport,
                "tracker@example.com",
                "chan@example.com",
                raw_message(),
                sleep=sleeps.append,
            )
    assert sleeps == [0.5, 1.0]


AUTH_PASSWORD = "s3cr3t-pa55-Xy7"


def auth_settings(port: int, **kw) -> SmtpSettings:
    return local(port, username=USERNAME, **kw)


def test_auth_success_over_plain_localhost():
    handler = Mailroom()
    kw = dict(
        authenticator=authenticator_for(AUTH_PASSWORD), auth_require_tls=False, auth_required=True
    )
    with smtp_server(handler, **kw) as server:
        transport = SmtpTransport(auth_settings(server.port), SecretStr(AUTH_PASSWORD))
        assert send_one(transport, "tracker@example.com", "chan@example.com", raw_message()) == 1
        transport.close()
        # Without logging in, the server refuses the mail: auth really is required.
        anonymous = SmtpTransport(local(server.port))
        with pytest.raises(MailPermanentError, match="530"):
            send_one(anonymous, "tracker@example.com", "chan@example.com", raw_message())
    assert len(handler.received) == 1


def test_auth_failure_stops_with_its_own_exit_code(caplog):
    caplog.set_level("DEBUG")
    kw = dict(
        authenticator=authenticator_for(AUTH_PASSWORD), auth_require_tls=False, auth_required=True
    )
    wrong = "wrong-" + AUTH_PASSWORD
    with smtp_server(**kw) as server:
        transport = SmtpTransport(auth_settings(server.port), SecretStr(wrong))
        with pytest.raises(MailAuthError) as info:
            send_one(
                transport,
                "tracker@example.com",
                "chan@example.com",
                raw_message(),
                sleep=lambda s: pytest.fail("an auth failure must not be retried"),
            )
    assert info.value.exit_code == 77
    assert str(info.value) == (
        f"127.0.0.1:{server.port}: authentication refused: 535 5.7.8 Authentication credentials"
        " invalid; check smtp.username in tracker.toml and TRACKER_SMTP_PASSWORD"
    )
    assert (
        wrong not in str(info.value)
        and wrong not in caplog.text
        and wrong not in repr(transport.__dict__)
    )


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    from helpers.smtp_server import self_signed_cert

    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the openssl command is needed to make a test certificate")
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def client_context(cert_path):
    import ssl

    return ssl.create_default_context(cafile=str(cert_path))


def test_starttls_with_auth(cert):
    from helpers.smtp_server import server_tls_context

    handler = Mailroom()
    kw = dict(
        tls_context=server_tls_context(*cert),
        require_starttls=True,
        authenticator=authenticator_for(AUTH_PASSWORD),
        auth_required=True,
    )
    with smtp_server(handler, **kw) as server:
        smtp = SmtpSettings(
            host="127.0.0.1", port=server.port, security="starttls", username=USERNAME, timeout_s=5
        )
        transport = SmtpTransport(smtp, SecretStr(AUTH_PASSWORD), client_context(cert[0]))
        assert send_one(transport, "tracker@example.com", "chan@example.com", raw_message()) == 1
        transport.close()
    assert len(handler.received) == 1


def test_implicit_tls(cert):
    from helpers.smtp_server import server_tls_context

    handler = Mailroom()
    with smtp_server(handler, ssl_context=server_tls_context(*cert)) as server:
        smtp = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl", timeout_s=5)
        transport = SmtpTransport(smtp, None, client_context(cert[0]))
        assert send_one(transport, "tracker@example.com", "chan@example.com", raw_message()) == 1
        transport.close()
    assert len(handler.received) == 1


def test_untrusted_certificate_is_permanent(cert):
    from helpers.smtp_server import server_tls_context

    with smtp_server(tls_context=server_tls_context(*cert)) as server:
        smtp = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", timeout_s=5)
        transport = SmtpTransport(smtp)  # the system trust store does not know the test CA
        with pytest.raises(MailPermanentError, match="TLS failed: CERTIFICATE_VERIFY_FAILED"):
            send_one(
                transport,
                "tracker@example.com",
                "chan@example.com",
                raw_message(),
                sleep=lambda s: pytest.fail("a TLS failure must not be retried"),
            )


def test_starttls_not_offered_is_permanent():
    with smtp_server() as server:  # no tls_context: the server offers no STARTTLS
        smtp = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", timeout_s=5)
        with pytest.raises(MailPermanentError, match="does not offer STARTTLS"):
            send_one(SmtpTransport(smtp), "tracker@example.com", "chan@example.com", raw_message())
