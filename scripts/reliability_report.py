"""Run the reliability suite and write its figures to docs/RELIABILITY.md.

Usage::

    python scripts/reliability_report.py                    # long profile (make reliability)
    python scripts/reliability_report.py --profile quick    # the profile make test runs
    python scripts/reliability_report.py --out /tmp/R.md -- -k calls   # extra pytest arguments

The suite (``tests/reliability``) records one outcome per case in a JSON-lines
log (``TRACKER_RELIABILITY_LOG``); this script runs it with pytest, reads that
log and pytest's JUnit XML, and writes per category the number of cases
tried and their outcomes. The bar is zero crashes, zero data lost, zero
duplicates, zero leaks, zero code executed and zero cases over budget. Exit
status: 0 when every test passed and the bar is met, 1 otherwise (the report
is written either way).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reliability.ledger import BAD, GOOD, LOG_ENV  # noqa: E402
from reliability.profile import PROFILE_ENV  # noqa: E402

#: What each category tries, in report order.
CATEGORIES = {
    "calls: YAML call files": "`tracker recs validate` on mutated report and scale files, YAML "
    "built from random structures, random unicode and bytes, object tags, alias bombs, deep "
    "nesting, other encodings, files at and over the 1 MB limit",
    "specs: backtest specs": "`tracker backtest run` reading mutated and random specs and attacks "
    "(stopped once the spec has loaded); in the long profile, odd but valid specs run whole",
    "output paths": "spec names with `..`, slashes, look-alikes and control characters: "
    "refused, or the run folder stays inside the runs folder; every command that writes a path "
    "(`recs extract -o`, `recs import`, `registry import`, `prices update`, `backtest run` and "
    "`sweep --runs-dir`, the numba cache, `scorecard --out`) given a file, a path under a file "
    "and a read-only folder (read-only for root too): one `error:` line, exit 1, nothing written",
    "prices: fetch faults": "`tracker prices update` through yfinance over a fake Yahoo: "
    "timeouts, 429 with and without Retry-After, 5xx, truncated/malformed JSON, empty answers, "
    "resets, series ending mid-range, the network vanishing mid-batch; one case per symbol",
    "crash: price store write": "SIGKILL of `tracker prices update` at random instants of its "
    "writes; then the store must hold, per symbol, exactly the old or exactly the new data",
    "crash: backtest run output": "SIGKILL while a run folder is written (and, long profile, of "
    "whole `tracker backtest run` processes); `tracker backtest list` must show only whole runs",
    "crash: scorecard send": "SIGKILL of a scorecard send to six recipients at random instants, "
    "then a rerun; a real SMTP server counts what it accepted",
    "concurrency: two price updates": "two `tracker prices update` processes on one store at "
    "random offsets; the store must end as after one uninterrupted run",
    "concurrency: scorecard and scoring during an update": "`tracker scorecard` and `tracker "
    "score` beside an update, while the test re-reads every symbol",
    "secrets: SMTP password": "`tracker scorecard` sends that succeed, meet a wrong password, a "
    "dead server or a 5xx, previews, and a crash in login: the password (clear or base64) in no "
    "output, log, error or file",
    "secrets: tracker.toml warnings": "a secret in tracker.toml (world-readable or not) is "
    "warned about and never echoed",
    "output: header injection": "subject prefixes, names and addresses with line breaks and "
    "control characters: refused, or the message has exactly its headers and one recipient",
    "output: control characters": "ESC, BEL, NUL, BS, DEL, C1 controls, bidirectional "
    "overrides and line separators in the row printer's table, tsv and csv (shown as `\\x1b`, "
    "`\\u202e`), in HKEX's list, the names file and the registry store (refused as "
    "`file:line: field: message` by `registry import`, `resolve`, `show`, `recs list`; "
    "bidirectional marks removed), in spreadsheets for `recs import` and in price symbols",
    "output: HTML escaping": "call notes, names, brokers and analysts holding HTML in the "
    "scorecard page and e-mail, `tracker score --format html`, a backtest report",
    "mail: SMTP replies and drops around the final dot": "a real SMTP server drops the "
    "connection (close or reset) after 0, 1, a few or all lines of a message's DATA, or answers "
    "the final dot with any 2xx, an unreadable line, a 4xx or a 5xx; the week is sent twice and "
    "the server counts one copy per recipient",
    "concurrency: recs add on one file": "8 (long: 12) `tracker recs add` processes start "
    "together on one report file, each with its own call: every call lands once",
    "recs add: the file keeps its form": "report files in three indentations and flow style, "
    "CRLF or LF, with or without a BOM, in several permission modes get a call: the old bytes "
    "are kept exactly, the new call follows their form, the mode is unchanged",
    "prices: history revised between updates": "a typo, a corrected typo, a dividend, a split "
    "or a split applied a day late on any session between two updates: the store ends as the "
    "source's series when the revision shows in the re-asked sessions, else old plus new",
    "prices: curl transfer faults": "curl_cffi's own exceptions (HTTP/2 stream, framing, "
    "partial file, timeout, empty reply, send/receive errors, refused) raised 0-4 times under "
    "yfinance, then an answer; answers without adjclose",
    "faults: full disk": "`tracker prices update` and `tracker recs add` under `ulimit -f` "
    "limits, run folders meeting ENOSPC, EDQUOT or EFBIG at each file; `recs extract -o`, "
    "`recs import`, `registry import` and `scorecard --out` meeting ENOSPC at the sync of each "
    "of their files; `backtest run` and `sweep` whose numba cache meets `ulimit -f`: one line, "
    "exit 75, the store, the files, the registry or the runs folder as before",
    "backtest: damaged run folders": "each run file damaged (strings and booleans for "
    "numbers, JSON lists, empty or cut files, missing columns, ragged rows): `backtest compare` "
    "names the file, `backtest list` shows only whole runs",
    "inputs: numbers, dates and names": "booleans, NaN and infinities in every numeric field "
    "of calls, scales, specs and tracker.toml; compact, short, timed and pre-2000 dates; "
    "zero-width, bidi and control characters in broker and analyst names; one report saved "
    "under two names",
}

#: Failed-test lines from pytest look like this; shown in the report.
_TMP = re.compile(re.escape(tempfile.gettempdir()) + r"/[^\s'\",\]\)]*")


def scrub(text: str) -> str:
    """Case details without machine paths (temporary folders, the checkout)."""
    return _TMP.sub("<tmp>", text).replace(str(ROOT), ".")


def run_suite(profile: str, log: Path, junit: Path, extra: list[str]) -> tuple[int, float]:
    env = {**os.environ, PROFILE_ENV: profile, LOG_ENV: str(log)}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/reliability",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        *extra,
    ]
    t0 = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    return code, time.monotonic() - t0


def read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def read_junit(junit: Path) -> dict:
    out = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "xfailed": [], "failures": []}
    if not junit.exists():
        return out
    for case in ET.parse(junit).getroot().iter("testcase"):
        out["tests"] += 1
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        if failed is not None:
            out["failed"] += 1
            out["failures"].append((name, (failed.get("message") or "").splitlines()[0][:300]))
        elif skipped is not None and (skipped.get("type") or "").endswith("xfail"):
            out["xfailed"].append((name, skipped.get("message") or ""))
        elif skipped is not None:
            out["skipped"] += 1
        else:
            out["passed"] += 1
    return out


def _cell(n: int) -> str:
    return str(n) if n else "·"


def render(rows: list[dict], junit: dict, profile: str, seconds: float) -> str:
    by_cat: dict[str, Counter] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    memory: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_cat[r["category"]][r["outcome"]] += 1
        if "seconds" in r:
            times[r["category"]].append(r["seconds"])
        if "peak_mb" in r and r["peak_mb"] == r["peak_mb"]:
            memory[r["category"]].append(r["peak_mb"])
    order = [c for c in CATEGORIES if c in by_cat] + sorted(
        c for c in by_cat if c not in CATEGORIES
    )
    good = [o for o in GOOD if any(by_cat[c][o] for c in order)]
    total = Counter()
    for c in order:
        total.update(by_cat[c])
    bad_total = sum(total[o] for o in BAD)
    met = bad_total == 0
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    lines = [
        "# Reliability and security figures",
        "",
        "Written by `scripts/reliability_report.py` (`make reliability`); do not edit by hand.",
        "",
        f"- Profile: **{profile}** (`TRACKER_RELIABILITY={profile}`), run {now}, "
        f"{seconds / 60:.1f} min.",
        f"- Cases tried: **{sum(total.values()):,}** in {len(order)} categories; pytest: "
        f"{junit['passed']} passed, {junit['failed']} failed, {len(junit['xfailed'])} expected "
        f"failures (known gaps), {junit['skipped']} skipped.",
        "- The bar (zero crashes, data lost, duplicates, leaks, code executed, over budget): "
        + ("**met**." if met else f"**not met**: {bad_total} case(s), listed below."),
        "",
        "## Outcomes per category",
        "",
        "Acceptable outcomes: *valid load* (input accepted), *completed* (no fault reached the "
        "item), *clean error* (refused with one-line `file:line: field: message` or `error: ...` "
        "messages and exit 1/2), *recovered* (retried or restarted to the full result), "
        "*data intact* (stored data exactly as before, or exactly as after), *delivered once*, "
        "*no leak*, *warned*, *escaped*. The last six columns are the bar.",
        "",
        "| category | cases | " + " | ".join(good) + " | " + " | ".join(BAD) + " |",
        "|---|---:|" + "---:|" * (len(good) + len(BAD)),
    ]
    for c in order:
        n = sum(by_cat[c].values())
        cells = [_cell(by_cat[c][o]) for o in (*good, *BAD)]
        lines.append(f"| {c} | {n:,} | " + " | ".join(cells) + " |")
    cells = [_cell(total[o]) for o in (*good, *BAD)]
    lines.append(f"| **total** | **{sum(total.values()):,}** | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Time and memory",
        "",
        "Wall time per case as measured by the tests (in process unless the category runs "
        "processes); peak memory is Python's allocations (tracemalloc) for in-process cases "
        "and the peak resident size of the process for the long profile's process cases.",
        "",
        "| category | cases timed | median s | slowest s | peak MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in order:
        t = times.get(c) or []
        m = memory.get(c) or []
        if not t and not m:
            continue
        lines.append(
            f"| {c} | {len(t)} | {statistics.median(t):.3f} | {max(t):.2f} | {max(m):.0f} |"
            if m
            else f"| {c} | {len(t)} | {statistics.median(t):.3f} | {max(t):.2f} | · |"
        )

    lines += ["", "## What each category tries", ""]
    lines += [f"- **{c}**: {CATEGORIES[c]}." for c in order if c in CATEGORIES]

    bad_rows = [r for r in rows if r["outcome"] in BAD]
    lines += ["", "## Cases outside the bar", ""]
    if not bad_rows:
        lines.append("None.")
    for r in bad_rows[:40]:
        lines.append(
            f"- {r['category']}: **{r['outcome']}**: {scrub(r['case'])}: {scrub(r['detail'])}"
        )
    if len(bad_rows) > 40:
        lines.append(f"- ... and {len(bad_rows) - 40} more (see the log).")
    if junit["xfailed"]:
        lines += ["", "## Known gaps (expected failures)", ""]
        lines += [f"- `{scrub(n)}`: {scrub(m)}" for n, m in junit["xfailed"]]
    if junit["failures"]:
        lines += ["", "## Failed tests", ""]
        lines += [f"- `{scrub(n)}`: {scrub(m)}" for n, m in junit["failures"]]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        "make reliability                                   # long profile, writes this file",
        "make test                                          # includes the quick profile",
        "TRACKER_RELIABILITY=long .venv/bin/pytest tests/reliability -k calls",
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["quick", "long"], default="long")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "RELIABILITY.md")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log, junit = Path(tmp) / "cases.jsonl", Path(tmp) / "junit.xml"
        code, seconds = run_suite(args.profile, log, junit, args.pytest_args)
        rows, tests = read_log(log), read_junit(junit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(rows, tests, args.profile, seconds), encoding="utf-8")
    bad = sum(r["outcome"] in BAD for r in rows)
    print(f"wrote {args.out}: {len(rows)} cases, {bad} outside the bar, pytest exit {code}")
    return 0 if code == 0 and bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
