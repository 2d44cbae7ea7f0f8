"""Timing helpers shared by the benchmark scripts.

Every figure is the median of several runs after a warm-up, reported with its
min and max; comparisons are ratios of figures measured in the same run,
because the machine is shared and noisy.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The seeded synthetic universe is a test helper (tests/helpers/synthetic.py), shared here.
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))


@dataclass
class Timing:
    name: str
    median_s: float
    min_s: float
    max_s: float
    runs: int
    peak_mb: float | None = None
    target: str | None = None
    passed: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.update(row.pop("extra"))
        return row


def time_call(
    name: str,
    fn: Callable[[], Any],
    repeat: int = 5,
    warmup: int = 1,
    trace_memory: bool = True,
    target_s: float | None = None,
) -> Timing:
    """Median/min/max wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    Peak memory is measured on one extra run with tracemalloc (Python allocations,
    numpy included) so that tracing does not slow the timed runs.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    peak = None
    if trace_memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    med = statistics.median(times)
    return Timing(
        name,
        med,
        min(times),
        max(times),
        repeat,
        peak,
        target=f"< {target_s:g} s" if target_s is not None else None,
        passed=(med < target_s) if target_s is not None else None,
    )


_LAUNCHER = """
import json, resource, subprocess, sys, time
argv = json.loads(sys.argv[1])
t0 = time.perf_counter()
proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - t0
if proc.returncode != 0:
    sys.stderr.write(proc.stderr.decode("utf-8", "replace")[-2000:])
    sys.exit(1)
maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"elapsed_s": elapsed, "maxrss_kb": maxrss}))
"""


def time_process(
    name: str,
    argv: list[str],
    repeat: int = 5,
    warmup: int = 1,
    env: dict[str, str] | None = None,
    target_s: float | None = None,
    cwd: Path = ROOT,
) -> Timing:
    """Wall time of a whole process, and its peak RSS (``ru_maxrss`` of the child)."""
    full_env = {**os.environ, **(env or {})}

    def once() -> tuple[float, float]:
        # A small launcher runs the command and reports its wall time and peak RSS:
        # a child forked straight from this (possibly large) process would count the
        # parent's memory in its ru_maxrss.
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, json.dumps(argv)],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr[-2000:]}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        return report["elapsed_s"], report["maxrss_kb"] / 1024

    for _ in range(warmup):
        once()
    runs = [once() for _ in range(repeat)]
    times = [t for t, _ in runs]
    med = statistics.median(times)
    return Timing(
        name,
        med,
        min(times),
        max(times),
        repeat,
        max(m for _, m in runs),
        target=f"< {target_s:g} s" if target_s is not None else None,
        passed=(med < target_s) if target_s is not None else None,
    )


def tracker_argv(*args: str) -> list[str]:
    """Run the installed ``tracker`` as a whole process with this interpreter."""
    return [sys.executable, "-m", "tracker", *args]
