"""Transfer faults of the price feed, full disks, damaged run folders.

**prices: curl transfer faults.** curl_cffi's own exception for each curl error
code (its ``code2error`` table) is raised 0..4 times in a row underneath
yfinance's request code, then Yahoo answers. Transient codes must be retried
to the full result (recovered) or, past the retries, fail cleanly as the
symbol's reason; a host that does not resolve is unreachable at once. An
answer without ``adjclose`` must be stored with the adjusted close unknown.

**faults: full disk.** ``tracker prices update`` and ``tracker recs add`` run
under ``ulimit -f`` limits small enough to fail their writes, and run folders
and previews meet ENOSPC, EDQUOT or EFBIG at each of their files: one line,
exit 75, the store, the file or the runs folder exactly as before.

**backtest: damaged run folders.** Each file of a run damaged in each way a
copy or a hand edit can: ``backtest compare`` and ``backtest list`` answer with
one line naming the file, and never compare half a run.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from backtest.test_backtest_runs import files
from cli.test_cli_faults import DAMAGES, damage, tracker_limited
from curl_cffi.const import CurlECode
from prices.test_prices_yahoo import BARS, TENCENT, D, Sleeps, fresh_yfinance, make_source  # noqa: F401
from prices.test_prices_yahoo_curl import NoAdjClose, curl_error
from typer.testing import CliRunner

from reliability.ledger import CLEAN_ERROR, COMPLETED, CRASH, DATA_LOST, INTACT, RECOVERED, check
from reliability.profile import LONG
from tracker.backtest.runs import list_runs, write_run
from tracker.cli import app
from tracker.prices import PriceStore, update_prices
from tracker.prices.csvsource import CsvFolderSource
from tracker.prices.source import FetchFailed, SourceUnreachable
from tracker.prices.yahoo import RetryPolicy, YahooSource, yahoo_session
from tracker.storage import DiskFull

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

FEED = "prices: curl transfer faults"
DISK = "faults: full disk"
RUNS = "backtest: damaged run folders"
ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
runner = CliRunner()

TRANSIENT_CODES = [
    CurlECode.HTTP2_STREAM,
    CurlECode.HTTP2,
    CurlECode.PARTIAL_FILE,
    CurlECode.OPERATION_TIMEDOUT,
    CurlECode.GOT_NOTHING,
    CurlECode.SEND_ERROR,
    CurlECode.RECV_ERROR,
    CurlECode.COULDNT_CONNECT,
]
ATTEMPTS = 3


@pytest.mark.parametrize("times", range(ATTEMPTS + 2))
@pytest.mark.parametrize("code", TRANSIENT_CODES, ids=lambda c: c.name)
def test_curl_fault_then_answer(code, times):
    exc = [curl_error(code, f"curl says {code.name}") for _ in range(times)]
    src, _, sleeps = make_source(
        [TENCENT], {"0700.HK": exc}, retry=RetryPolicy(max_attempts=ATTEMPTS)
    )
    name = f"{code.name} x{times}"
    try:
        bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    except (FetchFailed, SourceUnreachable) as err:
        ok = times >= ATTEMPTS and err.reason.endswith(f"after {ATTEMPTS} attempts")
        check(FEED, CLEAN_ERROR if ok else CRASH, name, err.reason)
        return
    except Exception as err:  # noqa: BLE001 - an escape is the outcome to record
        check(FEED, CRASH, name, f"{type(err).__name__}: {err}")
        return
    whole = bars["close"].tolist() == BARS["close"] and len(sleeps) == times
    check(FEED, (RECOVERED if times else COMPLETED) if whole else DATA_LOST, name, f"{sleeps}")


@pytest.mark.parametrize("how", ["absent", "nulls"])
def test_missing_adjclose_is_never_a_copy_of_close(tmp_path, how):
    src = YahooSource(yahoo_session(NoAdjClose, [TENCENT], how), sleep=Sleeps())
    update_prices(
        PriceStore(tmp_path), src, ["0700.HK"], since="2025-01-02", now="2025-02-03 12:00"
    )
    stored = PriceStore(tmp_path).read_bars("0700.HK")
    unknown = stored["adj_close"].isna().all() and stored["close"].notna().all()
    check(FEED, INTACT if unknown else DATA_LOST, f"adjclose {how}", str(stored["adj_close"]))


# --------------------------------------------------------------------------- full disk

LIMITS_KIB = [1, 4, 16, 64] + ([2, 8, 32, 128] if LONG else [])


@pytest.fixture(scope="module")
def small_store(tmp_path_factory, shared_dir) -> Path:
    # shared_dir: the real prices; their absence fails under CI=true (tests/conftest.py).
    home = tmp_path_factory.mktemp("disk")
    update_prices(
        PriceStore(home),
        CsvFolderSource(SHARED / "data" / "prices"),
        ["0700.HK"],
        since="2024-01-01",
        until="2024-06-28",
        now="2026-01-05 12:00",
    )
    return home


def _one_line_75(done) -> bool:
    lines = done.stderr.strip().splitlines()
    return (
        done.returncode == 75
        and "Traceback" not in done.stderr
        and lines[-1].startswith("error: cannot write ")
    )


@pytest.mark.parametrize("kib", LIMITS_KIB)
def test_prices_update_under_a_file_size_limit(small_store, tmp_path, kib):
    home = tmp_path / "home"
    shutil.copytree(small_store, home)
    before = PriceStore(home).read_bars("0700.HK")
    done = tracker_limited(
        [
            "prices",
            "update",
            "0700.HK",
            "--source",
            f"csv:{SHARED / 'data' / 'prices'}",
            "--since",
            "2024-01-01",
            "--until",
            "2025-12-31",
        ],
        home,
        kib,
    )
    name = f"prices update, ulimit -f {kib}"
    after = PriceStore(home).read_bars("0700.HK")
    if done.returncode == 0:
        check(DISK, COMPLETED if len(after) > len(before) else DATA_LOST, name, "fitted")
        return
    if not _one_line_75(done):
        check(DISK, CRASH, name, done.stderr[-300:])
    check(DISK, INTACT if after.equals(before) else DATA_LOST, name, done.stderr.strip()[-200:])


@pytest.mark.parametrize("kib", [1, 2, 3])
def test_recs_add_under_a_file_size_limit(tmp_path, kib):
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    path = tmp_path / "recs" / "2025-09-15-caitong-ai-race.yaml"
    before = path.read_bytes()
    done = tracker_limited(
        ["recs", "add", str(path), "--name", "1810", "--rating", "attention"],
        tmp_path / "home",
        kib,
        cwd=tmp_path,
    )
    name = f"recs add, ulimit -f {kib}"
    if done.returncode == 0:
        check(DISK, COMPLETED if b"1810.HK" in path.read_bytes() else DATA_LOST, name, "fitted")
        return
    if not _one_line_75(done):
        check(DISK, CRASH, name, done.stderr[-300:])
    check(DISK, INTACT if path.read_bytes() == before else DATA_LOST, name, done.stderr[-200:])


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG], ids=errno.errorcode.get)
@pytest.mark.parametrize("at", list(files()))
def test_run_folder_write_fails_at_each_file(tmp_path, monkeypatch, code, at):
    real_open = open

    def full_open(path, mode="r", *a, **k):
        if "w" in mode and str(path).endswith(at):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, mode, *a, **k)

    earlier = write_run(tmp_path, "demo", files(), datetime(2026, 1, 1))
    monkeypatch.setattr("builtins.open", full_open)
    name = f"{errno.errorcode[code]} writing {at}"
    try:
        write_run(tmp_path, "demo", files(), datetime(2026, 1, 2))
    except DiskFull as err:
        monkeypatch.undo()
        left = sorted(p.name for p in (tmp_path / "demo").iterdir())
        ok = left == [earlier.name] and [r.path for r in list_runs(tmp_path)] == [earlier]
        check(DISK, INTACT if ok else DATA_LOST, name, f"{err.exit_code}: {left}")
        return
    except Exception as err:  # noqa: BLE001
        check(DISK, CRASH, name, f"{type(err).__name__}: {err}")
    check(DISK, CRASH, name, "no error")


# --------------------------------------------------------------------------- damaged runs


@pytest.mark.parametrize("name, how, problem", DAMAGES, ids=[f"{n}-{h}" for n, h, _ in DAMAGES])
@pytest.mark.parametrize("command", ["compare", "list"])
def test_damaged_run(tmp_path, name, how, problem, command):
    good = write_run(tmp_path, "demo", files(), datetime(2026, 1, 1))
    bad = write_run(tmp_path, "demo", files(total_return=0.3), datetime(2026, 1, 2))
    damage(bad, name, how)
    args = (
        ["backtest", "compare", str(good), str(bad)]
        if command == "compare"
        else ["backtest", "list", "--runs-dir", str(tmp_path), "--format", "json"]
    )
    result = runner.invoke(app, args)
    case = f"backtest {command}, {name} {how}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        check(RUNS, CRASH, case, f"{type(result.exception).__name__}: {result.exception}")
    if command == "compare":
        clean = (
            result.exit_code == 1
            and result.stdout == ""
            and result.stderr.splitlines()[-1].startswith(f"error: {bad} is damaged: ")
            and problem in result.stderr
        )
        check(RUNS, CLEAN_ERROR if clean else CRASH, case, result.stderr[-200:])
    else:
        listed = json.loads(result.stdout) if result.exit_code == 0 else None
        runs = [r.get("run") for r in listed] if isinstance(listed, list) else None
        ok = runs == [good.name]
        check(RUNS, COMPLETED if ok else CRASH, case, f"{result.exit_code}: {runs}")


_ = pd
