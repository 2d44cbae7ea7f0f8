"""The console script's exit: the command's code and output, then no final garbage walk."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import atexit, gc, sys
    # Registered first, so it runs last: after the command and anything it registered.
    atexit.register(lambda: sys.stderr.write(f"frozen={gc.get_freeze_count()}\\n"))
    from tracker.cli import main
    sys.argv = ["tracker", *sys.argv[1:]]
    main()
    """
)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], cwd=ROOT, capture_output=True, text=True
    )


def test_a_command_that_succeeds_keeps_its_output_and_code_and_freezes_the_heap():
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("tracker ")
    frozen = int(out.stderr.split("frozen=")[1])
    assert frozen > 10_000  # every object the process held, moved out of the last collection


def test_a_command_that_fails_keeps_its_message_and_code(tmp_path):
    missing = tmp_path / "missing.yaml"
    out = _run("backtest", "run", str(missing))
    assert out.returncode == 1
    assert f"{missing}: cannot read file" in out.stderr
    assert "error: 1 problem found" in out.stderr
    assert int(out.stderr.split("frozen=")[1]) > 10_000


def test_the_cache_lives_in_an_existing_home_and_makes_no_home(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tracker.cli import app

    monkeypatch.chdir(ROOT)
    missing = tmp_path / "no-such-home"
    monkeypatch.setenv("TRACKER_HOME", str(missing))
    assert CliRunner().invoke(app, ["recs", "list"]).exit_code == 0
    assert not missing.exists()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TRACKER_HOME", str(home))
    assert CliRunner().invoke(app, ["recs", "list"]).exit_code == 0
    # one parse kept per call file and scale of the book
    n_files = len(list((ROOT / "recs").rglob("*.yaml")))
    assert len(list((home / "cache" / "yaml").glob("*.json"))) == n_files
