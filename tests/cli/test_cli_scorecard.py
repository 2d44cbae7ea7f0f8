"""`tracker scorecard` end to end: real prices, a real SMTP server, exit codes, secrets."""

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers.book import original_recs
from helpers.smtp_server import USERNAME, Mailroom, authenticator_for, smtp_server
from typer.testing import CliRunner

from tracker.cli import app
from tracker.mailer.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
AS_OF = "2025-11-10"  # Monday; the week 2025-11-04..10 holds the 6M horizon of the Huaan calls
WEEK = "2025-W46"
HUAAN = [
    "0700.HK",
    "9988.HK",
    "1810.HK",
    "1024.HK",
    "3690.HK",
    "9961.HK",
    "0780.HK",
    "9999.HK",
    "1698.HK",
    "0772.HK",
    "9899.HK",
    "0241.HK",
    "0268.HK",
    "2556.HK",
    "0992.HK",
]
PASSWORD = "Pa55-w0rd-that-must-never-leak-7Qx"

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture(scope="module")
def shared(shared_dir) -> Path:
    return shared_dir


@pytest.fixture(scope="module")
def filled_home(tmp_path_factory, shared) -> Path:
    """A tracker home whose price store holds the real CSVs (filled once per module)."""
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource

    home = tmp_path_factory.mktemp("filled")
    symbols = [*HUAAN, "^HSI"]
    summary = update_prices(
        PriceStore(home),
        CsvFolderSource(shared / "data" / "prices"),
        symbols,
        since="2024-01-01",
        until="2026-08-26",
    )
    assert not summary.failed
    return home


@pytest.fixture(scope="module")
def recs_dir(tmp_path_factory) -> Path:
    """A calls folder with the scales and the two reports these figures were worked out on."""
    return original_recs(tmp_path_factory.mktemp("recs") / "recs")


@pytest.fixture
def home(filled_home, tmp_path, monkeypatch, recs_dir) -> Path:
    here = tmp_path / "home"
    shutil.copytree(filled_home, here)
    monkeypatch.setenv("TRACKER_HOME", str(here))
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs_dir))
    return here


def csv(shared: Path, symbol: str) -> pd.Series:
    """Closes as the file has them, without Yahoo's placeholder rows (flat, zero volume)."""
    name = "HSI" if symbol == "^HSI" else symbol
    f = pd.read_csv(
        shared / "data" / "prices" / f"{name}.csv", parse_dates=["date"], index_col="date"
    )
    flat = (f["open"] == f["high"]) & (f["high"] == f["low"]) & (f["low"] == f["close"])
    return f.loc[~(flat & (f["volume"] == 0)), "close"]


def oracle(shared: Path) -> dict[str, str]:
    """The scorecard's key figures, computed plainly from the CSV files."""
    hsi = csv(shared, "^HSI")
    last = hsi.loc[:"2025-11-10"].iloc[-1]
    week_base = hsi.loc[:"2025-11-03"].iloc[-1]  # 7 days before as_of
    ytd_base = hsi.loc[:"2024-12-31"].iloc[-1]
    # Huaan (published Tue 2025-05-06): entry at the close of Wed 2025-05-07; the attention
    # horizon is 6 months: Fri 2025-11-07 (a session). Attention's band is (0, inf): a hit is
    # excess > 0. Calls without a bar on 2025-11-07 (1698, 9899, 2556 stop earlier) have no verdict.
    hits = scored = 0
    excess = {}
    for t in HUAAN:
        s = csv(shared, t)
        if pd.Timestamp("2025-11-07") not in s.index:
            continue
        x = (s["2025-11-07"] / s["2025-05-07"] - 1) - (hsi["2025-11-07"] / hsi["2025-05-07"] - 1)
        excess[t] = x
        scored += 1
        hits += x > 0
    return {
        "week": f"{(last / week_base - 1) * 100:+.1f}%",
        "ytd": f"{(last / ytd_base - 1) * 100:+.1f}%",
        "hit_rate": f"{hits / scored:.0%} ({hits}/{scored})",
        "tencent": f"{excess['0700.HK'] * 100:+.1f} pp",
        "lenovo": f"{excess['0992.HK'] * 100:+.1f} pp",
    }


def toml(path: Path, port: int, recipients: list[str], **smtp) -> Path:
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in smtp.items())
    quoted = ", ".join(f'"{r}"' for r in recipients)
    path.write_text(
        "[mail]\n"
        'sender = "港股 Tracker <tracker@example.com>"\n'
        f"recipients = [{quoted}]\n"
        'subject_prefix = "[weekly]"\n'
        "[smtp]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        'security = "none"\n'
        "timeout_s = 5\n"
        "backoff_s = 0\n" + extra,
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def scorecard(*args: str):
    return runner.invoke(app, ["scorecard", "--as-of", AS_OF, "--offline", *args])


def test_preview_files(home, tmp_path, shared):
    out = tmp_path / "out"
    result = scorecard("--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "scorecard.eml",
        "scorecard.html",
        "scorecard.txt",
    ]
    want = oracle(shared)
    text = (out / "scorecard.txt").read_text("utf-8")
    assert f"  Hit rate (matured):   {want['hit_rate']}" in text.splitlines()
    assert f"^HSI this week:       {want['week']}" in text
    assert f"^HSI YTD:             {want['ytd']}" in text
    tencent = next(line for line in text.splitlines() if "0700.HK" in line and "HIT" in line)
    assert want["tencent"] in tencent
    html = (out / "scorecard.html").read_text("utf-8")
    assert 'src="data:image/png;base64,' in html and want["lenovo"] in html
    eml = email.message_from_bytes(
        (out / "scorecard.eml").read_bytes(), policy=email.policy.default
    )
    assert eml["Subject"].startswith(f"荐股记分卡 Scorecard {WEEK}: 19 calls, 15 matured")
    assert eml.get_content_type() == "multipart/related"


def test_text_to_stdout_without_out_or_send(home, shared):
    result = scorecard()
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"荐股记分卡 · Weekly scorecard {WEEK}"
    assert oracle(shared)["hit_rate"] in result.stdout


def test_send_parse_and_rerun(home, tmp_path, shared):
    handler = Mailroom()
    want = oracle(shared)
    with smtp_server(handler) as server:
        cfg = toml(
            tmp_path / "tracker.toml", server.port, ["陈大文 <chan@example.com>", "ops@example.com"]
        )
        result = scorecard("--send", "--config", str(cfg))
        assert result.exit_code == 0, result.output
        assert len(handler.received) == 2
        rows = {r.recipient: r for r in Outbox.in_home(home).rows(WEEK)}
        lines = result.stdout.splitlines()
        assert lines == [
            f"sent          {r} {rows[r].message_id}"
            for r in ("chan@example.com", "ops@example.com")
        ]

        got = handler.to("chan@example.com")[0]
        msg = got.message
        assert msg["Subject"] == (
            f"[weekly] 荐股记分卡 Scorecard {WEEK}: 19 calls, 15 matured, hit rate"
            f" {want['hit_rate']}, ^HSI {want['week']} this week"
        )
        head = got.raw.split(b"\r\n\r\n", 1)[0]
        subject = head[head.index(b"\r\nSubject: ") :].split(b"\r\n")[1]
        assert subject.isascii() and b"=?utf-8?" in subject  # RFC 2047 on the wire
        assert msg["To"].addresses[0].display_name == "陈大文"
        assert msg["From"].addresses[0].display_name == "港股 Tracker"
        assert msg["Message-ID"] == rows["chan@example.com"].message_id
        assert msg["Date"].datetime.tzinfo is not None
        assert msg.get_content_type() == "multipart/related"
        alternative, image = msg.get_payload()
        plain, html = alternative.get_payload()
        assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
        assert image.get_content_type() == "image/png" and image.get_content()[:4] == b"\x89PNG"
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html.get_content()
        for figure in (want["tencent"], want["lenovo"], want["week"], want["hit_rate"]):
            assert figure in plain.get_content() and figure in html.get_content()
        assert "腾讯控股" in plain.get_content() and "腾讯控股" in html.get_content()

        again = scorecard("--send", "--config", str(cfg))
        assert again.exit_code == 0
        assert [line.split()[0:2] for line in again.stdout.splitlines()] == [
            ["already", "sent"]
        ] * 2
        assert len(handler.received) == 2  # nothing new this week

        forced = scorecard("--send", "--force", "--config", str(cfg))
        assert forced.exit_code == 0 and len(handler.received) == 4
    assert {r.round for r in Outbox.in_home(home).rows(WEEK)} == {0, 1}


def test_refused_recipient_exit_code_after_serving_the_others(home, tmp_path):
    handler = Mailroom(rcpt_replies={"gone@example.com": "550 5.1.1 No such user"})
    with smtp_server(handler) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["gone@example.com", "b@example.com"])
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 69
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["refused", "gone@example.com"],
        ["sent", "b@example.com"],
    ]
    assert result.stderr.splitlines()[-1].startswith(
        "error: gone@example.com refused: 550 5.1.1 No such user. The other recipients were served"
    )
    assert len(handler.to("b@example.com")) == 1


def test_550_exit_code(home, tmp_path):
    handler = Mailroom(data_replies=["550 5.7.1 Rejected"])
    with smtp_server(handler) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com", "b@example.com"])
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 69
    assert result.stderr.splitlines()[-1] == (
        f"error: 127.0.0.1:{server.port} refused the message for a@example.com: 550 5.7.1 Rejected"
        " (permanent, not retried). 0 of 2 recipient(s) served; the next run this week resumes"
        " with the others"
    )
    assert handler.received == []


def test_server_down_exit_code(home, tmp_path):
    with smtp_server(start=False) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com"], max_attempts=2)
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 75
    assert "attempt 1 of 2 failed (Connection refused); retrying in 0 s" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"error: 127.0.0.1:{server.port}: Connection refused for a@example.com after 2 attempt(s)"
    )


def test_451_then_accept_through_the_command(home, tmp_path):
    handler = Mailroom(data_replies=["451 4.3.0 Try again"])
    with smtp_server(handler) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com"])
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 0, result.output
    assert "attempt 1 of 5 failed (451 4.3.0 Try again)" in result.stderr
    assert len(handler.received) == 1 and handler.transactions == 2


def test_newline_in_recipient_is_refused(home, tmp_path):
    cfg = toml(tmp_path / "tracker.toml", 25, ["ok@example.com"])
    text = cfg.read_text("utf-8").replace(
        '"ok@example.com"', '"ok@example.com\\r\\nBcc: spy@example.org"'
    )
    cfg.write_text(text, "utf-8")
    result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{cfg}: mail.recipients.0: address 'ok@example.com\\r\\nBcc: spy@example.org' contains a"
        " line break: refused (header injection)",
        "error: 1 problem found",
    ]


def test_force_needs_send(home):
    result = scorecard("--force")
    assert result.exit_code == 2 and "--force only applies with --send" in result.stderr


def all_bytes(*folders: Path) -> bytes:
    return b"".join(p.read_bytes() for f in folders for p in f.rglob("*") if p.is_file())


@pytest.mark.parametrize("right_password", [True, False], ids=["auth-ok", "auth-refused"])
def test_password_never_leaks(home, tmp_path, monkeypatch, caplog, right_password):
    caplog.set_level("DEBUG")
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", PASSWORD if right_password else PASSWORD + "x")
    handler = Mailroom()
    kw = dict(authenticator=authenticator_for(PASSWORD), auth_require_tls=False, auth_required=True)
    out = tmp_path / "out"
    with smtp_server(handler, **kw) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com"], username=USERNAME)
        result = scorecard("--send", "--out", str(out), "--config", str(cfg))
    if right_password:
        assert result.exit_code == 0, result.output
        assert len(handler.received) == 1
    else:
        assert result.exit_code == 77
        assert (
            "authentication refused: 535 5.7.8 Authentication credentials invalid" in result.stderr
        )
    captured = result.stdout + result.stderr + caplog.text
    assert PASSWORD not in captured
    stored = all_bytes(home, out, tmp_path)
    assert PASSWORD.encode() not in stored
    assert all(PASSWORD.encode() not in r.raw for r in handler.received)


def test_username_without_password_env(home, tmp_path):
    cfg = toml(tmp_path / "tracker.toml", 25, ["a@example.com"], username=USERNAME)
    result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: smtp.username is set but TRACKER_SMTP_PASSWORD is not: export the password in the"
        " environment of the command (never in tracker.toml)"
    )


def test_world_readable_config_with_secret_warns(home, tmp_path):
    handler = Mailroom()
    with smtp_server(handler) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com"], password=PASSWORD)
        cfg.chmod(0o644)
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 0
    assert (
        f"warning: {cfg} is readable by every user (mode 0644) and holds a secret (smtp.password)"
        in result.stderr
    )
    assert PASSWORD not in result.stdout + result.stderr
    assert len(handler.received) == 1
