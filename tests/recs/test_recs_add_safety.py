"""``tracker recs add`` keeps the file as the user wrote it, and never loses a concurrent call.

Form: permission bits, CRLF line ends, a byte-order mark, flow style and the
file's own indentation survive; the new call's problems carry no line number
(its lines are not in the file). Concurrency: processes adding calls to one
file at once all land (the reliability suite tries more of them).
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

REPORT = """\
# a comment that must stay
broker: Caitong Securities
title: 测试报告
published: 2025-09-15
source: test
scale: caitong
recommendations:
{calls}"""

#: One call in three indentation styles; ``{i}`` is the list item's prefix.
BLOCK_CALL = "{i}- name: 美團\n{i}  ticker: 3690.HK\n{i}  rating: attention   # keep me\n"
#: What ``recs add --name 1810 --rating attention`` appends, in the same style.
BLOCK_NEW = "{i}- name: '1810'\n{i}  ticker: 1810.HK\n{i}  rating: attention\n"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "recs" / "scales", tmp_path / "recs" / "scales")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 11, 22))
    return tmp_path


def add(path: Path, *args: str):
    return runner.invoke(app, ["recs", "add", str(path), *args])


@pytest.mark.parametrize("indent", ["", "  ", "    "], ids=["col-0", "two", "four"])
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_add_appends_in_the_files_own_form(project, indent, crlf, bom):
    text = REPORT.format(calls=BLOCK_CALL.format(i=indent))
    expected = text + BLOCK_NEW.format(i=indent)

    def encode(t: str) -> bytes:
        t = t.replace("\n", "\r\n") if crlf else t
        return (b"\xef\xbb\xbf" if bom else b"") + t.encode("utf-8")

    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_bytes(encode(text))
    result = add(path, "--name", "1810", "--rating", "attention")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == encode(expected)


def test_add_keeps_flow_style(project):
    text = REPORT.format(calls="  [{name: 美團, ticker: 3690.HK, rating: attention}]\n").replace(
        "recommendations:\n  [", "recommendations: ["
    )
    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_text(text, encoding="utf-8")
    assert add(path, "--name", "1810", "--rating", "attention").exit_code == 0
    assert path.read_text(encoding="utf-8") == text.replace(
        "attention}]", "attention}, {name: '1810', ticker: 1810.HK, rating: attention}]"
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o444 | 0o200, 0o600, 0o755])
def test_add_keeps_the_permission_bits(project, mode):
    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_text(REPORT.format(calls=BLOCK_CALL.format(i="  ")), encoding="utf-8")
    os.chmod(path, mode)
    assert add(path, "--name", "1810", "--rating", "attention").exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


@pytest.mark.parametrize(
    "args, field, message",
    [
        (["--rating", "强烈买入"], "recommendations.1.rating", "unknown rating '强烈买入'"),
        (["--rating", "attention", "--target", "-3"], "recommendations.1.target.value", ""),
        (["--rating", "attention", "--target", "nan"], "recommendations.1.target.value", ""),
        (
            ["--rating", "attention", "--note", "x\x1by"],
            "recommendations.1.note",
            "control character U+001B",
        ),
    ],
    ids=["rating", "negative-target", "nan-target", "escape-in-note"],
)
def test_a_bad_new_call_names_no_line_and_leaves_the_file(project, args, field, message):
    path = project / "recs" / "2025-09-15-test.yaml"
    text = REPORT.format(calls=BLOCK_CALL.format(i="  "))
    path.write_text(text, encoding="utf-8")
    result = add(path, "--name", "1810", *args)
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    # No line number: "FILE: field: message", not "FILE:12: field: ...", past the file's end.
    assert first.startswith(f"{path}: {field}: {message}"), first
    assert path.read_text(encoding="utf-8") == text


def test_currency_without_target_is_a_usage_error(project):
    path = project / "recs" / "2025-09-15-test.yaml"
    text = REPORT.format(calls=BLOCK_CALL.format(i="  "))
    path.write_text(text, encoding="utf-8")
    result = add(path, "--name", "1810", "--rating", "attention", "--currency", "USD")
    assert result.exit_code == 2
    assert "a currency is only for a target price: add --target" in result.output
    assert path.read_text(encoding="utf-8") == text
    ok = add(path, "--name", "1810", "--rating", "attention", "--target", "9", "--currency", "USD")
    assert ok.exit_code == 0 and "currency: USD" in path.read_text(encoding="utf-8")


def registry_codes(n: int, skip: set[str]) -> list[str]:
    """``n`` codes from the bundled registry (four digits, e.g. ``0005``), not in ``skip``."""
    with open(ROOT / "tracker" / "registry" / "data" / "registry.csv", encoding="utf-8") as fh:
        codes = [
            row["code"][-4:] for row in csv.DictReader(fh) if len(row["code"].lstrip("0")) <= 4
        ]
    return [c for c in codes if f"{c}.HK" not in skip][:n]


def add_at_once(project, home, path, codes, timeout):
    """``tracker recs add`` of each code to ``path``, all started at once; the processes and
    their (stdout, stderr)."""
    env = {**os.environ, "TRACKER_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "recs", "add", str(path)]
            + ["--name", code, "--rating", "attention"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in codes
    ]
    return procs, [p.communicate(timeout=timeout) for p in procs]


def test_concurrent_adds_all_land(project, tracker_home):
    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_text(REPORT.format(calls=BLOCK_CALL.format(i="  ")), encoding="utf-8")
    codes = registry_codes(6, {"3690.HK"})
    procs, outs = add_at_once(project, tracker_home, path, codes, timeout=180)
    assert [p.returncode for p in procs] == [0] * len(codes), outs
    text = path.read_text(encoding="utf-8")
    for code in codes:
        assert text.count(f"ticker: {code}.HK") == 1, code
    assert text.count("ticker: ") == 1 + len(codes)
