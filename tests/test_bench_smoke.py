"""The benchmark harness starts and writes its report (the benchmarks themselves run in
`make bench`, never in `make test`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_harness_runs_one_quick_benchmark_and_writes_results(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--quick",
            "--only",
            "bench_store",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    raw = json.loads((tmp_path / "results.json").read_text())
    (result,) = raw["results"]
    assert result["module"] == "bench_store" and "error" not in result
    first = result["rows"][0]
    assert first["min_s"] <= first["median_s"] <= first["max_s"]
    assert first["runs"] >= 3
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| name | median_s | min_s | max_s |" in table
    assert "read close, 20 symbols x 3 years" in table
