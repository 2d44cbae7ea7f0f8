"""Fuzzing the call files through ``tracker recs validate``.

Every input must end as a valid load (exit 0, one ``ok:`` line) or a clean
error (exit 1, one ``file:line: field: message`` line per problem), never a
traceback, never code execution, within a time and memory budget. Inputs:
mutated bundled files (report and scale files), YAML built from random
structures, random unicode and bytes, and hand-made attacks (object tags,
alias bombs, deep nesting, files at and over the size limit).
"""

from __future__ import annotations

import io
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
from ruamel.yaml import YAML
from typer.testing import CliRunner

from reliability.cli_check import classify
from reliability.ledger import CODE_RUN, CRASH, OVER_BUDGET, check
from reliability.profile import LONG, fuzz
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

#: Keys the loaders know (so mutations reach validation, not only the parser).
FIELDS = [
    "broker", "broker_local", "title", "published", "seen", "analysts", "source", "language",
    "scale", "industry", "industry_rating", "recommendations", "name", "ticker", "rating",
    "target", "value", "currency", "horizon_months", "note", "registration", "min_months",
    "max_months", "id", "company", "bands", "lower_pp", "upper_pp", "lower_inclusive",
    "upper_inclusive", "aliases", "attention", "benchmarks", "defined_in_report",
]  # fmt: skip

#: YAML text for a value position: huge numbers, wrong types, bad dates, tags, aliases.
NASTY = [
    "1e308", "1e999", "-1e999", ".nan", ".inf", "-0", "0x" + "f" * 64, "9" * 60, "9" * 4400,
    "-9" * 30, "1_000_000", "0o777", "12:30:45", "[]", "{}", "[1, [2, [3]]]", "{a: {b: c}}",
    "~", "null", "true", "yes", "no", "''", '""', "2025-02-30", "2025-13-01", "0000-01-01",
    "9999-12-31", "2025-01-01T25:00:00", "2025-01-01 10:00:00 +08:00", "1900-01-01",
    "2100-01-01", "0700.HK", "700.HK", "00700.HK", "99999.HK", "0700", "买入", "BUY", "强烈买入",
    "attention", "S0010521080002", "S1", "6-12", "0-0", "12-6", "[6, 12]", "[6, 12, 18]",
    '"\\x00"', '"a\\nb"', '"\\u202e\\u0000"', '"\\ud800"', '"\\t"', "x" * 5000,
    "|\n  line one\n  line two", ">-\n  folded", "&anchor value", "*anchor", "*undefined",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!foo bar", "!!timestamp x",
    "!!int x", "!!float x", "!!bool maybe", "!!str", "!!map [1]", "? complex\n: key",
    "!!python/object/apply:os.mkdir [PWNED-DIR]",
    "!!python/object/apply:builtins.open [PWNED-FILE, w]",
    "!!python/object/new:os.mkdir [PWNED-DIR]",
    "!!python/name:os.system", "!!python/module:os", "!<tag:yaml.org,2002:python/tuple> [1]",
    "<<: {merged: 1}", "'unterminated", '"unterminated', "[unclosed", "{unclosed: 1",
    "- list item", "key: value: other", "@reserved", "`reserved", "%directive", "# only a comment",
]  # fmt: skip

SPECIALS = list("&*!|>'\"%@`{}[],#:-?\t\r\n\\ ") + ["\ufeff", "\u2028", "\x85", "\x00", "\x7f"]


def _split(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


@st.composite
def mutated_text(draw, seeds: list[str]) -> str:
    """A seed file with one to five random edits of the kinds people (and accidents) make."""
    lines = _split(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "value", "insert", "indent", "char", "truncate",
                 "newlines", "bom", "tab"]
            )  # fmt: skip
        )
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip(" -"))]
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(NASTY))}\n"
        elif op == "insert":
            key = draw(st.sampled_from(FIELDS) | st.text(min_size=1, max_size=12))
            lines.insert(i, f"{indent}{key}: {draw(st.sampled_from(NASTY))}\n")
        elif op == "indent":
            shift = draw(st.integers(-3, 3))
            lines[i] = line[-shift:] if shift < 0 else " " * shift + line
        elif op == "char":
            at = draw(st.integers(0, len(line)))
            ch = draw(st.sampled_from(SPECIALS) | st.characters())
            lines[i] = line[:at] + ch + line[at:]
        elif op == "truncate":
            text = "".join(lines)
            lines = _split(text[: draw(st.integers(0, len(text)))])
        elif op == "newlines":
            lines = _split("".join(lines).replace("\n", draw(st.sampled_from(["\r\n", "\r"]))))
        elif op == "bom":
            lines[0] = "\ufeff" + lines[0]
        elif op == "tab":
            lines[i] = line.replace("  ", "\t", 1)
    return "".join(lines)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(),
    st.sampled_from(["0700.HK", "9988.HK", "buy", "attention", "买入", "huaan", "HKD", "6-12"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
_recommendation = st.fixed_dictionaries(
    {},
    optional={k: _values for k in ("name", "ticker", "rating", "target", "horizon_months", "note")},
)
_report = st.fixed_dictionaries(
    {},
    optional={
        "broker": _values, "broker_local": _values, "title": _values, "published": _values,
        "seen": _values, "analysts": _values, "source": _values, "language": _values,
        "scale": st.sampled_from(["huaan", "caitong", "default-hk"]) | _values,
        "industry": _values, "industry_rating": _values,
        "recommendations": st.lists(_recommendation | _values, max_size=4) | _values,
        "unknown_key": _values,
    },
)  # fmt: skip


def dump(data) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.dump(data, out)
    return out.getvalue()


# --------------------------------------------------------------------------- running one case


def validate(path: str = TARGET, measure_memory: bool = False) -> tuple[str, str, float, float | None]:
    """Run ``tracker recs validate path``; ``(outcome, detail, seconds, peak_mb)``.

    With ``measure_memory`` a case that ran in under a second runs again under
    tracemalloc for its peak of Python allocations (tracemalloc slows deep
    recursion tenfold, so slower cases are measured in a process, long profile).
    """
    t0 = time.perf_counter()
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
        result.exit_code, result.stdout, result.stderr, [path, *SCALE_PATHS],
        exception=result.exception,
    )  # fmt: skip
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


@fuzz(quick=80, long=1500)
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
        check(CATEGORY, outcome, f"mutated scale {name}: {mutated[:120]!r}", detail, seconds=seconds)
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
@given(raw=st.binary(max_size=300) | st.binary(max_size=50).map(lambda b: REPORT_SEEDS[1].encode()[:400] + b))
def test_random_bytes(project, fast_scales, raw):
    run_case("bytes", raw)


# --------------------------------------------------------------------------- hand-made attacks

HEAD = REPORT_SEEDS[0].split("recommendations:")[0]


def _laughs(levels: int, width: int, mapping: bool = False) -> str:
    """The "billion laughs": each level holds ``width`` aliases of the level below."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        refs = [f"*l{i - 1}"] * width
        body = "{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}" if mapping else (
            "[" + ", ".join(refs) + "]"
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


ATTACKS = {
    # Tags that would construct Python objects (and so run code): refused, nothing created.
    "tag-object-apply-mkdir": HEAD + "industry: !!python/object/apply:os.mkdir [PWNED-DIR]\n",
    "tag-object-apply-open": HEAD + "industry: !!python/object/apply:builtins.open [PWNED-FILE, w]\n",
    "tag-object-new": HEAD + "industry: !!python/object/new:os.mkdir [PWNED-DIR]\n",
    "tag-name": HEAD + "industry: !!python/name:os.system\n",
    "tag-in-key": HEAD + "? !!python/object/apply:os.mkdir [PWNED-DIR]\n: 1\n",
    "tag-verbatim": HEAD + "industry: !<tag:yaml.org,2002:python/object/apply:os.mkdir> [PWNED-DIR]\n",
    "tag-directive": "%TAG !p! tag:yaml.org,2002:python/object/apply:\n---\n"
    + HEAD + "industry: !p!os.mkdir [PWNED-DIR]\n",
    # Alias bombs: 10**9 values from a few hundred bytes.
    "billion-laughs-lists": _laughs(9, 10),
    "billion-laughs-mappings": _laughs(9, 10, mapping=True),
    "wide-alias": HEAD + "a: &a [" + ", ".join(["x"] * 2000) + "]\nb: [" + ", ".join(["*a"] * 2000) + "]\n",
    "self-alias": HEAD + "a: &a [*a]\n",
    "merge-bomb": HEAD + "a: &a {x: 1, y: 2}\n" + "".join(f"m{i}: {{<<: *a}}\n" for i in range(200)),
    # Nesting.
    "deep-block": HEAD + "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n",
    "deep-flow-seq": HEAD + "industry: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep-flow-map": HEAD + "industry: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    "unclosed-flow": HEAD + "industry: " + "[" * 200_000 + "\n",
    # Sizes.
    "over-limit-by-one": "# " + "x" * (MAX_INPUT_BYTES - 2) + "\n",
    "over-limit-far": HEAD + "note: " + "x" * (3 * MAX_INPUT_BYTES) + "\n",
    "many-calls-100k": _calls(100_000),
    "long-list-100k": HEAD + "industry:\n" + "- x\n" * 25_000,
    "long-scalar-100k": HEAD + "industry: " + "x" * 100_000 + "\n",
    # Numbers and types.
    "int-4400-digits": HEAD + "industry: " + "9" * 4400 + "\n",
    "float-overflow": HEAD.replace("scale: huaan", "scale: huaan") + "recommendations:\n"
    "  - {name: 腾讯控股, ticker: 0700.HK, rating: buy, target: {value: 1e999}}\n",
    "date-feb-30": HEAD.replace("published: 2025-05-06", "published: 2025-02-30"),
    "bool-maybe": HEAD + "industry: !!bool maybe\n",
    "scale-as-list": HEAD.replace("scale: huaan", "scale: [huaan]"),
    "scale-as-map": HEAD.replace("scale: huaan", "scale: {id: huaan}"),
    "duplicate-nested-key": HEAD + "recommendations:\n  - name: a\n    name: b\n    ticker: 0700.HK\n"
    "    rating: buy\n",
    "key-with-newline": HEAD + '"broker\\nextra": 1\n',
    "empty-file": "",
    "only-comment": "# nothing here\n",
    "only-document-marker": "---\n...\n",
    "two-documents": HEAD + "---\n" + HEAD,
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_hand_made_attack(project, fast_scales, name):
    Path(TARGET).write_text(ATTACKS[name], encoding="utf-8")
    outcome, detail, seconds, peak_mb = validate(measure_memory=True)
    check(CATEGORY, outcome, f"attack {name}", detail, seconds=seconds, peak_mb=peak_mb)


@pytest.mark.parametrize(
    "name, raw",
    [
        pytest.param("latin-1", HEAD.replace("华安证券", "Huaan").encode() + "note: café\n".encode("latin-1"), id="latin-1"),
        pytest.param("utf-16", HEAD.encode("utf-16"), id="utf-16-bom"),
        pytest.param("gbk", HEAD.encode("gbk", errors="replace"), id="gbk"),
        pytest.param("nul", HEAD.encode() + b"industry: a\x00b\n", id="nul-byte"),
    ],
)  # fmt: skip
def test_not_utf8(project, fast_scales, name, raw):
    Path(TARGET).write_bytes(raw)
    outcome, detail, seconds, peak_mb = validate(measure_memory=True)
    check(CATEGORY, outcome, f"encoding {name}", detail, seconds=seconds, peak_mb=peak_mb)


# The worst shapes just under the size limit take seconds each to parse (pure-Python
# YAML): in the long profile only, each in its own process, measuring its peak memory.
NEAR_LIMIT = {
    "near-limit-list": HEAD + "industry:\n" + "- x\n" * ((MAX_INPUT_BYTES - len(HEAD.encode()) - 20) // 4),
    "near-limit-flow": HEAD + "industry: [" + "1, " * ((MAX_INPUT_BYTES - len(HEAD.encode()) - 20) // 3) + "]\n",
    "near-limit-calls": _calls(MAX_INPUT_BYTES),
    "near-limit-scalar": HEAD + "industry: " + "x" * (MAX_INPUT_BYTES - len(HEAD.encode()) - 20) + "\n",
}  # fmt: skip
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
@pytest.mark.parametrize("name", [*NEAR_LIMIT, *ATTACKS])
def test_attack_in_a_process(project, tracker_home, name):
    """Each attack and near-limit file through a real ``tracker`` process: time and peak RSS."""
    text = NEAR_LIMIT[name] if name in NEAR_LIMIT else ATTACKS[name]
    Path(TARGET).write_text(text, encoding="utf-8")
    env = {**os.environ, "TRACKER_HOME": str(tracker_home)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "recs", "validate", TARGET],
        capture_output=True, text=True, env=env, timeout=PROCESS_BUDGET_S * 2,
    )  # fmt: skip
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
        {"category": "c", "outcome": "valid load", "case": "case", "detail": "detail", "seconds": 0.5},
        {"category": "c", "outcome": "crash", "case": "other", "detail": ""},
    ]
    with pytest.raises(ValueError):
        ledger.record("c", "fine")
