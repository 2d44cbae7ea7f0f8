"""Fuzzing the call files through ``tracker recs validate``.

Every input must end as a valid load (exit 0, one ``ok:`` line) or a clean
error (exit 1, one ``file:line: field: message`` line per problem), never a
traceback, never code execution, within a time and memory budget. Inputs:
mutated bundled files (report and scale files), YAML built from random
structures, random unicode and bytes, and hand-made attacks (object tags,
alias bombs, deep nesting, files at and over the size limit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from reliability.cli_check import classify, user_visible_warnings
from reliability.ledger import CODE_RUN, CRASH, OVER_BUDGET, check
from reliability.profile import LONG, fuzz
from reliability.yaml_fuzz import SPECIALS, dump, mutated_text, values
from tracker.cli import app
from tracker.constants import MAX_INPUT_BYTES

CATEGORY = "calls: YAML call files"
ROOT = Path(__file__).resolve().parents[2]
TARGET = "recs/2025-01-01-fuzz.yaml"
#: Wall-time budget of one in-process case, seconds (generous: the machine is shared).
CASE_BUDGET_S = 20.0
#: Peak of Python allocations (tracemalloc) allowed for a hand-made attack, MB.
MEMORY_BUDGET_MB = 256.0
#: Created only if an input managed to run code (a directory and a file, by two routes).
MARKERS = ("PWNED-DIR", "PWNED-FILE")

runner = CliRunner()

REPORT_SEEDS = [
    (ROOT / "recs" / name).read_text(encoding="utf-8")
    for name in ("2025-05-06-huaan-hk-internet-ai.yaml", "2025-09-15-caitong-ai-race.yaml")
]
SCALE_FILES = sorted(p.name for p in (ROOT / "recs" / "scales").glob("*.yaml"))
#: Problems in a scale file name it; a missing folder names the folder.
SCALE_PATHS = ["recs/scales", *(f"recs/scales/{name}" for name in SCALE_FILES)]

_recommendation = st.fixed_dictionaries(
    {},
    optional={k: values for k in ("name", "ticker", "rating", "target", "horizon_months", "note")},
)
_report = st.fixed_dictionaries(
    {},
    optional={
        "broker": values,
        "broker_local": values,
        "title": values,
        "published": values,
        "seen": values,
        "analysts": values,
        "source": values,
        "language": values,
        "scale": st.sampled_from(["huaan", "caitong", "default-hk"]) | values,
        "industry": values,
        "industry_rating": values,
        "recommendations": st.lists(_recommendation | values, max_size=4) | values,
        "unknown_key": values,
    },
)


# --------------------------------------------------------------------------- running one case


def validate(
    path: str = TARGET, measure_memory: bool = False
) -> tuple[str, str, float, float | None]:
    """Run ``tracker recs validate path``; ``(outcome, detail, seconds, peak_mb)``.

    With ``measure_memory`` a case that ran in under a second runs again under
    tracemalloc for its peak of Python allocations (tracemalloc slows deep
    recursion tenfold, so slower cases are measured in a process, long profile).
    """
    t0 = time.perf_counter()
    with user_visible_warnings() as printed:
        result = runner.invoke(app, ["recs", "validate", path])
    seconds = time.perf_counter() - t0
    peak_mb = None
    if measure_memory and seconds < 1.0:
        tracemalloc.start()
        try:
            runner.invoke(app, ["recs", "validate", path])
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    outcome, detail = classify(
        result.exit_code,
        result.stdout,
        result.stderr,
        [path, *SCALE_PATHS],
        exception=result.exception,
    )
    if printed and outcome != CRASH:
        outcome, detail = CRASH, f"a Python warning printed to stderr: {printed[0].message!s:.200}"
    if any(Path(m).exists() for m in MARKERS):
        outcome, detail = CODE_RUN, f"marker created; {detail}"
    elif outcome != CRASH and seconds > CASE_BUDGET_S:
        outcome, detail = OVER_BUDGET, f"{seconds:.1f} s; {detail}"
    elif outcome != CRASH and peak_mb is not None and peak_mb > MEMORY_BUDGET_MB:
        outcome, detail = OVER_BUDGET, f"{peak_mb:.0f} MB; {detail}"
    return outcome, detail, seconds, peak_mb


def run_case(kind: str, content: str | bytes, path: str = TARGET) -> None:
    target = Path(path)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", errors="surrogatepass")
    outcome, detail, seconds, _ = validate(path)
    check(CATEGORY, outcome, f"{kind}: {content[:120]!r}", detail, seconds=seconds)


# --------------------------------------------------------------------------- fuzzing


@fuzz(quick=60, long=1500)
@given(text=mutated_text(REPORT_SEEDS))
def test_mutated_report_files(project, fast_scales, text):
    run_case("mutated report", text)


@fuzz(quick=25, long=400)
@given(text=st.data())
def test_mutated_scale_files(project, fast_scales, text):
    name = text.draw(st.sampled_from(SCALE_FILES))
    scale = project / "recs" / "scales" / name
    original = scale.read_text(encoding="utf-8")
    try:
        mutated = text.draw(mutated_text([original]))
        scale.write_text(mutated, encoding="utf-8", errors="surrogatepass")
        outcome, detail, seconds, _ = validate("recs/2025-05-06-huaan-hk-internet-ai.yaml")
        check(
            CATEGORY, outcome, f"mutated scale {name}: {mutated[:120]!r}", detail, seconds=seconds
        )
    finally:
        scale.write_text(original, encoding="utf-8")


@fuzz(quick=40, long=800)
@given(data=_report)
def test_random_structures(project, fast_scales, data):
    run_case("structure", dump(data))


@fuzz(quick=25, long=500)
@given(
    text=st.text(max_size=300)
    | st.text(alphabet=st.sampled_from(SPECIALS + list("abc0123456789.: \n")), max_size=200)
)
def test_random_unicode(project, fast_scales, text):
    run_case("unicode", text)


@fuzz(quick=15, long=300)
@given(
    raw=st.binary(max_size=300)
    | st.binary(max_size=50).map(lambda b: REPORT_SEEDS[1].encode()[:400] + b)
)
def test_random_bytes(project, fast_scales, raw):
    run_case("bytes", raw)


# --------------------------------------------------------------------------- hand-made attacks

#: A valid report's fields without its calls; attacks add a ``padding`` key (an unknown
#: field, reported only once the whole file is read) or calls.
HEAD = REPORT_SEEDS[0].split("recommendations:")[0]


def _laughs(levels: int, width: int, mapping: bool = False) -> str:
    """The "billion laughs": each level holds ``width`` aliases of the level below."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        refs = [f"*l{i - 1}"] * width
        body = (
            "{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}"
            if mapping
            else ("[" + ", ".join(refs) + "]")
        )
        lines.append(f"l{i}: &l{i} {body}")
    return HEAD + "\n".join(lines) + "\n"


def _calls(n_bytes: int) -> str:
    """A valid report with as many calls as fit in ``n_bytes``."""
    call = "  - name: 腾讯控股\n    ticker: {code}.HK\n    rating: attention\n    note: 长期优选\n"
    parts, size, i = [HEAD, "recommendations:\n"], len(HEAD.encode()) + 17, 1
    while True:
        item = call.format(code=f"{i:04d}")
        if size + len(item.encode()) > n_bytes:
            return "".join(parts)
        parts.append(item)
        size += len(item.encode())
        i += 1


#: Size of the large (but legal) attack files: parsing is pure Python, about 30 µs a byte.
SIZE = 100_000 if LONG else 20_000

ATTACKS = {
    # Tags that would construct Python objects (and so run code): refused, nothing created.
    "tag-object-apply-mkdir": HEAD + "padding: !!python/object/apply:os.mkdir [PWNED-DIR]\n",
    "tag-object-apply-open": HEAD
    + "padding: !!python/object/apply:builtins.open [PWNED-FILE, w]\n",
    "tag-object-new": HEAD + "padding: !!python/object/new:os.mkdir [PWNED-DIR]\n",
    "tag-name": HEAD + "padding: !!python/name:os.system\n",
    "tag-in-key": HEAD + "? !!python/object/apply:os.mkdir [PWNED-DIR]\n: 1\n",
    "tag-verbatim": HEAD
    + "padding: !<tag:yaml.org,2002:python/object/apply:os.mkdir> [PWNED-DIR]\n",
    "tag-directive": "%TAG !p! tag:yaml.org,2002:python/object/apply:\n---\n"
    + HEAD
    + "padding: !p!os.mkdir [PWNED-DIR]\n",
    # Alias bombs: 10**9 values from a few hundred bytes.
    "billion-laughs-lists": _laughs(9, 10),
    "billion-laughs-mappings": _laughs(9, 10, mapping=True),
    "wide-alias": HEAD
    + "a: &a ["
    + ", ".join(["x"] * 2000)
    + "]\nb: ["
    + ", ".join(["*a"] * 2000)
    + "]\n",
    "self-alias": HEAD + "a: &a [*a]\n",
    "reused-anchor": HEAD + "padding: &a [1]\nmore: &a [2]\nthird: *a\n",
    "merge-bomb": HEAD
    + "a: &a {x: 1, y: 2}\n"
    + "".join(f"m{i}: {{<<: *a}}\n" for i in range(200)),
    # Nesting.
    "deep-block": HEAD + "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n",
    "deep-flow-seq": HEAD + "padding: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep-flow-map": HEAD + "padding: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    # Sizes.
    "over-limit-by-one": "# " + "x" * (MAX_INPUT_BYTES - 2) + "\n",
    "over-limit-far": HEAD + "note: " + "x" * (3 * MAX_INPUT_BYTES) + "\n",
    f"many-calls-{SIZE // 1000}k": _calls(SIZE),
    f"long-list-{SIZE // 1000}k": HEAD + "padding:\n" + "- x\n" * (SIZE // 4),
    f"long-scalar-{SIZE // 1000}k": HEAD + "padding: " + "x" * SIZE + "\n",
    # Numbers and types.
    "int-4400-digits": HEAD + "padding: " + "9" * 4400 + "\n",
    "float-overflow": HEAD.replace("scale: huaan", "scale: huaan") + "recommendations:\n"
    "  - {name: 腾讯控股, ticker: 0700.HK, rating: buy, target: {value: 1e999}}\n",
    "date-feb-30": HEAD.replace("published: 2025-05-06", "published: 2025-02-30"),
    "bool-maybe": HEAD + "padding: !!bool maybe\n",
    "scale-as-list": HEAD.replace("scale: huaan", "scale: [huaan]"),
    "scale-as-map": HEAD.replace("scale: huaan", "scale: {id: huaan}"),
    "duplicate-nested-key": HEAD
    + "recommendations:\n  - name: a\n    name: b\n    ticker: 0700.HK\n"
    "    rating: buy\n",
    "key-with-newline": HEAD + '"broker\\nextra": 1\n',
    "empty-file": "",
    "only-comment": "# nothing here\n",
    "only-document-marker": "---\n...\n",
    "two-documents": HEAD + "---\n" + HEAD,
}
if LONG:
    # Each takes seconds (the parser recurses to Python's limit, or scans 200k brackets).
    ATTACKS["unclosed-flow"] = HEAD + "padding: " + "[" * 200_000 + "\n"


@pytest.mark.parametrize("name", list(ATTACKS))
def test_hand_made_attack(project, fast_scales, name):
    Path(TARGET).write_text(ATTACKS[name], encoding="utf-8")
    outcome, detail, seconds, peak_mb = validate(measure_memory=True)
    check(CATEGORY, outcome, f"attack {name}", detail, seconds=seconds, peak_mb=peak_mb)


@pytest.mark.parametrize(
    "name, raw",
    [
        pytest.param(
            "latin-1",
            HEAD.replace("华安证券", "Huaan").encode() + "note: café\n".encode("latin-1"),
            id="latin-1",
        ),
        pytest.param("utf-16", HEAD.encode("utf-16"), id="utf-16-bom"),
        pytest.param("gbk", HEAD.encode("gbk", errors="replace"), id="gbk"),
        pytest.param("nul", HEAD.encode() + b"padding: a\x00b\n", id="nul-byte"),
    ],
)
def test_not_utf8(project, fast_scales, name, raw):
    Path(TARGET).write_bytes(raw)
    outcome, detail, seconds, peak_mb = validate(measure_memory=True)
    check(CATEGORY, outcome, f"encoding {name}", detail, seconds=seconds, peak_mb=peak_mb)


# The worst shapes just under the size limit take seconds each to parse (pure-Python
# YAML): in the long profile only, each in its own process, measuring its peak memory.
NEAR_LIMIT = {
    "near-limit-list": HEAD
    + "padding:\n"
    + "- x\n" * ((MAX_INPUT_BYTES - len(HEAD.encode()) - 20) // 4),
    "near-limit-flow": HEAD
    + "padding: ["
    + "1, " * ((MAX_INPUT_BYTES - len(HEAD.encode()) - 20) // 3)
    + "]\n",
    "near-limit-calls": _calls(MAX_INPUT_BYTES),
    "near-limit-scalar": HEAD
    + "padding: "
    + "x" * (MAX_INPUT_BYTES - len(HEAD.encode()) - 20)
    + "\n",
}
#: A process-wide budget: the interpreter and pandas alone take about 100 MB.
PROCESS_BUDGET_MB = 1024.0
PROCESS_BUDGET_S = 180.0
_WRAPPER = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "'\\nMAXRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "from tracker.cli import main\n"
    "sys.argv = ['tracker', *sys.argv[1:]]\n"
    "main()\n"
)


@pytest.mark.skipif(not LONG, reason="long profile only (TRACKER_RELIABILITY=long)")
@pytest.mark.parametrize("name", [*NEAR_LIMIT, *ATTACKS] if LONG else ["(long profile)"])
def test_attack_in_a_process(project, tracker_home, name):
    """Each attack and near-limit file through a real ``tracker`` process: time and peak RSS."""
    text = NEAR_LIMIT[name] if name in NEAR_LIMIT else ATTACKS[name]
    Path(TARGET).write_text(text, encoding="utf-8")
    env = {**os.environ, "TRACKER_HOME": str(tracker_home)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "recs", "validate", TARGET],
        capture_output=True,
        text=True,
        env=env,
        timeout=PROCESS_BUDGET_S * 2,
    )
    seconds = time.perf_counter() - t0
    stderr, _, rss = proc.stderr.rpartition("\nMAXRSS_KB ")
    peak_mb = int(rss.strip()) / 1024 if rss.strip().isdigit() else float("nan")
    outcome, detail = classify(proc.returncode, proc.stdout, stderr.rstrip("\n") + "\n", [TARGET])
    if outcome != CRASH and (seconds > PROCESS_BUDGET_S or not peak_mb <= PROCESS_BUDGET_MB):
        outcome, detail = OVER_BUDGET, f"{seconds:.0f} s, {peak_mb:.0f} MB; {detail}"
    if any(Path(m).exists() for m in MARKERS):
        outcome, detail = CODE_RUN, f"marker created; {detail}"
    check(CATEGORY, outcome, f"process {name}", detail, seconds=seconds, peak_mb=peak_mb)


def test_case_log_is_json_lines(tmp_path, monkeypatch):
    """The ledger writes one JSON object per case (the report script reads it)."""
    from reliability import ledger

    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(ledger.LOG_ENV, str(log))
    ledger.record("c", ledger.VALID, "case", "detail", seconds=0.5)
    ledger.record("c", ledger.CRASH, "other")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert rows == [
        {
            "category": "c",
            "outcome": "valid load",
            "case": "case",
            "detail": "detail",
            "seconds": 0.5,
        },
        {"category": "c", "outcome": "crash", "case": "other", "detail": ""},
    ]
    with pytest.raises(ValueError):
        ledger.record("c", "fine")
