"""Documents that leave the machine (the e-mail, the text scorecard, the backtest report)
say staleness in one sentence and never show a local path."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.redact import without_local_paths

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
#: Any absolute POSIX path of two parts or more, as a recipient would see it.
ABSOLUTE = re.compile(r"(?<![\w./:])/[\w.-]+/[\w./-]+")
#: Inline images (base64 holds "/" too).
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def local_path_in(text: str) -> str | None:
    found = ABSOLUTE.search(DATA_URI.sub("", text))
    return found.group(0) if found else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("source csv:/srv/tracker/prices", "source csv:prices", id="csv-source"),
        pytest.param(
            "/tmp/x/bad/0700.HK.csv:3: date: bad", "0700.HK.csv:3: date: bad", id="problem"
        ),
        pytest.param("spec C:\\data\\huaan.yaml ok", "spec huaan.yaml ok", id="windows"),
        pytest.param("see ~/data/p.csv", "see p.csv", id="home"),
        pytest.param(
            "https://www.hkex.com.hk/a/b.xlsx", "https://www.hkex.com.hk/a/b.xlsx", id="url"
        ),
        pytest.param(
            "backtests/huaan.yaml, 1/2, +/-", "backtests/huaan.yaml, 1/2, +/-", id="relative"
        ),
    ],
)
def test_local_paths_are_cut_to_their_last_part(text, expected):
    assert without_local_paths(text) == expected


@pytest.fixture
def prices_dir(shared_dir) -> Path:
    return shared_dir / "data" / "prices"


def _texts_of_eml(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def test_scorecard_files_say_staleness_once_without_paths(
    tmp_path, tracker_home, monkeypatch, prices_dir
):
    monkeypatch.setenv("TRACKER_RECS_DIR", str(ROOT / "recs"))
    out = tmp_path / "out"
    # The files end in 2026-08; a week in 2026-11 finds every series stale.
    result = runner.invoke(
        app,
        ["scorecard", "--out", str(out), "--as-of", "2026-11-20", "--source", f"csv:{prices_dir}"],
    )
    assert result.exit_code == 0, result.output
    texts = {
        "scorecard.txt": (out / "scorecard.txt").read_text(),
        "scorecard.html": (out / "scorecard.html").read_text(),
        "scorecard.eml": _texts_of_eml(out / "scorecard.eml"),
    }
    for name, text in texts.items():
        assert str(prices_dir) not in text, name
        assert local_path_in(text) is None, name
        assert "source csv:" not in text, name
    txt = texts["scorecard.txt"]
    stale_lines = [line for line in txt.splitlines() if "sessions before" in line]
    assert len(stale_lines) == 1, stale_lines
    # The sentence may go on to name series with no prices at all (the book's own calls).
    assert re.match(
        r"\d+( of \d+)? price series end between 20\d\d-\d\d-\d\d and 2026-08-26,"
        r" \d+ to \d+ sessions before 2026-11-20[.;]",
        stale_lines[0],
    )


@pytest.mark.parametrize(
    "command",
    [["run"], ["sweep", "--vary", "entry_delay_sessions=0,2", "--vary", "costs=on,off"]],
    ids=["run", "sweep"],
)
def test_backtest_report_has_no_local_path(
    tmp_path, tracker_home, monkeypatch, prices_dir, command
):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    spec = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"  # an absolute path on purpose
    runs = tmp_path / "runs"
    result = runner.invoke(
        app,
        [
            "backtest",
            command[0],
            str(spec),
            *command[1:],
            "--source",
            f"csv:{prices_dir}",
            "--runs-dir",
            str(runs),
        ],
    )
    assert result.exit_code == 0, result.output
    report = next(runs.glob("*/*/report.html")).read_text()
    assert str(prices_dir) not in report and str(ROOT) not in report
    assert local_path_in(report) is None
    # The manifest keeps what reproduces the run; the report shows the file's name.
    assert "huaan-hk-internet-2025.yaml" in report
    assert report.count("sessions before") <= 1
