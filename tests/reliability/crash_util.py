"""Helpers for the crash and concurrency cases: tracker processes, store snapshots, kills."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracker.prices import PriceStore
from tracker.prices.csvsource import symbol_file

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PriceHomes:
    """See the ``price_homes`` fixture."""

    SINCE = "2024-01-01"
    #: The calls in recs/ start by 2025-09-18: scoring works before and after the update.
    BEFORE = "2025-10-31"
    AFTER = "2025-12-31"
    #: UTC; the last closed session is then 2026-01-05, after AFTER.
    NOW = "2026-01-05 12:00"

    prices: Path
    symbols: list[str]
    base: Path
    reference: Path
    write_span_s: float


def update_args(prices: Path, symbols: Sequence[str]) -> list[str]:
    """``tracker prices update`` of ``symbols`` from the CSV folder, up to ``AFTER``."""
    return [
        "prices",
        "update",
        *symbols,
        "--source",
        f"csv:{prices}",
        "--since",
        PriceHomes.SINCE,
        "--until",
        PriceHomes.AFTER,
    ]


def wal_of(home: Path) -> Path:
    path = PriceStore(home).path
    return path.with_name(path.name + "-wal")


def csv_symbols(folder: Path) -> list[str]:
    """The symbols of a folder of ``<SYMBOL>.csv`` files (``HSI.csv`` is ``^HSI``)."""
    out = []
    for path in sorted(folder.glob("*.csv")):
        stem = path.name[: -len(".csv")]
        out.append(stem if stem.endswith(".HK") else "^" + stem)
    assert all(symbol_file(s) == f"{s.lstrip('^')}.csv" for s in out)
    return out


def copy_prices(shared_dir: Path, dest: Path) -> Path:
    """A private copy of the shared price files (the source must not change under a test)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted((shared_dir / "data" / "prices").glob("*.csv")):
        shutil.copy(path, dest / path.name)
    return dest


class _Captured(subprocess.Popen):
    """A process whose output goes to temporary files, not pipes: a test that polls other
    processes before it reads this one's output never blocks it on a full pipe buffer."""

    def __init__(self, argv: list[str], **kwargs):
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        super().__init__(argv, stdout=self._out, stderr=self._err, **kwargs)

    def communicate(self, input=None, timeout=None):  # noqa: A002 - Popen's own name
        self.wait(timeout=timeout)
        texts = []
        for f in (self._out, self._err):
            f.seek(0)
            texts.append(f.read().decode("utf-8", errors="replace"))
            f.close()
        return texts[0], texts[1]


def tracker_process(args: Sequence[str], home: Path, cwd: Path | None = None) -> subprocess.Popen:
    """``python -m tracker ARGS`` with its own ``TRACKER_HOME``, output captured."""
    # Plain tracebacks (not typer's boxes), so that a crash is recognised and its last line read.
    env = {
        **os.environ,
        "TRACKER_HOME": str(home),
        "COLUMNS": "200",
        "_TYPER_STANDARD_TRACEBACK": "1",
    }
    return _Captured([sys.executable, "-m", "tracker", *args], cwd=cwd or ROOT, env=env)


def last_lines(stderr: str, n: int = 3) -> str:
    """The end of a process's stderr (a traceback's last lines name the exception)."""
    return " | ".join(line.strip() for line in stderr.strip().splitlines()[-n:])


def copy_home(src: Path, dest: Path) -> Path:
    """Copy a tracker home (store, WAL, everything) to ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    return dest


def store_state(home: Path, symbols: Sequence[str]) -> dict[str, tuple]:
    """Per symbol: its stored bars and what the store remembers (without the fetch time)."""
    store = PriceStore(home)
    out = {}
    for s in symbols:
        meta = store.meta(s)
        remembered = None if meta is None else (meta.source, meta.covered_first, meta.covered_last)
        out[s] = (store.read_bars(s), remembered)
    return out


def same_state(a: tuple, b: tuple) -> bool:
    return a[1] == b[1] and a[0].equals(b[0])


def integrity(home: Path) -> str:
    """SQLite's own verdict on the store file ("ok" when consistent)."""
    path = PriceStore(home).path
    if not path.exists():
        return "ok"
    with sqlite3.connect(path) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def duplicates(home: Path) -> int:
    """Rows sharing a (symbol, date) key; the primary key makes this 0 unless it is broken."""
    path = PriceStore(home).path
    if not path.exists():
        return 0
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT COALESCE(SUM(n - 1), 0) FROM"
            " (SELECT COUNT(*) n FROM bars GROUP BY symbol, date)"
        ).fetchone()[0]


def file_signature(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (None,)
    return (st.st_size, st.st_mtime_ns)


def wait_for_change(path: Path, before: tuple, proc: subprocess.Popen, timeout_s: float) -> bool:
    """Poll until ``path`` changes (size or mtime) or ``proc`` ends; True if it changed first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if file_signature(path) != before:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL ``proc``; True if it was still running (the kill interrupted it)."""
    running = proc.poll() is None
    if running:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return running


def run_files(k: int) -> dict[str, str]:
    """The content of run number ``k``: every file names ``k`` and is about 1 MB."""
    pad = f"run {k} " * 125_000
    return {
        "stats.json": json.dumps(
            {
                "run": k,
                "total_return": 0.01 * k,
                "sharpe": 1.0,
                "trades": k,
                "benchmark": {"total_return": 0.005 * k},
                "pad": pad,
            }
        ),
        "trades.csv": "call_id,status,run\n" + f"c{k},closed,{k}\n" * 100_000,
        "equity.csv": "session,portfolio,cash,benchmark\n" + f"2025-01-02,{k},0,{k}\n" * 40_000,
        "report.html": f"<html><body><p>run {k}</p><!-- {pad} --></body></html>\n",
        "manifest.json": json.dumps(
            {"run": k, "as_of": "2025-12-31", "simulated": False, "pad": pad}
        ),
    }
