"""Secrets and output: the SMTP password stays secret, headers stay headers, HTML stays inert.

Through ``tracker scorecard`` (in process, a real aiosmtpd server requiring
AUTH): in every outcome of a send (accepted, wrong password, server down, a
5xx reply, preview only) the password appears in no output, log line, error
or file under the home and the project, in clear or base64 (as AUTH PLAIN and
LOGIN carry it). A ``tracker.toml`` holding a secret is warned about (more
loudly when world-readable) without echoing it. Header values with line breaks
or control characters are refused; any accepted value makes a message with
exactly the expected headers and one recipient. Text from the call files
(notes, names, brokers, analysts) holding HTML is escaped in every HTML
output: the scorecard, its e-mail, ``tracker score --format html`` and, in the
long profile, a backtest report.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import json
import os
import secrets
import shutil
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers.smtp_server import USERNAME, Mailroom, authenticator_for, smtp_server
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from reliability.crash_util import ROOT, copy_home
from reliability.ledger import CLEAN_ERROR, CRASH, ESCAPED, LEAK, NO_LEAK, VALID, WARNED, check
from reliability.profile import LONG, fuzz
from tracker.cli import app

SECRETS = "secrets: SMTP password"
CONFIG = "secrets: tracker.toml warnings"
HEADERS = "output: header injection"
HTML_OUT = "output: HTML escaping"
#: The week in which the payload report (seen 2025-09-18) is new: its notes are shown.
AS_OF = "2025-09-22"
runner = CliRunner()

# aiosmtpd warns that AUTH without TLS is unsafe: these tests do it on purpose, on 127.0.0.1.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

#: Call-file text that would be markup if it reached HTML unescaped.
PAYLOADS = {
    "note": '<script>alert("note")</script>',
    "name": '<img src=x onerror=alert("name")>',
    "broker": '"><svg onload=alert("broker")>',
    "analyst": '<iframe src="javascript:alert(1)"></iframe>',
}


@pytest.fixture
def project(price_homes, tracker_home, tmp_path, monkeypatch):
    """The bundled calls (one report carrying HTML payloads) and real prices to 2025-10-31."""
    copy_home(price_homes.base, tracker_home)
    project = tmp_path / "project"
    shutil.copytree(ROOT / "recs", project / "recs")
    path = project / "recs" / "2025-09-15-caitong-ai-race.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("note: 估值回調後具備修復空間", f"note: '{PAYLOADS['note']}'")
    text = text.replace("  - name: 美團\n", f"  - name: '{PAYLOADS['name']}'\n")
    text = text.replace("broker: Caitong Securities", f"broker: '{PAYLOADS['broker']}'")
    text = text.replace("  - name: 郝彦辉", f"  - name: '{PAYLOADS['analyst']}'")
    assert all(p in text for p in PAYLOADS.values())
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(project)
    return project


def toml_string(value: str) -> str:
    """A TOML basic string for any text (control characters escaped)."""
    body = json.dumps(value, ensure_ascii=False)[1:-1]
    body = "".join(f"\\u{ord(c):04X}" if ord(c) == 0x7F else c for c in body)
    return f'"{body}"'


def write_config(path: Path, port: int, *, mode: int = 0o600, extra: str = "", **mail) -> Path:
    recipients = mail.get("recipients", ["陈大文 <chan@example.com>", "ops@example.com"])
    lines = [
        "[mail]",
        f"sender = {toml_string(mail.get('sender', 'Tracker <tracker@example.com>'))}",
        "recipients = [" + ", ".join(toml_string(r) for r in recipients) + "]",
        f"subject_prefix = {toml_string(mail.get('subject_prefix', '[tracker]'))}",
        "",
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'security = "none"',
        f'username = "{USERNAME}"',
        "timeout_s = 5",
        "max_attempts = 2",
        "backoff_s = 0",
        extra,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, mode)
    return path


@pytest.fixture
def fast_card(monkeypatch):
    """Build each week's card once per test module and call-file content (scoring takes seconds)."""
    import hashlib

    import tracker.scorecard.run as cmd

    real = cmd.build_card

    def build_card(settings, as_of, source):
        digest = hashlib.sha256(str(as_of).encode())
        for p in sorted(Path(settings.recs_dir).rglob("*.yaml")):
            digest.update(p.read_bytes())
        key = digest.hexdigest()
        if key not in _CARDS:
            _CARDS[key] = real(settings, as_of, source)
        return _CARDS[key]

    monkeypatch.setattr(cmd, "build_card", build_card)


_CARDS: dict = {}


def secret_forms(password: str) -> list[bytes]:
    """The password as it could leak: clear, and base64 as AUTH LOGIN / PLAIN send it."""
    raw = password.encode()
    plain = b"\0" + USERNAME.encode() + b"\0" + raw
    forms = [
        raw,
        base64.b64encode(raw),
        base64.b64encode(plain),
        base64.b64encode(raw).rstrip(b"="),
    ]
    return forms + [password.encode("utf-16-le")]


def files_holding(roots: list[Path], forms: list[bytes]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and any(f in path.read_bytes() for f in forms):
                found.append(str(path))
    return found


# --------------------------------------------------------------------------- the password


@pytest.mark.parametrize(
    "scenario, expected_exit",
    [
        pytest.param("accepted", 0, id="accepted"),
        pytest.param("wrong password", 77, id="wrong-password"),
        pytest.param("server down", 75, id="server-down"),
        pytest.param("554 on data", 69, id="permanent-5xx"),
        pytest.param("preview", 0, id="preview-only"),
    ],
)
def test_password_never_leaks(
    project, tracker_home, fast_card, caplog, monkeypatch, scenario, expected_exit
):
    caplog.set_level("DEBUG")
    password = "Pw-" + secrets.token_hex(12)
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", password)
    handler = Mailroom(
        data_replies=["554 5.7.1 Rejected by policy"] * 4 if scenario == "554 on data" else []
    )
    server_password = "other-" + password if scenario == "wrong password" else password
    kw = dict(
        authenticator=authenticator_for(server_password), auth_require_tls=False, auth_required=True
    )
    with smtp_server(handler, start=scenario != "server down", **kw) as server:
        config = write_config(project / "tracker.toml", server.port)
        args = ["scorecard", "--as-of", AS_OF, "--offline", "--config", str(config)]
        args += ["--out", str(project / "preview")] if scenario == "preview" else ["--send"]
        result = runner.invoke(app, args)
    forms = secret_forms(password)
    seen = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "logs": caplog.text,
        "exception": repr(result.exception) + repr(getattr(result.exception, "__dict__", "")),
    }
    leaks = [k for k, text in seen.items() if any(f in text.encode() for f in forms)]
    leaks += files_holding([tracker_home, project], forms)
    name = f"scorecard {scenario}"
    if result.exit_code != expected_exit or (
        result.exception is not None and not isinstance(result.exception, SystemExit)
    ):
        check(
            SECRETS,
            CRASH,
            name,
            f"exit {result.exit_code}, expected {expected_exit}: "
            f"{result.stderr[-300:]} {result.exception!r}",
        )
    check(
        SECRETS,
        LEAK if leaks else NO_LEAK,
        name,
        f"found in {leaks}"
        if leaks
        else f"exit {result.exit_code}; {len(handler.received)} message(s) accepted",
    )


def test_password_not_in_a_crash_traceback(project, tracker_home, monkeypatch, tmp_path):
    """An unexpected error inside the SMTP login prints a traceback without the password."""
    import subprocess
    import sys

    password = "Pw-" + secrets.token_hex(12)
    script = (
        "import smtplib, sys\n"
        "def boom(self, user, password, **kw):\n"
        "    raise RuntimeError('unexpected failure while logging in')\n"
        "smtplib.SMTP.login = boom\n"
        "from tracker.cli import main\n"
        "sys.argv = ['tracker', *sys.argv[1:]]\n"
        "main()\n"
    )
    kw = dict(authenticator=authenticator_for(password), auth_require_tls=False, auth_required=True)
    with smtp_server(Mailroom(), **kw) as server:
        config = write_config(project / "tracker.toml", server.port)
        env = {**os.environ, "TRACKER_HOME": str(tracker_home), "TRACKER_SMTP_PASSWORD": password}
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                "scorecard",
                "--as-of",
                AS_OF,
                "--offline",
                "--send",
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=project,
            timeout=300,
        )
    forms = secret_forms(password)
    leaks = [
        n
        for n, t in (("stdout", proc.stdout), ("stderr", proc.stderr))
        if any(f in t.encode() for f in forms)
    ]
    leaks += files_holding([tracker_home, project], forms)
    assert "RuntimeError" in proc.stderr and proc.returncode != 0, proc.stderr[-500:]
    check(
        SECRETS,
        LEAK if leaks else NO_LEAK,
        "traceback of an unexpected login error",
        f"found in {leaks}" if leaks else "traceback shows no password",
    )


# --------------------------------------------------------------------------- tracker.toml


@pytest.mark.parametrize(
    "mode, extra, loud",
    [
        pytest.param(0o644, 'password = "{secret}"', True, id="world-readable-password"),
        pytest.param(0o604, 'api_key = "{secret}"', True, id="world-readable-api-key"),
        pytest.param(0o600, 'password = "{secret}"', False, id="private-password"),
        pytest.param(
            0o644, '\n[other]\ntoken = "{secret}"', True, id="world-readable-token-elsewhere"
        ),
    ],
)
def test_secret_in_config_is_warned_and_not_echoed(
    project, tracker_home, fast_card, monkeypatch, mode, extra, loud
):
    secret = "S3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", "env-" + secrets.token_hex(8))
    handler = Mailroom()
    with smtp_server(
        handler,
        authenticator=authenticator_for(os.environ["TRACKER_SMTP_PASSWORD"]),
        auth_require_tls=False,
        auth_required=True,
    ) as server:
        config = write_config(
            project / "tracker.toml", server.port, mode=mode, extra=extra.format(secret=secret)
        )
        result = runner.invoke(
            app, ["scorecard", "--as-of", AS_OF, "--offline", "--send", "--config", str(config)]
        )
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    echoed = secret in result.output or files_holding([tracker_home], [secret.encode()])
    name = f"tracker.toml mode {mode:04o} with {extra.split('=')[0].strip()}"
    if result.exit_code != 0:
        check(CONFIG, CRASH, name, f"exit {result.exit_code}: {result.stderr[-300:]}")
    if echoed:
        check(CONFIG, LEAK, name, "the secret's value was printed or stored")
    said = bool(warnings) and (("readable by every user" in warnings[0]) == loud)
    check(CONFIG, WARNED if said else CRASH, name, warnings[0] if warnings else "no warning")


# --------------------------------------------------------------------------- header injection

_header_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(
        [
            "\r",
            "\n",
            "\x00",
            "\x0b",
            "\x1b",
            "\x7f",
            "\u2028",
            "\u2029",
            "\x85",
            "\x9f",
            ":",
            "<",
            ">",
            ",",
            '"',
        ]
    ),
    max_size=40,
)
_address = st.sampled_from(
    [
        "ops@example.com",
        "a.b+c@example.org",
        "ops@example.com\r\nBcc: x@evil.example",
        "ops@example.com\nCc: y@evil.example",
        "bad address@example.com",
    ]
)


@fuzz(quick=60, long=1500)
@given(prefix=_header_text, name=_header_text, sender_name=_header_text, address=_address)
def test_header_values_are_refused_or_stay_in_their_header(
    tmp_path_factory, prefix, name, sender_name, address
):
    from tracker.errors import InvalidInput, TrackerError
    from tracker.mailer import MailContent, build_message, load_mail_config, new_message_id

    folder = tmp_path_factory.mktemp("toml")
    recipient = {"name": name, "address": address}
    path = folder / "tracker.toml"
    path.write_text(
        "[mail]\n"
        f'sender = {{ name = {toml_string(sender_name)}, address = "tracker@example.com" }}\n'
        f"recipients = [{{ name = {toml_string(recipient['name'])},"
        f" address = {toml_string(address)} }}]\n"
        f"subject_prefix = {toml_string(prefix)}\n"
        '[smtp]\nhost = "smtp.example.com"\n',
        encoding="utf-8",
    )
    case = f"prefix={prefix!r} name={name!r} sender={sender_name!r} address={address!r}"
    # Line breaks as the email package sees them (str.splitlines), and C0/C1 controls.
    dangerous = any(
        c in "\r\n\x85\u2028\u2029" or ord(c) < 32 or 127 <= ord(c) < 160
        for c in prefix + name + sender_name + address
    )
    try:
        config = load_mail_config(path).settings
    except InvalidInput as exc:
        one_line = all("\n" not in str(p) and "\r" not in str(p) for p in exc.problems)
        check(HEADERS, CLEAN_ERROR if one_line else CRASH, case, str(exc.problems[0])[:200])
        return
    except TrackerError as exc:
        check(HEADERS, CLEAN_ERROR, case, str(exc))
        return
    if dangerous:
        check(HEADERS, LEAK, case, "a line break or control character was accepted")
    content = MailContent(subject=config.subject_prefix + " 荐股记分卡", text="t", html="<p>t</p>")
    to = config.recipients[0]
    try:
        raw = build_message(
            content,
            config.sender,
            to,
            new_message_id("2026-W01", config.sender),
            datetime(2026, 1, 5, 8, 0).astimezone(),
        ).as_bytes()
    except Exception as exc:  # accepted settings must make a message
        check(HEADERS, CRASH, case, f"accepted, then {type(exc).__name__}: {exc}")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    names = sorted({k.lower() for k in msg.keys()})
    expected = sorted(
        [
            "auto-submitted",
            "content-transfer-encoding",
            "content-type",
            "date",
            "from",
            "message-id",
            "mime-version",
            "subject",
            "to",
        ]
    )
    recipients = msg["To"].addresses
    ok = (
        set(names) <= set(expected)
        and {"from", "to", "subject", "message-id", "date"} <= set(names)
        and len(recipients) == 1
        and recipients[0].addr_spec == to.address
        # Folding may change runs of white space, nothing else.
        and msg["Subject"].split() == content.subject.split()
    )
    check(
        HEADERS,
        VALID if ok else LEAK,
        case,
        "headers as expected"
        if ok
        else f"headers {names}, To {msg['To']!r}, Subject {msg['Subject']!r}",
    )


@pytest.mark.parametrize(
    "field, value",
    [
        pytest.param(
            "subject_prefix", "[tracker]\r\nBcc: victim@evil.example", id="subject-crlf-bcc"
        ),
        pytest.param(
            "recipients", ["Ops\nBcc: victim@evil.example <ops@example.com>"], id="name-lf-bcc"
        ),
        pytest.param(
            "sender", "Tracker <tracker@example.com>\r\nReply-To: x@evil.example", id="sender-crlf"
        ),
        pytest.param("subject_prefix", "[tracker]\x85Bcc: victim@evil.example", id="subject-nel"),
        pytest.param(
            "recipients",
            ["Ops\u2028Bcc: v@evil.example <ops@example.com>"],
            id="name-line-separator",
        ),
    ],
)
def test_header_injection_through_the_command_sends_nothing(
    project, fast_card, monkeypatch, field, value
):
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", "pw")
    handler = Mailroom()
    with smtp_server(handler) as server:
        config = write_config(project / "tracker.toml", server.port, **{field: value})
        result = runner.invoke(
            app, ["scorecard", "--as-of", AS_OF, "--offline", "--send", "--config", str(config)]
        )
    lines = result.stderr.strip().splitlines()
    clean = (
        result.exit_code == 1
        and lines
        and lines[-1].startswith("error: ")
        and all(line.startswith((str(config), "error: ")) for line in lines)
    )
    outcome = LEAK if handler.received else CLEAN_ERROR if clean else CRASH
    check(
        HEADERS,
        outcome,
        f"command with {field}={value!r}",
        f"{len(handler.received)} sent; {result.stderr[-200:]!r}",
    )


# --------------------------------------------------------------------------- HTML


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, [k for k, _ in attrs]))


def inert(document: str) -> tuple[bool, str]:
    """Every payload shows as text (present once unescaped) and none became an element."""
    parser = Tags()
    parser.feed(document)
    bad = [
        (t, a)
        for t, a in parser.tags
        # The reports' own charts are inline SVG; an injected one carries a handler (and its
        # payload would also show up raw, below).
        if t in ("script", "iframe", "object", "embed") or any(x.startswith("on") for x in a)
    ]
    raw = [k for k, p in PAYLOADS.items() if p in document]
    shown = [k for k, p in PAYLOADS.items() if p in html.unescape(document)]
    ok = not bad and not raw
    return ok, f"elements {bad}, raw {raw}, shown as text {shown}"


def test_scorecard_html_and_mail_escape_call_text(project, tracker_home, fast_card):
    out = project / "preview"
    result = runner.invoke(app, ["scorecard", "--as-of", AS_OF, "--offline", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    page = (out / "scorecard.html").read_text(encoding="utf-8")
    ok, detail = inert(page)
    check(HTML_OUT, ESCAPED if ok else LEAK, "scorecard.html", detail)
    assert "note" in detail.split("shown as text")[1], "the note with HTML must be shown, escaped"
    msg = email.message_from_bytes(
        (out / "scorecard.eml").read_bytes(), policy=email.policy.default
    )
    body = msg.get_body(preferencelist=("html",)).get_content()
    ok, detail = inert(body)
    check(HTML_OUT, ESCAPED if ok else LEAK, "scorecard e-mail HTML part", detail)


def test_score_html_escapes_call_text(project, tracker_home):
    result = runner.invoke(app, ["score", "--as-of", AS_OF, "--offline", "--format", "html"])
    assert result.exit_code == 0, result.stderr
    ok, detail = inert(result.stdout)
    check(HTML_OUT, ESCAPED if ok else LEAK, "tracker score --format html", detail)


@pytest.mark.skipif(not LONG, reason="long profile only: a whole backtest")
def test_backtest_report_escapes_call_and_spec_text(project, tracker_home, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tracker_home / "numba-cache"))
    spec = project / "backtests" / "xss.yaml"
    spec.parent.mkdir()
    spec.write_text(
        f"name: xss\ndescription: '{PAYLOADS['note']}'\nselect: {{}}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["backtest", "run", str(spec), "--offline"])
    assert result.exit_code == 0, result.stderr
    # In a pipe the report's path is the tsv row "report<TAB>PATH".
    report = [line for line in result.stdout.splitlines() if line.startswith("report\t")][0]
    page = Path(report.split("\t")[1]).read_text(encoding="utf-8")
    ok, detail = inert(page)
    check(HTML_OUT, ESCAPED if ok else LEAK, "backtest report.html", detail)
