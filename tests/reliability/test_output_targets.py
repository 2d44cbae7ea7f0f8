"""Every command that writes a path, given a path it cannot write.

**output paths** (this file's cases): each option or setting that names where a
command writes (``recs extract -o``, ``recs import``'s calls folder,
``registry import``'s and ``prices update``'s home, ``backtest run/sweep
--runs-dir``, the numba cache in the home, ``scorecard --out``) is given a
file, a path under a file, and a read-only folder. The answer must be exit 1,
exactly one ``error: ...`` line naming the path, no traceback, and nothing
written anywhere: the file is untouched and the read-only folder is as before.

**faults: full disk** (second half): the same commands' writes meet ENOSPC at
each file's ``fsync`` (where a delayed allocation failure shows): exit 75, one
line, and every file the command would have written is as before (their files
change all together or not at all).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from helpers.readonly import read_only_folder
from typer.testing import CliRunner

from reliability.ledger import CLEAN_ERROR, COMPLETED, CRASH, DATA_LOST, INTACT, check
from tracker.cli import app

PATHS = "output paths"
DISK = "faults: full disk"
ROOT = Path(__file__).resolve().parents[2]
SPEC = "huaan-hk-internet-2025.yaml"
runner = CliRunner()


@dataclass(frozen=True)
class Command:
    """A command writing under ``target``: its arguments and environment."""

    name: str
    build: Callable[[Path, Path, Path], tuple[list[str], dict[str, str]]]


def _extract_folder(shared: Path, project: Path, target: Path):
    report = shared / "reports" / "huaan-hk-internet-ai.txt"
    return ["recs", "extract", str(report), "--date", "2025-05-06", "-o", f"{target}/"], {}


def _extract_file(shared: Path, project: Path, target: Path):
    report = shared / "reports" / "huaan-hk-internet-ai.txt"
    out = str(target / "draft.yaml")
    return ["recs", "extract", str(report), "--date", "2025-05-06", "-o", out], {}


def _recs_import(shared: Path, project: Path, target: Path):
    sheet = project / "calls.csv"
    sheet.write_text("date,broker,company,rating\n2025-03-04,UBS,00700,Buy\n", encoding="utf-8")
    return ["recs", "import", str(sheet)], {"TRACKER_RECS_DIR": str(target)}


def _registry_import(shared: Path, project: Path, target: Path):
    listing = shared / "data" / "hkex" / "securities.csv"
    return ["registry", "import", str(listing)], {"TRACKER_HOME": str(target)}


def _prices_update(shared: Path, project: Path, target: Path):
    args = ["prices", "update", "0700.HK", "--source", f"csv:{shared / 'data' / 'prices'}"]
    return args + ["--since", "2025-01-02", "--until", "2025-01-31"], {"TRACKER_HOME": str(target)}


def _backtest_run(shared: Path, project: Path, target: Path):
    spec = project / "backtests" / SPEC
    return ["backtest", "run", str(spec), "--offline", "--runs-dir", str(target)], {}


def _backtest_sweep(shared: Path, project: Path, target: Path):
    spec = project / "backtests" / SPEC
    args = ["backtest", "sweep", str(spec), "--vary", "costs=on,off", "--offline"]
    return args + ["--runs-dir", str(target)], {}


def _numba_cache(shared: Path, project: Path, target: Path):
    # The cache folder lives in the home unless NUMBA_CACHE_DIR is set (unset by the test).
    spec = project / "backtests" / SPEC
    return ["backtest", "run", str(spec), "--offline"], {"TRACKER_HOME": str(target)}


def _scorecard(shared: Path, project: Path, target: Path):
    return ["scorecard", "--offline", "--as-of", "2025-09-30", "--out", str(target)], {}


COMMANDS = [
    Command("recs extract -o DIR/", _extract_folder),
    Command("recs extract -o DIR/draft.yaml", _extract_file),
    Command("recs import (calls folder)", _recs_import),
    Command("registry import (home)", _registry_import),
    Command("prices update (home)", _prices_update),
    Command("backtest run --runs-dir", _backtest_run),
    Command("backtest sweep --runs-dir", _backtest_sweep),
    Command("backtest run (numba cache in the home)", _numba_cache),
    Command("scorecard --out", _scorecard),
]
SHAPES = ["file", "under-file", "read-only"]


@pytest.fixture
def project(tmp_path, monkeypatch, shared_dir) -> Path:
    """Working directory with the bundled calls and the spec; no numba cache variable."""
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    (tmp_path / "backtests").mkdir()
    shutil.copy(ROOT / "backtests" / SPEC, tmp_path / "backtests" / SPEC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 12, 4))
    return tmp_path


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` with its bytes; lock files are not output."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if not p.name.endswith(".lock")
    }


def _one_error_line(result, exit_code: int) -> str | None:
    """Why ``result`` is not one clean ``error:`` line with ``exit_code``; None if it is."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{type(result.exception).__name__}: {result.exception}"
    if result.exit_code != exit_code:
        return f"exit {result.exit_code}: {result.stderr[-300:]!r}"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    if len(errors) != 1 or not result.stderr.splitlines()[-1].startswith("error: "):
        return f"not one error line: {result.stderr[-300:]!r}"
    if "Traceback" in result.stderr + result.stdout:
        return "traceback"
    return None


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_unwritable_output_path(project, shared_dir, command, shape):
    blocker = project / "taken"
    blocker.write_bytes(b"keep me\n")
    if command.name.startswith("recs import") and shape == "read-only":
        # A read-only calls folder that holds the scales, as a real one would.
        shutil.copytree(ROOT / "recs" / "scales", project / "ro" / "scales")
    target = {"file": blocker, "under-file": blocker / "sub", "read-only": project / "ro"}[shape]
    args, env = command.build(shared_dir, project, target)
    case = f"{command.name}: {shape}"
    if shape == "read-only":
        with read_only_folder(project / "ro") as ro:
            before = _tree(ro)
            result = runner.invoke(app, args, env=env)
            after = _tree(ro)
    else:
        before = after = None
        result = runner.invoke(app, args, env=env)
    why = _one_error_line(result, 1)
    if why is not None:
        check(PATHS, CRASH, case, why)
    last = result.stderr.splitlines()[-1]
    named = str(blocker) in last if shape != "read-only" else str(project / "ro") in last
    if not named:
        check(PATHS, CRASH, case, f"the path is not named: {last!r}")
    intact = blocker.read_bytes() == b"keep me\n" and before == after
    check(PATHS, CLEAN_ERROR if intact else DATA_LOST, case, last)


# --------------------------------------------------------------------------- full disk


def _full_at(monkeypatch, n: int) -> None:
    """The ``n``-th ``os.fsync`` (from 1) and every later one fail with ENOSPC."""
    real, calls = os.fsync, [0]

    def fsync(fd):
        calls[0] += 1
        if calls[0] >= n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _with_earlier_output(project: Path, name: str, target: Path) -> None:
    """What an earlier run left in ``target``, which a failed run must not change."""
    if name.startswith("recs extract"):
        target.mkdir(parents=True)
        (target / "scales").mkdir()
    elif name.startswith("scorecard"):
        target.mkdir(parents=True)
        for f in ("scorecard.html", "scorecard.txt", "scorecard.eml"):
            (target / f).write_text(f"last week's {f}\n")
    elif name.startswith("registry"):
        target.mkdir(parents=True)
        (target / "registry.csv").write_text("code,name_en,board_lot,category\n")
    elif name.startswith("recs import"):
        shutil.copytree(ROOT / "recs" / "scales", target / "scales")


#: Commands whose every file goes through one all-or-nothing write, and how many files.
FULL_DISK = [
    (COMMANDS[0], 2),  # the draft and the report's new scale
    (COMMANDS[1], 2),
    (COMMANDS[2], 1),  # one broker and day: one calls file
    (COMMANDS[3], 1),  # registry.csv
    (COMMANDS[-1], 3),  # scorecard.html, .txt and .eml
]


@pytest.mark.parametrize(
    "command, files, at",
    [(c, files, at) for c, files in FULL_DISK for at in range(1, files + 1)],
    ids=lambda v: v.name if isinstance(v, Command) else str(v),
)
def test_full_disk_leaves_every_file_as_it_was(
    project, shared_dir, monkeypatch, command, files, at
):
    target = project / "out"
    _with_earlier_output(project, command.name, target)
    args, env = command.build(shared_dir, project, target)
    before = _tree(target)
    _full_at(monkeypatch, at)
    result = runner.invoke(app, args, env=env)
    monkeypatch.undo()
    case = f"{command.name}: ENOSPC at file {at} of {files}"
    why = _one_error_line(result, 75)
    if why is not None:
        check(DISK, CRASH, case, why)
    after = _tree(target)
    check(DISK, INTACT if after == before else DATA_LOST, case, result.stderr.splitlines()[-1])


@pytest.fixture(scope="module")
def priced_home(tmp_path_factory, shared_dir) -> Path:
    """A home whose store holds the shared prices the Huaan spec needs (built once)."""
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource

    prices = shared_dir / "data" / "prices"
    home = tmp_path_factory.mktemp("priced")
    symbols = [p.name.removesuffix(".csv") for p in sorted(prices.glob("*.HK.csv"))] + ["^HSI"]
    update_prices(
        PriceStore(home),
        CsvFolderSource(prices),
        symbols,
        since="2025-04-01",
        until="2025-12-31",
        now="2026-01-05 12:00",
    )
    return home


@pytest.mark.parametrize(
    "args",
    [["run"], ["sweep", "--vary", "costs=on,off"]],
    ids=["backtest run", "backtest sweep"],
)
def test_numba_cache_on_a_full_disk(priced_home, tmp_path, monkeypatch, args):
    """A full disk while numba writes its kernels is exit 75, one line, no run folder. With
    vectorbt's Rust kernels a small run may compile nothing: it then completes, its run
    folder whole, and nothing reached the fault."""
    from cli.test_cli_faults import tracker_limited

    home = tmp_path / "home"
    shutil.copytree(priced_home, home)  # without a numba cache: every kernel is written
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    runs = tmp_path / "runs"
    # 64 KiB: room for the store's shared memory file, not for numba's compiled kernels.
    done = tracker_limited(
        ["backtest", args[0], str(ROOT / "backtests" / SPEC), *args[1:], "--offline"]
        + ["--runs-dir", str(runs)],
        home,
        64,
    )
    case = f"{' '.join(args[:1])}: numba cache under ulimit -f 64"
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    clean = (
        done.returncode == 75
        and "Traceback" not in done.stderr
        and last.startswith(f"error: cannot write the numba cache in {home / 'numba-cache'}: ")
        and "no run folder was written" in last
    )
    left = [p for p in runs.rglob("*") if p.is_file()] if runs.exists() else []
    completed = (
        done.returncode == 0
        and "Traceback" not in done.stderr
        and any(p.name == "report.html" for p in left)
        and any(p.name == "manifest.json" for p in left)
    )
    if completed:
        check(DISK, COMPLETED, case, "nothing compiled: the run completed whole")
        return
    if not clean:
        check(DISK, CRASH, case, f"exit {done.returncode}: {done.stderr[-300:]!r}")
    check(DISK, INTACT if not left else DATA_LOST, case, last)
