"""Run folders: atomic writes, listing only complete runs, safe names, banners, comparing."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from tracker.backtest.runs import (
    RUN_FILES,
    RunNotFound,
    compare_runs,
    csv_text,
    is_complete,
    json_text,
    list_runs,
    load_run,
    read_csv,
    resolve_run,
    write_run,
)
from tracker.errors import TrackerError

NOW = datetime(2026, 1, 2, 3, 4, 5)


def files(total_return: float = 0.1, spec_sha: str = "aaa", calls=("c#1",)) -> dict[str, str]:
    trades = pd.DataFrame({"call_id": list(calls), "status": ["closed"] * len(calls)})
    return {
        "stats.json": json_text({"total_return": total_return, "trades": len(calls)}),
        "trades.csv": csv_text(trades),
        "equity.csv": "session,portfolio\n2025-01-02,1\n",
        "report.html": "<html></html>",
        "manifest.json": json_text({"spec_sha256": spec_sha, "as_of": "2025-12-31"}),
    }


def test_write_run_makes_a_complete_folder(tmp_path):
    path = write_run(tmp_path, "demo", files(), NOW)
    assert path == tmp_path / "demo" / "20260102-030405"
    assert sorted(p.name for p in path.iterdir()) == sorted(RUN_FILES)
    assert is_complete(path)
    # a second run in the same second gets its own folder
    again = write_run(tmp_path, "demo", files(), NOW)
    assert again.name == "20260102-030405-2"
    assert [r.run for r in list_runs(tmp_path)] == ["20260102-030405", "20260102-030405-2"]


def test_a_failed_write_leaves_no_run(tmp_path):
    bad = files()
    bad["report.html"] = object()  # not text: the write fails half way
    with pytest.raises(TypeError):
        write_run(tmp_path, "demo", bad, NOW)
    assert list((tmp_path / "demo").iterdir()) == []
    assert list_runs(tmp_path) == []


def test_list_ignores_incomplete_runs(tmp_path):
    write_run(tmp_path, "demo", files(), NOW)
    half = tmp_path / "demo" / "20260102-040000"  # a run being written by hand, no manifest
    half.mkdir()
    (half / "stats.json").write_text("{}")
    hidden = tmp_path / "demo" / ".incomplete-20260102-050000-123"  # an interrupted write
    hidden.mkdir()
    for name, content in files().items():
        (hidden / name).write_text(content)
    broken = tmp_path / "demo" / "20260102-060000"  # manifest cut short
    broken.mkdir()
    for name, content in files().items():
        (broken / name).write_text(content)
    (broken / "manifest.json").write_text('{"spec_sha256": ')
    assert [r.run for r in list_runs(tmp_path)] == ["20260102-030405"]
    with pytest.raises(RunNotFound, match="is not a complete run"):
        load_run(half)


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "/etc", "", ".hidden"])
def test_spec_names_cannot_escape_the_runs_folder(tmp_path, name):
    with pytest.raises(TrackerError, match="is not a spec name"):
        write_run(tmp_path / "runs", name, files(), NOW)
    assert not (tmp_path / "x").exists()


def test_banner_is_the_first_line_of_every_output():
    banner = "SIMULATED DATA: seeded one-factor model, not market prices"
    text = json_text({"a": 1, "b": [1, 2]}, banner)
    assert (
        text.splitlines()[0]
        == '{"WARNING": "SIMULATED DATA: seeded one-factor model, not market prices",'
    )
    assert json.loads(text) == {"WARNING": banner, "a": 1, "b": [1, 2]}
    assert json.loads(json_text({}, banner)) == {"WARNING": banner}
    csv = csv_text(pd.DataFrame({"call_id": ["r#1"], "x": [1.5]}), banner)
    assert csv.splitlines()[0] == f"# {banner}"


def test_read_csv_skips_only_the_banner(tmp_path):
    frame = pd.DataFrame({"call_id": ["2025-05-06-huaan#1"], "x": [1.5]})
    for banner in (None, "SIMULATED DATA"):
        path = tmp_path / "t.csv"
        path.write_text(csv_text(frame, banner))
        pd.testing.assert_frame_equal(read_csv(path), frame)


def test_json_values_are_plain():
    text = json_text(
        {"nan": float("nan"), "day": pd.Timestamp("2025-05-07"), "t": pd.NaT, "inf": float("inf")}
    )
    assert json.loads(text) == {"nan": None, "day": "2025-05-07", "t": None, "inf": None}


def test_resolve_run_by_path_spec_or_latest(tmp_path):
    first = write_run(tmp_path, "demo", files(), NOW)
    second = write_run(tmp_path, "demo", files(), datetime(2026, 1, 3))
    assert resolve_run("demo", tmp_path) == second
    assert resolve_run(f"demo/{first.name}", tmp_path) == first
    assert resolve_run(str(first), tmp_path) == first
    with pytest.raises(RunNotFound, match="no complete run 'nope'"):
        resolve_run("nope", tmp_path)


def test_compare_names_the_inputs_that_differ(tmp_path):
    a = load_run(write_run(tmp_path, "demo", files(0.10, "aaa", ("c#1", "c#2")), NOW))
    b = load_run(
        write_run(tmp_path, "demo", files(0.25, "bbb", ("c#2", "c#3")), datetime(2026, 2, 1))
    )
    diff = compare_runs(a, b)
    row = next(r for r in diff["stats"] if r["stat"] == "total_return")
    assert row["a"] == 0.10 and row["b"] == 0.25 and row["change"] == pytest.approx(0.15)
    assert diff["inputs"] == [{"input": "spec_sha256", "a": "aaa", "b": "bbb"}]
    assert diff["calls"] == {"only_a": ["c#1"], "only_b": ["c#3"]}
    assert list(read_csv(a.path / "trades.csv")["call_id"]) == ["c#1", "c#2"]
