"""``tracker recs add``: processes at once on one file, and the file's own form.

Concurrency: several ``tracker recs add`` processes start together on one
report file, each adding its own call; every call must be in the file
afterwards, once, and the file must still validate (anything less is data
lost). Form: a report written with each indentation style, CRLF or LF line
ends, with or without a byte-order mark, in flow style, with each permission
mode, gets a call; its bytes must be exactly the old ones plus the new call
in the same form, and its mode unchanged.
"""

from __future__ import annotations

import os
import shutil
import stat
from datetime import date
from pathlib import Path

import pytest
from recs.test_recs_add_safety import BLOCK_CALL, BLOCK_NEW, REPORT, add_at_once, registry_codes
from typer.testing import CliRunner

from reliability.ledger import CRASH, DATA_LOST, DUPLICATE, INTACT, check
from reliability.profile import LONG, cases
from tracker.cli import app
from tracker.recs.book import load_book

ROOT = Path(__file__).resolve().parents[2]
CONCURRENT = "concurrency: recs add on one file"
FORM = "recs add: the file keeps its form"
runner = CliRunner()


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "recs" / "scales", tmp_path / "recs" / "scales")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 11, 22))
    return tmp_path


@pytest.mark.parametrize("round_", range(cases(1, 3)))
def test_adds_at_once_all_land(project, tracker_home, round_):
    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_text(REPORT.format(calls=BLOCK_CALL.format(i="  ")), encoding="utf-8")
    n = cases(8, 12)
    codes = registry_codes(n, {"3690.HK"})
    procs, outs = add_at_once(project, tracker_home, path, codes, timeout=300)
    name = f"round {round_ + 1}: {n} processes"
    bad = [err for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0]
    if bad:
        check(CONCURRENT, CRASH, name, bad[0][-300:])
    text = path.read_text(encoding="utf-8")
    missing = [c for c in codes if f"ticker: {c}.HK" not in text]
    twice = [c for c in codes if text.count(f"ticker: {c}.HK") > 1]
    if missing:
        check(CONCURRENT, DATA_LOST, name, f"lost: {missing}")
    if twice:
        check(CONCURRENT, DUPLICATE, name, f"twice: {twice}")
    calls = load_book(project / "recs", today=date(2026, 11, 22)).call_records()
    check(CONCURRENT, INTACT if len(calls) == n + 1 else DATA_LOST, name, f"{len(calls)} calls")


INDENTS = ["", "  ", "    "]
MODES = [0o644, 0o600, 0o664] + ([0o640, 0o444 | 0o200, 0o755] if LONG else [])


@pytest.mark.parametrize("mode", MODES, ids=oct)
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("indent", INDENTS + ["flow"], ids=["col-0", "two", "four", "flow"])
def test_file_form_survives(project, indent, crlf, bom, mode):
    if indent == "flow":
        text = REPORT.format(calls="").replace(
            "recommendations:\n",
            "recommendations: [{name: 美團, ticker: 3690.HK, rating: attention}]\n",
        )
        expected = text.replace(
            "attention}]", "attention}, {name: '1810', ticker: 1810.HK, rating: attention}]"
        )
    else:
        text = REPORT.format(calls=BLOCK_CALL.format(i=indent))
        expected = text + BLOCK_NEW.format(i=indent)

    def encode(t: str) -> bytes:
        t = t.replace("\n", "\r\n") if crlf else t
        return (b"\xef\xbb\xbf" if bom else b"") + t.encode("utf-8")

    path = project / "recs" / "2025-09-15-test.yaml"
    path.write_bytes(encode(text))
    os.chmod(path, mode)
    result = runner.invoke(
        app, ["recs", "add", str(path), "--name", "1810", "--rating", "attention"]
    )
    name = f"{indent or 'col-0'} {'crlf' if crlf else 'lf'} {'bom' if bom else ''} {oct(mode)}"
    if result.exit_code != 0:
        check(FORM, CRASH, name, result.output[-300:])
    same = path.read_bytes() == encode(expected)
    kept = stat.S_IMODE(path.stat().st_mode) == mode
    check(FORM, INTACT if same and kept else DATA_LOST, name, f"bytes kept: {same}, mode: {kept}")
