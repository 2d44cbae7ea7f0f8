"""SIGKILL while a backtest run is being written: ``tracker backtest list`` shows only whole runs.

A run's output is written by :func:`tracker.backtest.runs.write_run` (files
into a hidden folder, then one rename). A child process writes runs of known
content (five files of about 1 MB each, so the write takes a while) and is
killed at an instant drawn uniformly over its write; then ``tracker backtest
list --format json`` must exit 0 and every run it lists must hold exactly the
five files the writer meant, byte for byte. In the long profile, whole
``tracker backtest run`` processes on real prices are killed at random
instants too, and every run listed must load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reliability.crash_util import ROOT, copy_home, run_files, tracker_process
from reliability.ledger import CRASH, DATA_LOST, INTACT, RECOVERED, check
from reliability.profile import LONG, cases, rng
from tracker.backtest.runs import RUN_FILES, is_complete
from tracker.cli import app

CATEGORY = "crash: backtest run output"
SPEC = "crash-spec"
runner = CliRunner()

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path

    sys.path.insert(0, sys.argv[3])
    from reliability.crash_util import run_files
    from tracker.backtest.runs import write_run

    runs, k = Path(sys.argv[1]), int(sys.argv[2])
    files = run_files(k)
    print("WRITING", flush=True)
    final = write_run(runs, "crash-spec", files, datetime(2026, 1, 5, 12, k // 60, k % 60))
    print("DONE", final, flush=True)
    """
)


def start_writer(runs: Path, k: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(runs), str(k), str(ROOT / "tests")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def listed(runs: Path) -> tuple[list[dict] | None, str]:
    result = runner.invoke(app, ["backtest", "list", "--runs-dir", str(runs), "--format", "json"])
    if (
        result.exit_code != 0
        or result.exception is not None
        and not isinstance(result.exception, SystemExit)
    ):
        return None, f"exit {result.exit_code}: {result.stderr[-300:]} {result.exception!r}"
    try:
        return json.loads(result.stdout), ""
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc}"


def whole(run_dir: Path) -> bool:
    """The folder holds exactly the files its writer meant, byte for byte."""
    try:
        k = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError):
        return False
    expected = run_files(k)
    return sorted(p.name for p in run_dir.iterdir()) == sorted(RUN_FILES) and all(
        (run_dir / name).read_bytes() == content.encode() for name, content in expected.items()
    )


def test_kill_while_a_run_is_written(tmp_path):
    runs = tmp_path / "backtests" / "runs"
    # Time one whole write (from the child's "WRITING" to its "DONE").
    proc = start_writer(runs, 0)
    assert proc.stdout.readline().startswith("WRITING"), proc.communicate()
    t0 = time.monotonic()
    assert proc.stdout.readline().startswith("DONE"), proc.communicate()
    span = time.monotonic() - t0
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    random = rng("backtest-output")
    finished = 1
    for k in range(1, cases(4, 60) + 1):
        proc = start_writer(runs, k)
        assert proc.stdout.readline().startswith("WRITING"), proc.communicate()
        time.sleep(random.uniform(0.0, span))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        finished += "DONE" in out
        rows, problem = listed(runs)
        leftovers = len(list((runs / SPEC).glob(".incomplete-*")))
        name = (
            f"kill {k} ({'finished' if 'DONE' in out else 'killed'} write;"
            f" {leftovers} unfinished folders left)"
        )
        if rows is None:
            check(CATEGORY, CRASH, name, problem)
            continue
        partial = [r["path"] for r in rows if not whole(Path(r["path"]))]
        check(
            CATEGORY,
            DATA_LOST if partial else INTACT,
            name,
            f"listed but partial: {partial}" if partial else f"{len(rows)} whole runs listed",
        )
        if len(rows) < finished:
            check(CATEGORY, DATA_LOST, name, f"{finished} runs finished, {len(rows)} listed")
    # After the kills, a new write still succeeds and is listed.
    proc = start_writer(runs, 999)
    out, err = proc.communicate(timeout=120)
    rows, problem = listed(runs)
    final = out.split("DONE ", 1)[-1].strip()
    ok = (
        proc.returncode == 0
        and rows is not None
        and any(Path(r["path"]).resolve() == Path(final).resolve() for r in rows)
    )
    check(CATEGORY, RECOVERED if ok else CRASH, "a write after the kills", problem or err[-300:])


# --------------------------------------------------------------------------- whole runs (long)


@pytest.mark.skipif(not LONG, reason="long profile only: each case is a whole backtest process")
def test_kill_whole_backtest_runs(price_homes, tmp_path):
    home = copy_home(price_homes.base, tmp_path / "home")
    project = tmp_path / "project"
    import shutil

    shutil.copytree(ROOT / "recs", project / "recs")
    shutil.copytree(
        ROOT / "backtests", project / "backtests", ignore=shutil.ignore_patterns("runs")
    )
    spec = "backtests/huaan-hk-internet-2025.yaml"
    runs = project / "backtests" / "runs"
    args = ["backtest", "run", spec, "--offline"]
    # The first run compiles vectorbt's kernels into the home's numba cache; time the second.
    for _ in range(2):
        t0 = time.monotonic()
        proc = tracker_process(args, home, cwd=project)
        out, err = proc.communicate(timeout=600)
        span = time.monotonic() - t0
        assert proc.returncode == 0, err
    random = rng("backtest-runs")
    for k in range(cases(0, 15)):
        proc = tracker_process(args, home, cwd=project)
        time.sleep(random.uniform(0.3 * span, span))
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        result = runner.invoke(
            app, ["backtest", "list", "--runs-dir", str(runs), "--format", "json"]
        )
        name = f"whole run {k + 1} ({'killed' if killed else 'finished'})"
        if result.exit_code != 0:
            check(CATEGORY, CRASH, name, result.stderr[-300:])
            continue
        rows = json.loads(result.stdout)
        partial = [
            r["path"]
            for r in rows
            if not is_complete(Path(r["path"]))
            or not all((Path(r["path"]) / f).stat().st_size > 0 for f in RUN_FILES)
        ]
        check(
            CATEGORY,
            DATA_LOST if partial else INTACT,
            name,
            f"listed but partial: {partial}" if partial else f"{len(rows)} complete runs listed",
        )
