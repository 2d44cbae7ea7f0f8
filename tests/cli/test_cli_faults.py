"""Faults at the edges: full disks, output paths that are files, damaged run folders, bounds.

Each case ends in one line ``error: ...`` with its exit code (75 for a full
disk, so that a scheduled run is retried; 1 otherwise) and nothing
half-written. Full disks are made real with ``ulimit -f`` in a subprocess
where the cost is small, and with the OS's own error (ENOSPC, EFBIG) raised
at the write otherwise.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from backtest.test_backtest_runs import files
from cli.test_cli_scorecard import filled_home, home, recs_dir, scorecard, shared, toml  # noqa: F401
from helpers.smtp_server import Mailroom, smtp_server
from typer.testing import CliRunner

from tracker.backtest.runcheck import RunDamaged
from tracker.backtest.runs import COMPARED_STATS, list_runs, load_run, write_run
from tracker.cli import app
from tracker.mailer.outbox import Outbox
from tracker.prices import PriceStore, update_prices
from tracker.prices.csvsource import CsvFolderSource
from tracker.scoring.core import MAX_STALE_SESSIONS
from tracker.storage import DiskFull, NotWritable, output_dir

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
NOW = datetime(2026, 1, 2, 3, 4, 5)
FULL = [errno.ENOSPC, errno.EDQUOT, errno.EFBIG]


def tracker_limited(args: list[str], home_dir: Path, blocks: int, cwd: Path = ROOT):
    """``python -m tracker ARGS`` with files limited to ``blocks`` KiB (``ulimit -f``)."""
    cmd = " ".join(["ulimit -f", str(blocks), "&&", "exec", sys.executable, "-m", "tracker"])
    env = {**os.environ, "TRACKER_HOME": str(home_dir), "_TYPER_STANDARD_TRACEBACK": "1"}
    return subprocess.run(
        ["bash", "-c", cmd + ' "$@"', "tracker", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --------------------------------------------------------------------------- full disk


def test_prices_update_on_a_full_disk_says_so_and_keeps_the_store(tmp_path, shared_dir):
    prices = shared_dir / "data" / "prices"
    here = tmp_path / "home"
    store = PriceStore(here)
    update_prices(
        store,
        CsvFolderSource(prices),
        ["0700.HK"],
        since="2024-01-01",
        until="2024-06-28",
        now="2026-01-05 12:00",
    )
    before = store.read_bars("0700.HK")
    # 16 KiB: the new bars do not fit in the write-ahead log.
    done = tracker_limited(
        [
            "prices",
            "update",
            "0700.HK",
            "--source",
            f"csv:{prices}",
            "--since",
            "2024-01-01",
            "--until",
            "2025-12-31",
        ],
        here,
        16,
    )
    assert done.returncode == 75, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot write {store.path}: ") and "Traceback" not in done.stderr
    assert "the disk, a quota or the file-size limit is full" in last
    assert "cannot rollback" not in done.stderr and "move it away" not in done.stderr
    pd.testing.assert_frame_equal(PriceStore(here).read_bars("0700.HK"), before)


def test_recs_add_on_a_full_disk_leaves_the_file(tmp_path):
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    path = tmp_path / "recs" / "2025-09-15-caitong-ai-race.yaml"
    before = path.read_bytes()
    done = tracker_limited(
        ["recs", "add", str(path), "--name", "1810", "--rating", "attention"],
        tmp_path / "home",
        1,  # 1 KiB: the rewritten file does not fit
        cwd=tmp_path,
    )
    assert done.returncode == 75, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: cannot write {path}: ")
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("code", FULL, ids=errno.errorcode.get)
def test_run_folder_on_a_full_disk_is_one_error_and_no_folder(tmp_path, monkeypatch, code):
    real_open = open

    def full_open(path, mode="r", *a, **k):
        if "w" in mode and str(path).endswith("report.html"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", full_open)
    with pytest.raises(DiskFull) as info:
        write_run(tmp_path, "demo", files(), NOW)
    assert info.value.exit_code == 75
    assert "no run folder was left behind" in str(info.value)
    assert list((tmp_path / "demo").iterdir()) == []


@pytest.mark.parametrize("code", FULL, ids=errno.errorcode.get)
def test_scorecard_preview_on_a_full_disk(home, tmp_path, monkeypatch, code):  # noqa: F811
    def full(*_a, **_k):
        raise OSError(code, os.strerror(code))

    out = tmp_path / "out"
    out.mkdir()
    (out / "scorecard.txt").write_text("last week")
    monkeypatch.setattr("os.fsync", full)  # where a delayed allocation failure shows
    result = scorecard("--out", str(out))
    assert result.exit_code == 75, result.output
    assert result.stderr.splitlines()[-1].startswith(f"error: cannot write {out}/scorecard.")
    # all three files or none: last week's preview stays, no temporary file is left
    assert [p.name for p in out.iterdir()] == ["scorecard.txt"]
    assert (out / "scorecard.txt").read_text() == "last week"


@pytest.mark.parametrize(
    "message", ["database or disk is full", "disk I/O error"], ids=["full", "ioerr"]
)
def test_scorecard_send_on_a_full_disk_exits_75(home, tmp_path, monkeypatch, message):  # noqa: F811
    def full(self, *a, **k):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(Outbox, "_record", full)
    with smtp_server(Mailroom()) as server:
        cfg = toml(tmp_path / "tracker.toml", server.port, ["a@example.com"])
        result = scorecard("--send", "--config", str(cfg))
    assert result.exit_code == 75, result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: cannot write ") and "outbox.sqlite3" in last
    assert server.handler.received == []  # nothing went out unrecorded


@pytest.mark.parametrize(
    "message, advice",
    [
        ("disk I/O error", "free some space"),
        ("database or disk is full", "free some space"),
        ("file is not a database", "move it away"),
        ("database disk image is malformed", "move it away"),
    ],
)
def test_store_failures_get_their_own_advice(tmp_path, message, advice):
    from tracker.prices.store import _store_error

    err = _store_error(tmp_path / "prices.sqlite", sqlite3.DatabaseError(message), reading=True)
    assert advice in str(err)
    assert ("move it away" in str(err)) == (advice == "move it away")


# --------------------------------------------------------------------------- output paths


@pytest.mark.parametrize("shape", ["file", "under-file", "deep-under-file"])
def test_output_dir_refuses_files(tmp_path, shape):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    target = {"file": blocker, "under-file": blocker / "sub", "deep-under-file": blocker / "a/b"}
    with pytest.raises(NotWritable) as info:
        output_dir(target[shape], "--out")
    assert f"{blocker} is a file, not a folder" in str(info.value)
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("sub", ["", "sub", "sub/deeper"])
def test_scorecard_out_that_is_a_file(home, tmp_path, sub):  # noqa: F811
    blocker = tmp_path / "taken.txt"
    blocker.write_text("keep me")
    result = scorecard("--out", str(blocker / sub) if sub else str(blocker))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].endswith(
        f"{blocker} is a file, not a folder; give a folder to write into"
    )
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize("sub", ["", "sub"])
def test_runs_dir_that_is_a_file(tmp_path, sub):
    blocker = tmp_path / "runs"
    blocker.write_text("x")
    with pytest.raises(NotWritable):
        write_run(blocker / sub if sub else blocker, "demo", files(), NOW)


# --------------------------------------------------------------------------- run folders


def damage(run: Path, name: str, how: str) -> None:
    path = run / name
    text = path.read_text(encoding="utf-8")
    if how == "string-stat":
        data = json.loads(text)
        data["total_return"] = "0.1"
        path.write_text(json.dumps(data))
    elif how == "bool-stat":
        data = json.loads(text)
        data["trades"] = True
        path.write_text(json.dumps(data))
    elif how == "bench-string":
        data = json.loads(text)
        data["benchmark"] = "HSI"
        path.write_text(json.dumps(data))
    elif how == "list":
        path.write_text("[1, 2]\n")
    elif how == "empty":
        path.write_text("")
    elif how == "empty-object":
        path.write_text("{}\n")
    elif how == "cut":
        path.write_text(text[: len(text) - 3])
    elif how == "no-column":
        path.write_text(text.replace("call_id", "callid").replace("portfolio", "portf"))
    elif how == "ragged":
        path.write_text(text + "x,y,z,extra\n")


DAMAGES = [
    ("stats.json", "string-stat", "stats.json: total_return is '0.1', not a number"),
    ("stats.json", "bool-stat", "stats.json: trades is True, not a number"),
    ("stats.json", "list", "stats.json: expected a JSON object of fields, found a list"),
    ("stats.json", "bench-string", "stats.json: benchmark is 'HSI', not an object of figures"),
    ("stats.json", "cut", "stats.json: not JSON"),
    ("manifest.json", "empty", "manifest.json: empty"),
    ("manifest.json", "empty-object", "manifest.json: expected a JSON object of fields"),
    ("manifest.json", "list", "manifest.json: expected a JSON object of fields, found a list"),
    ("trades.csv", "cut", "trades.csv: cut short"),
    ("trades.csv", "no-column", "trades.csv: missing column(s) call_id"),
    ("trades.csv", "ragged", "trades.csv: row 3 has 4 fields, the header 2"),
    ("trades.csv", "empty", "trades.csv: cut short"),
    ("equity.csv", "cut", "equity.csv: cut short"),
    ("equity.csv", "no-column", "equity.csv: missing column(s) portfolio"),
]


@pytest.mark.parametrize("name, how, problem", DAMAGES, ids=[f"{n}-{h}" for n, h, _ in DAMAGES])
def test_damaged_run_is_named_and_left_out(tmp_path, name, how, problem):
    good = write_run(tmp_path, "demo", files(), NOW)
    bad = write_run(tmp_path, "demo", files(total_return=0.2), NOW)
    damage(bad, name, how)
    with pytest.raises(RunDamaged) as info:
        load_run(bad)
    assert str(info.value).startswith(f"{bad} is damaged: ") and problem in str(info.value)
    assert [r.path for r in list_runs(tmp_path)] == [good]
    # compare through the command: one line, exit 1, never half a comparison
    result = runner.invoke(app, ["backtest", "compare", str(good), str(bad)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(f"error: {bad} is damaged: ")
    assert result.stdout == ""


def test_whole_runs_pass_the_check(tmp_path):
    run = write_run(tmp_path, "demo", files(calls=("a#1", "b#2", "c,d#3")), NOW)
    assert load_run(run).stats["trades"] == 3
    assert set(COMPARED_STATS) >= {"total_return", "trades"}


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize("value", [MAX_STALE_SESSIONS + 1, 10**7, 2**31, 10**12])
def test_max_stale_has_an_upper_bound(value):
    result = runner.invoke(app, ["score", "--offline", "--max-stale", str(value)])
    assert result.exit_code == 2
    assert "--max-stale" in result.output and "2460" in result.output


def test_max_stale_bound_in_the_library():
    from tracker.errors import ScoringInputError
    from tracker.scoring.core import REQUIRED_CALL_COLUMNS, _check_arguments

    calls = pd.DataFrame(columns=list(REQUIRED_CALL_COLUMNS))
    for bad in (-1, MAX_STALE_SESSIONS + 1, 10**12, True):
        with pytest.raises(ScoringInputError, match="from 0 to 2460"):
            _check_arguments(calls, None, None, "next-close", bad)
    _check_arguments(calls, None, None, "next-close", MAX_STALE_SESSIONS)  # the bound itself


# --------------------------------------------------------------------------- no calls


@pytest.mark.parametrize("as_of", ["2020-01-01", "2025-05-05", "2000-01-03"])
def test_backtest_as_of_before_every_call_selects_nothing_cleanly(tmp_path, as_of, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"
    result = runner.invoke(
        app,
        ["backtest", "run", str(spec), "--as-of", as_of, "--offline", "--runs-dir", str(tmp_path)],
    )
    assert result.exit_code == 1, result.output
    # Before 2025-05-06 (Huaan's first call) other brokers' calls may be known, never Huaan's.
    assert re.match(
        rf"error: spec 'huaan-hk-internet-2025' selects none of the \d+ calls known on {as_of}",
        result.stderr.splitlines()[-1],
    )


def test_filtering_an_empty_book_keeps_its_columns():
    from tracker.recs.book import CALL_COLUMNS, filter_calls

    empty = pd.DataFrame(columns=CALL_COLUMNS)
    out = filter_calls(empty, brokers=["Huaan Securities"])
    assert list(out.columns) == CALL_COLUMNS and out.empty
