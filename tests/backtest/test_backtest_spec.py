"""Backtest specs: the shipped ones validate; bad ones fail with file:line: field: message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tracker.backtest.schedule import EmptySelection, select_calls
from tracker.backtest.spec import BacktestSpec, load_spec
from tracker.errors import InvalidInput
from tracker.recs.yamlio import dump_yaml, load_yaml

SHIPPED = ["huaan-hk-internet-2025", "caitong-ai-2025", "all-calls"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_specs_validate(project_root, name):
    spec = load_spec(project_root / "backtests" / f"{name}.yaml")
    assert spec.name == name
    assert spec.benchmark == "^HSI"
    assert spec.capital_hkd > 0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        load_spec(path)
    return [str(p).replace(str(path.parent) + "/", "") for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: x\nexit:\n  rule: fixed\n  mounths: 6\n",
            ["spec.yaml:4: exit.mounths: unknown field 'mounths': check the spelling"],
            id="unknown-field",
        ),
        pytest.param(
            "name: x\ncapital_hkd: -5000\n",
            [
                "spec.yaml:2: capital_hkd: initial capital must be a positive amount of HKD below"
                " 1,000,000,000,000, got -5000"
            ],
            id="negative-capital",
        ),
        pytest.param(
            "name: x\nexit:\n  rule: fixed\n  months: 0\n",
            ["spec.yaml:4: exit.months: holding period must be at least 1 month, got 0"],
            id="holding-period-0",
        ),
        pytest.param(
            "name: x\nexit:\n  rule: fixed\n  months: 0M\n",
            ["spec.yaml:4: exit.months: holding period must be at least 1 month, got 0"],
            id="holding-period-0M",
        ),
        pytest.param(
            "name: ../../etc\n",
            [
                "spec.yaml:1: name: '../../etc' is not a spec name: lower-case letters, digits, '-'"
                " and '_' only (it names the folder backtests/runs/<name>/)"
            ],
            id="name-escapes-folder",
        ),
        pytest.param(
            "name: x\nsizing:\n  method: fixed\n",
            ["spec.yaml:2: sizing.amount_hkd: fixed sizing needs an amount per call, e.g. 100000"],
            id="fixed-without-amount",
        ),
        pytest.param(
            "name: x\nexit:\n  rule: fixed\n",
            ["spec.yaml:2: exit.months: a fixed exit needs a holding period, e.g. months: 6"],
            id="fixed-without-months",
        ),
        pytest.param(
            "name: x\nselect:\n  published_from: 2025-06-01\n  published_to: 2025-01-01\n",
            ["spec.yaml:4: select.published_to: 2025-01-01 is before published_from 2025-06-01"],
            id="dates-reversed",
        ),
        pytest.param(
            "name: x\nbenchmark: 'HSI; rm'\n",
            ["spec.yaml:2: benchmark: 'HSI; rm' is not a price symbol such as ^HSI or 2800.HK"],
            id="bad-benchmark-symbol",
        ),
    ],
)
def test_bad_specs_name_the_line_and_field(tmp_path, text, expected):
    assert problems(write(tmp_path, text)) == expected


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = (
        "name: x\n"
        "capital_hkd: 0\n"
        "entry: next-day\n"
        "select:\n"
        "  ratings: [buy, great]\n"
        "sizing:\n"
        "  max_positions: 0\n"
    )
    assert problems(write(tmp_path, text)) == [
        "spec.yaml:2: capital_hkd: initial capital must be a positive amount of HKD"
        " below 1,000,000,000,000, got 0",
        "spec.yaml:3: entry: Input should be 'next-close', 'next-open' or 'same-close'",
        "spec.yaml:5: select.ratings.1: Input should be 'buy', 'overweight', 'neutral',"
        " 'underweight', 'sell' or 'attention'",
        "spec.yaml:7: sizing.max_positions: Input should be greater than or equal to 1",
    ]


def test_months_accepts_6M_and_defaults_are_documented_values(tmp_path):
    spec = load_spec(write(tmp_path, "name: x\nexit:\n  rule: fixed\n  months: 6M\n"))
    assert spec.exit.months == 6
    assert spec.entry == "next-close"
    assert spec.sizing.method == "equal" and spec.sizing.max_positions == 20
    assert spec.capital_hkd == 1_000_000
    assert spec.costs.enabled and spec.board_lots and spec.benchmark == "^HSI"


def test_spec_yaml_round_trips(project_root, tmp_path):
    src = project_root / "backtests" / "all-calls.yaml"
    again = write(tmp_path, dump_yaml(load_yaml(src)))
    assert load_spec(again) == load_spec(src)
    assert load_spec(again).digest() == load_spec(src).digest()


def test_digest_changes_with_any_field():
    a = BacktestSpec(name="x")
    b = BacktestSpec(name="x", capital_hkd=2_000_000)
    assert a.digest() != b.digest()
    assert a.digest() == BacktestSpec(name="x").digest()


def calls_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "call_id": ["r1#1", "r1#2", "r2#1"],
            "report": ["r1", "r1", "r2"],
            "broker": ["Huaan Securities", "Huaan Securities", "Caitong Securities"],
            "broker_local": ["华安证券", "华安证券", "财通证券"],
            "analysts": [["A"], ["A"], ["B"]],
            "published": pd.to_datetime(["2025-05-06", "2025-05-06", "2025-09-15"]),
            "start_date": pd.to_datetime(["2025-05-06", "2025-05-06", "2025-09-18"]),
            "ticker": ["0700.HK", "9988.HK", "0700.HK"],
            "rating": ["attention", "buy", "attention"],
        }
    )


def test_empty_selection_is_a_clear_error():
    with pytest.raises(EmptySelection) as info:
        select_calls(
            calls_frame(), BacktestSpec(name="x", select={"brokers": ["Nobody"]}).select, "x"
        )
    assert str(info.value) == (
        "spec 'x' selects none of the 3 calls (brokers: Nobody): check the names and dates"
        " with `tracker recs list`"
    )


def test_selection_filters_and_as_of():
    sel = BacktestSpec(name="x", select={"exclude_tickers": ["9988.HK"]}).select
    assert list(select_calls(calls_frame(), sel)["call_id"]) == ["r1#1", "r2#1"]
    # the Caitong call was first known on 2025-09-18: not yet on 2025-09-17
    assert list(select_calls(calls_frame(), sel, as_of="2025-09-17")["call_id"]) == ["r1#1"]
    with pytest.raises(EmptySelection) as info:
        select_calls(calls_frame(), sel, "x", as_of="2025-05-05")
    assert str(info.value).startswith("spec 'x' selects none of the 0 calls known on 2025-05-05 (")
    sel = BacktestSpec(name="x", select={"brokers": ["财通证券"]}).select
    assert list(select_calls(calls_frame(), sel)["call_id"]) == ["r2#1"]
