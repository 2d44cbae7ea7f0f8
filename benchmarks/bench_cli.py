"""CLI start-up: `tracker --help` and `tracker recs list` as whole processes.

Target: < 0.5 s each, with vectorbt, yfinance and matplotlib not imported.
Baseline in the same run: a bare `python -c pass` start.
"""

from __future__ import annotations

import subprocess
import sys

from harness import ROOT, time_process, tracker_argv

HEAVY = ("vectorbt", "yfinance", "matplotlib", "numba")


def heavy_modules_loaded(*args: str) -> list[str]:
    """The heavy modules a `tracker ARGS` process has imported when it ends."""
    code = (
        "import sys, runpy; sys.argv = ['tracker', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('tracker', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )
    line = next(ln for ln in reversed(out.stderr.splitlines()) if ln.startswith("HEAVY:"))
    return [m for m in line[len("HEAVY:") :].split(",") if m]


def run(quick: bool = False) -> dict:
    repeat = 3 if quick else 7
    python = time_process(
        "python -c pass (baseline)", [sys.executable, "-c", "pass"], repeat=repeat
    )
    rows = [python]
    for args in (["--help"], ["recs", "list"]):
        t = time_process(
            f"tracker {' '.join(args)}", tracker_argv(*args), repeat=repeat, target_s=0.5
        )
        t.extra["vs_bare_python"] = round(t.median_s / python.median_s, 2)
        t.extra["heavy_imports"] = ",".join(heavy_modules_loaded(*args)) or "none"
        t.passed = bool(t.passed) and t.extra["heavy_imports"] == "none"
        rows.append(t)
    return {"title": "CLI start-up", "rows": [r.as_row() for r in rows]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
