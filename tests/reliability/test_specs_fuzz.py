"""Fuzzing backtest specs through ``tracker backtest run``, and run folders that must not escape.

A spec file is read first thing by ``tracker backtest run``; a bad one must end
in a clean error (``file:line: field: message`` lines, exit 1) before anything
else happens. To fuzz the reading alone, the run stops right after a spec has
loaded (the loader is wrapped to raise a marker error naming the spec): that
marker is the "valid load". A few valid fuzzed specs also run the whole
backtest on real prices, offline, and must end in a report or a clean error.

Spec names become folders under the runs folder: names with ``..``, slashes
or look-alike characters are refused, and any accepted name stays inside.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from reliability.cli_check import classify, user_visible_warnings
from reliability.crash_util import ROOT, copy_home
from reliability.ledger import (
    CLEAN_ERROR,
    CODE_RUN,
    CRASH,
    ESCAPED,
    LEAK,
    OVER_BUDGET,
    VALID,
    check,
    record,
)
from reliability.profile import LONG, fuzz
from reliability.yaml_fuzz import SPECIALS, dump, mutated_text, values
from tracker.backtest.spec import BacktestSpec
from tracker.cli import app
from tracker.errors import TrackerError

CATEGORY = "specs: backtest specs"
PATHS = "output paths"
TARGET = "backtests/fuzz.yaml"
CASE_BUDGET_S = 20.0
MARKERS = ("PWNED-DIR", "PWNED-FILE")
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "backtests").glob("*.yaml"))]
runner = CliRunner()


class SpecLoaded(TrackerError):
    """Raised by the wrapped loader once a spec has loaded: the fuzz case ends here."""


@pytest.fixture
def spec_project(tmp_path, monkeypatch):
    """A project folder (recs/, backtests/) as working directory; numba's cache kept in it."""
    import shutil

    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    (tmp_path / "backtests").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba-cache"))
    return tmp_path


@pytest.fixture
def stop_after_loading(monkeypatch):
    import tracker.backtest.run as pipeline

    real = pipeline.load_spec

    def load_spec(path):
        spec = real(path)
        raise SpecLoaded(f"spec loaded: {spec.name}")

    monkeypatch.setattr(pipeline, "load_spec", load_spec)


def run_spec(text: str | bytes, *extra: str) -> tuple[str, str, float]:
    path = Path(TARGET)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    t0 = time.perf_counter()
    with user_visible_warnings() as printed:
        result = runner.invoke(app, ["backtest", "run", TARGET, "--offline", *extra])
    seconds = time.perf_counter() - t0
    lines = result.stderr.splitlines()
    if result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: spec loaded: "):
        outcome, detail = VALID, lines[0]
    else:
        outcome, detail = classify(
            result.exit_code, result.stdout, result.stderr, [TARGET], exception=result.exception
        )
    if printed and outcome != CRASH:
        outcome, detail = CRASH, f"a Python warning printed to stderr: {printed[0].message!s:.200}"
    if any(Path(m).exists() for m in MARKERS):
        outcome, detail = CODE_RUN, f"marker created; {detail}"
    elif outcome != CRASH and seconds > CASE_BUDGET_S:
        outcome, detail = OVER_BUDGET, f"{seconds:.1f} s; {detail}"
    return outcome, detail, seconds


def fuzz_case(kind: str, text: str | bytes) -> None:
    outcome, detail, seconds = run_spec(text)
    check(CATEGORY, outcome, f"{kind}: {text[:120]!r}", detail, seconds=seconds)


_spec = st.fixed_dictionaries(
    {"name": st.sampled_from(["fuzz", "a-b_c", "x"]) | values},
    optional={
        "description": values,
        "select": st.fixed_dictionaries(
            {},
            optional={
                k: values
                for k in (
                    "brokers",
                    "analysts",
                    "reports",
                    "ratings",
                    "tickers",
                    "exclude_tickers",
                    "published_from",
                    "published_to",
                )
            },
        )
        | values,
        "entry": st.sampled_from(["next-close", "next-open", "same-close"]) | values,
        "exit": st.fixed_dictionaries({}, optional={"rule": values, "months": values}) | values,
        "sizing": st.fixed_dictionaries(
            {},
            optional={
                k: values for k in ("method", "max_positions", "amount_hkd", "rating_weights")
            },
        )
        | values,
        "capital_hkd": values,
        "costs": values,
        "board_lots": values,
        "benchmark": values,
        "unknown": values,
    },
)


@fuzz(quick=60, long=1200)
@given(text=mutated_text(SEEDS))
def test_mutated_specs(spec_project, stop_after_loading, text):
    fuzz_case("mutated spec", text)


@fuzz(quick=30, long=600)
@given(data=_spec)
def test_random_spec_structures(spec_project, stop_after_loading, data):
    fuzz_case("structure", dump(data))


@fuzz(quick=15, long=300)
@given(
    text=st.text(max_size=300)
    | st.text(alphabet=st.sampled_from(SPECIALS + list("name: fuzz\n")), max_size=200)
    | st.binary(max_size=200)
)
def test_random_spec_text(spec_project, stop_after_loading, text):
    fuzz_case("text" if isinstance(text, str) else "bytes", text)


HEAD = "name: fuzz\nselect: {}\n"
SPEC_ATTACKS = {
    "tag-object-apply": HEAD + "description: !!python/object/apply:os.mkdir [PWNED-DIR]\n",
    "tag-object-new": HEAD + "description: !!python/object/new:builtins.open [PWNED-FILE, w]\n",
    "billion-laughs": HEAD
    + "l0: &l0 ["
    + ", ".join(["lol"] * 10)
    + "]\n"
    + "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9)),
    "deep-nesting": HEAD + "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n",
    "over-size-limit": HEAD + "description: " + "x" * 1_000_001 + "\n",
    "huge-capital": HEAD + "capital_hkd: 1e999\n",
    "capital-4400-digits": HEAD + "capital_hkd: " + "9" * 4400 + "\n",
    "nan-rate": HEAD + "costs: {commission_rate: .nan}\n",
    "bad-date": HEAD.replace("select: {}", "select: {published_from: 2025-02-30}"),
    "months-huge": HEAD + "exit: {rule: fixed, months: '99999999999999999999M'}\n",
    "duplicate-key": HEAD + "name: other\n",
}


@pytest.mark.parametrize("name", list(SPEC_ATTACKS))
def test_spec_attack(spec_project, stop_after_loading, name):
    fuzz_case(f"attack {name}", SPEC_ATTACKS[name])


# --------------------------------------------------------------------------- whole runs


@pytest.fixture
def priced_project(spec_project, price_homes, tracker_home):
    """The project plus a store holding the shared prices up to 2025-10-31."""
    copy_home(price_homes.base, tracker_home)
    return spec_project


_valid_spec = st.fixed_dictionaries(
    {"name": st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)},
    optional={
        "select": st.fixed_dictionaries(
            {},
            optional={
                "brokers": st.lists(
                    st.sampled_from(["Huaan Securities", "财通证券", "Nobody"]), max_size=2
                ),
                "ratings": st.lists(st.sampled_from(["buy", "attention", "sell"]), max_size=2),
                "exclude_tickers": st.lists(
                    st.sampled_from(["0700.HK", "9988.HK"]), max_size=2, unique=True
                ),
            },
        ),
        "entry": st.sampled_from(["next-close", "next-open", "same-close"]),
        "exit": st.sampled_from(
            [
                {"rule": "horizon"},
                {"rule": "fixed", "months": 1},
                {"rule": "downgrade"},
                {"rule": "fixed", "months": "120M"},
            ]
        ),
        "sizing": st.sampled_from(
            [
                {"method": "equal", "max_positions": 1},
                {"method": "fixed", "amount_hkd": 0.01},
                {"method": "fixed", "amount_hkd": 9.9e9},
                {
                    "method": "rating",
                    "max_positions": 100000,
                    "rating_weights": {"attention": 10.0},
                },
            ]
        ),
        "capital_hkd": st.sampled_from([1e-6, 1.0, 1e6, 1e15]),
        "costs": st.sampled_from(
            [
                {"enabled": False},
                {"commission_rate": 0.0999},
                {"stamp_duty_rate": 0.0, "commission_min_hkd": 999999999},
            ]
        ),
        "board_lots": st.booleans(),
        "benchmark": st.sampled_from(["^HSI", "2800.HK", "^HSTECH", "9999.HK", "^ZZZZ"]),
    },
)


@pytest.mark.skipif(not LONG, reason="long profile only: each case is a whole backtest")
@fuzz(quick=1, long=25)
@given(data=_valid_spec)
def test_valid_odd_specs_run_to_the_end(priced_project, data):
    """Odd but valid specs run the whole backtest offline: a complete run folder, or a clean
    error."""
    from tracker.backtest.runs import is_complete

    Path(TARGET).write_text(dump(data), encoding="utf-8")
    t0 = time.perf_counter()
    result = runner.invoke(app, ["backtest", "run", TARGET, "--offline"])
    seconds = time.perf_counter() - t0
    lines = result.stderr.strip().splitlines()
    report = report_path(result.stdout)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome, detail = CRASH, f"{type(result.exception).__name__}: {result.exception}"
    elif "Traceback" in result.output:
        outcome, detail = CRASH, result.stderr[-300:]
    elif result.exit_code == 0 and report:
        folder = report.parent
        outcome = VALID if is_complete(folder) else CRASH
        detail = f"run {folder.name} complete" if outcome == VALID else f"incomplete {folder}"
    elif result.exit_code in (1, 2) and lines and lines[-1].startswith("error: "):
        outcome, detail = CLEAN_ERROR, lines[-1]
    else:
        outcome, detail = CRASH, f"exit {result.exit_code}: {result.stderr[-300:]!r}"
    check(CATEGORY, outcome, f"whole run: {data}", detail, seconds=seconds)


def report_path(stdout: str) -> Path | None:
    """The report of `backtest run`: the ``report<TAB>PATH`` row in a pipe (tsv)."""
    rows = [line.split("\t") for line in stdout.splitlines() if line.startswith("report\t")]
    return Path(rows[0][1]) if rows else None


def whole_run(spec_text: str) -> tuple[str, str]:
    """Run a spec file through ``tracker backtest run --offline``: (outcome, detail)."""
    from tracker.backtest.runs import is_complete

    Path(TARGET).write_text(spec_text, encoding="utf-8")
    result = runner.invoke(app, ["backtest", "run", TARGET, "--offline"])
    lines = result.stderr.strip().splitlines()
    report = report_path(result.stdout)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return CRASH, f"{type(result.exception).__name__}: {result.exception}"
    if result.exit_code == 0 and report and is_complete(report.parent):
        return VALID, "complete run"
    if result.exit_code in (1, 2) and lines and lines[-1].startswith("error: "):
        return CLEAN_ERROR, lines[-1]
    return CRASH, f"exit {result.exit_code}: {result.stderr[-300:]!r}"


def test_tiny_amount_without_board_lots_ends_cleanly(priced_project):
    spec = "name: tiny\nboard_lots: false\nsizing: {method: fixed, amount_hkd: 0.01}\n"
    outcome, detail = whole_run(spec)
    record(CATEGORY, outcome, "whole run: fixed amount_hkd 0.01, no board lots", detail)
    assert outcome in (VALID, CLEAN_ERROR), detail


# --------------------------------------------------------------------------- output paths


@fuzz(quick=40, long=2000)
@given(
    name=st.text(max_size=30)
    | st.sampled_from(
        [
            "..",
            "../x",
            "../../etc",
            "a/b",
            "/abs",
            "x/..",
            ".hidden",
            "․․",
            "%2e%2e",
            "a\\b",
            "a\x00b",
            "CON",
            "x" * 81,
            "ok-name",
            "a..b",
            "_x",
            "-x",
        ]
    )
)
def test_spec_names_cannot_leave_the_runs_folder(tmp_path_factory, name):
    """Every accepted spec name writes its run inside the runs folder; the others are refused."""
    from pydantic import ValidationError

    from tracker.backtest.runs import write_run

    root = tmp_path_factory.mktemp("paths")
    runs = root / "backtests" / "runs"
    runs.mkdir(parents=True)
    try:
        BacktestSpec.model_validate({"name": name})
        accepted = True
    except ValidationError:
        accepted = False
    from datetime import datetime

    try:
        final = write_run(runs, name, {"stats.json": "{}"}, datetime(2026, 1, 5, 12, 0))
    except TrackerError as exc:
        if accepted:
            check(PATHS, CRASH, repr(name), f"spec accepted but run folder refused: {exc}")
        check(PATHS, CLEAN_ERROR, repr(name), str(exc))
        return
    except (OSError, ValueError) as exc:
        check(PATHS, CRASH, repr(name), f"{type(exc).__name__}: {exc}")
        return
    inside = final.resolve().is_relative_to(runs.resolve()) and final.parent.parent == runs
    outside = [
        p
        for p in root.rglob("*")
        if not p.resolve().is_relative_to(runs.resolve()) and p != runs and p != runs.parent
    ]
    if not accepted:
        check(PATHS, LEAK, repr(name), f"refused by the spec but written to {final}")
    check(
        PATHS,
        ESCAPED if inside and not outside else LEAK,
        repr(name),
        f"written to {final.relative_to(root)}" if inside else f"escaped to {final}",
    )


@pytest.mark.parametrize("name", ["../../escape", "..", "a/../../b", "/tmp/abs"])
def test_dot_dot_spec_name_through_the_command(spec_project, name):
    """``tracker backtest run`` refuses such a spec before writing anything anywhere."""
    text = f"name: '{name}'\nselect: {{}}\n"
    Path(TARGET).write_text(text, encoding="utf-8")
    before = {p for p in spec_project.parent.rglob("*")}
    outcome, detail, seconds = run_spec(text)
    created = {p for p in spec_project.parent.rglob("*")} - before
    stray = [p for p in created if "numba-cache" not in p.parts]
    if outcome == CLEAN_ERROR and not stray:
        check(PATHS, ESCAPED, f"command with name {name!r}", detail, seconds=seconds)
    else:
        check(
            PATHS,
            LEAK if stray else CRASH,
            f"command with name {name!r}",
            f"{outcome}: {detail}; created {stray}",
        )
    assert os.path.exists(TARGET)


@pytest.mark.parametrize("value", [".inf", "1e999", ".nan", "1e12"])
def test_infinite_capital_is_refused(tmp_path, value):
    from tracker.backtest.spec import load_spec
    from tracker.errors import InvalidInput

    path = tmp_path / "spec.yaml"
    path.write_text(f"name: inf\ncapital_hkd: {value}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_spec(path)
    # One problem, on line 2, naming the field and the limit.
    assert str(err.value).splitlines()[-1].startswith(f"{path}:2: capital_hkd: "), str(err.value)
    assert "below 1,000,000,000,000" in str(err.value)
