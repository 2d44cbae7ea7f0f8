"""`tracker backtest sweep` on the bundled Huaan spec and real prices: the sweep folder,
its formats, `list` and `compare`, and every variant equal to its spec run alone.

Variant specs are written as JSON (a subset of YAML) for `backtest run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
HUAAN = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"
runner = CliRunner()
STATS = (
    "final_equity_hkd",
    "total_return",
    "excess_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "trades",
    "costs_paid_hkd",
)


@pytest.fixture(scope="module", autouse=True)
def numba_default_cache():
    import vectorbt  # noqa: F401


@pytest.fixture
def env(tmp_path, tracker_home, monkeypatch, shared_dir):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    prices = shared_dir / "data" / "prices"
    runs = tmp_path / "runs"
    # One run fills the store from the shared CSV files; the sweeps then read it offline.
    res = runner.invoke(
        app,
        ["backtest", "run", str(HUAAN), "--source", f"csv:{prices}", "--runs-dir", str(runs)],
    )
    assert res.exit_code == 0, res.output
    return {"runs": runs, "home": tracker_home, "tmp": tmp_path}


def sweep(env, *args: str):
    return runner.invoke(
        app,
        ["backtest", "sweep", str(HUAAN), "--offline", "--runs-dir", str(env["runs"]), *args],
    )


def test_sweep_json_folder_and_each_variant_equal_to_its_run(env):
    res = sweep(
        env,
        "--vary",
        "entry_delay_sessions=0,2,5",
        "--vary",
        "costs=on,off",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    variants = doc["variants"]
    assert [(v["entry_delay_sessions"], v["costs"]) for v in variants] == [
        (0, "on"),
        (0, "off"),
        (2, "on"),
        (2, "off"),
        (5, "on"),
        (5, "off"),
    ]
    assert all(list(v) == ["entry_delay_sessions", "costs", *STATS] for v in variants)

    folder = sorted(p for p in (env["runs"] / "huaan-hk-internet-2025").iterdir())[-1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["sweep.json", "variants.csv", "report.html", "manifest.json"]
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["variants"] == 6
    assert manifest["simulations"] == 1
    assert manifest["vary"] == {"entry_delay_sessions": ["0", "2", "5"], "costs": ["on", "off"]}
    html = (folder / "report.html").read_text()
    # The heatmap (two varied fields) and the decay curve (entry delay varied), inline SVG.
    assert html.count("<svg ") == 2 and "<script" not in html and "data:image" not in html
    # Heatmap: 3 delays x costs on/off = 6 cells, each with its number.
    assert html.count('<g class="cell">') == 6

    # Each variant against `backtest run` of the same spec written to a file.
    from tracker.backtest.spec import load_spec

    base = load_spec(HUAAN).model_dump(mode="json")
    for v in variants:
        spec = {
            **base,
            "entry_delay_sessions": v["entry_delay_sessions"],
            "costs": {**base["costs"], "enabled": v["costs"] == "on"},
        }
        path = env["tmp"] / f"v{v['entry_delay_sessions']}{v['costs']}.yaml"
        path.write_text(json.dumps(spec, ensure_ascii=False))
        runs = env["tmp"] / "single"
        res = runner.invoke(
            app, ["backtest", "run", str(path), "--offline", "--runs-dir", str(runs)]
        )
        assert res.exit_code == 0, res.output
        run = sorted((runs / base["name"]).iterdir())[-1]
        stats = json.loads((run / "stats.json").read_text())
        assert v["final_equity_hkd"] == pytest.approx(stats["final_equity_hkd"], abs=1e-9)
        for key in STATS:
            assert v[key] == pytest.approx(stats[key], abs=1e-12), key


def test_library_sweep_has_the_same_trades_as_each_run(env):
    from tracker.backtest.run import run_spec_file
    from tracker.backtest.spec import BacktestSpec
    from tracker.backtest.sweep_run import run_sweep_file
    from tracker.config import Settings

    settings = Settings(home=env["home"])
    out = run_sweep_file(
        HUAAN,
        settings,
        ["exit.rule=fixed,horizon", "exit.months=3", "sizing.max_positions=5,15"],
        runs_dir=env["tmp"] / "sw",
    )
    assert len(out.sweep.variants) == 4
    for v, res in zip(out.sweep.variants, out.sweep.results, strict=True):
        path = env["tmp"] / "v.yaml"
        path.write_text(json.dumps(v.spec.model_dump(mode="json"), ensure_ascii=False))
        alone = run_spec_file(path, settings, runs_dir=env["tmp"] / "one")
        assert isinstance(v.spec, BacktestSpec)
        assert res.final_equity == pytest.approx(alone.result.final_equity, abs=1e-9)
        assert res.trades.equals(alone.result.trades)


def test_tsv_list_and_compare(env):
    res = sweep(env, "--vary", "sizing.max_positions=5,15", "--format", "tsv")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split("\t") == ["sizing.max_positions", *STATS, "error"]
    assert [ln.split("\t")[0] for ln in lines[1:]] == ["5", "15"]
    res = sweep(env, "--vary", "sizing.max_positions=5,10", "--format", "csv")
    assert res.exit_code == 0, res.output

    res = runner.invoke(
        app, ["backtest", "list", "--runs-dir", str(env["runs"]), "--format", "json"]
    )
    kinds = [(r["kind"], r["variants"]) for r in json.loads(res.stdout)]
    assert kinds == [("run", None), ("sweep", 2), ("sweep", 2)]

    folders = sorted((env["runs"] / "huaan-hk-internet-2025").iterdir())
    res = runner.invoke(
        app,
        ["backtest", "compare", str(folders[1]), str(folders[2]), "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    diff = json.loads(res.stdout)
    assert [r["sizing.max_positions"] for r in diff["variants"]] == ["5", "15", "10"]
    assert diff["variants"][0]["change"] == pytest.approx(0.0, abs=1e-15)
    assert diff["variants"][1]["b"] is None and diff["variants"][2]["a"] is None

    res = runner.invoke(app, ["backtest", "compare", str(folders[0]), str(folders[1])])
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        f"error: cannot compare a run ({folders[0]}) with a sweep ({folders[1]}):"
        " compare two runs or two sweeps"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--vary", "capital_hkd=1,2"],
            "error: --vary 'capital_hkd=1,2': 'capital_hkd' cannot be varied; use one of"
            " exit.months, exit.rule, entry, entry_delay_sessions, sizing.max_positions,"
            " sizing.method, costs",
            id="field",
        ),
        pytest.param(
            ["--vary", "costs=on,off", "--heatmap", "costs,entry"],
            "error: --heatmap costs,entry: give two of the varied fields (costs)",
            id="heatmap",
        ),
    ],
)
def test_bad_sweeps_fail_before_reading_prices(env, args, message):
    res = sweep(env, *args)
    assert res.exit_code == 1
    assert res.stderr.strip() == message


def test_sweep_says_staleness_as_a_run_does_in_one_line(env):
    # The shared CSVs end months before today: both commands say so in one sentence, and
    # name no symbol one by one.
    run = runner.invoke(
        app, ["backtest", "run", str(HUAAN), "--offline", "--runs-dir", str(env["runs"])]
    )
    swept = sweep(env, "--vary", "entry_delay_sessions=0,1", "--format", "csv")
    assert run.exit_code == 0 and swept.exit_code == 0, swept.output

    def notes(res):
        return [line for line in res.stderr.splitlines() if line.startswith("note: ")]

    assert notes(swept) == [n for n in notes(run) if "not traded" not in n]
    (line,) = notes(swept)
    assert "price series end between" in line
    assert "no new bars" not in line and "0700.HK" not in line
