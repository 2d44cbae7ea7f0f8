"""Run every benchmark and write RESULTS.md (a table) and results.json (raw figures).

Usage: python benchmarks/run.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHES = ["bench_cli", "bench_store", "bench_scoring", "bench_backtest", "bench_sweep"]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(results: list[dict], meta: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Generated {meta['generated']} by `make bench` ({meta['profile']} profile) on"
        f" {meta['machine']}, Python {meta['python']}, in {meta['elapsed_s']:.0f} s.",
        "Each time is the median of several runs after a warm-up, with min and max; ratios compare"
        " figures measured in the same run. Peak memory: tracemalloc for in-process figures,"
        " ru_maxrss for whole processes.",
        "",
    ]
    for res in results:
        lines += [f"## {res.get('title', res['module'])}", ""]
        if res.get("error"):
            lines += ["```", res["error"].strip(), "```", ""]
            continue
        rows = res.get("rows", [])
        cols = ["name", "median_s", "min_s", "max_s", "runs", "peak_mb", "target", "passed"]
        extra = sorted({k for r in rows for k in r} - set(cols))
        header = cols + extra
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for r in rows:
            lines.append("| " + " | ".join(_fmt(r.get(c)) for c in header) + " |")
        for note in res.get("notes", []):
            lines += ["", f"- {note}"]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = []
    for name in args.only or BENCHES:
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
            res = module.run(quick=args.quick)
        except Exception:
            res = {"error": traceback.format_exc()}
        res["module"] = name
        results.append(res)
    meta = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "profile": "quick" if args.quick else "full",
        "machine": (
            f"{platform.machine()}, {platform.system()}, {__import__('os').cpu_count()} cores"
        ),
        "python": platform.python_version(),
        "elapsed_s": time.perf_counter() - started,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=str)
    )
    (args.out / "RESULTS.md").write_text(render(results, meta))
    failed = [r["module"] for r in results if r.get("error")]
    print(
        f"wrote {args.out / 'RESULTS.md'}; errors in: {', '.join(failed) or 'none'}",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
