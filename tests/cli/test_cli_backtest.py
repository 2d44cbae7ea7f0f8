"""`tracker backtest` end to end on real prices, and its errors before any computation.

The real-data tests fill a temporary price store from the shared CSV files and
run the shipped Huaan spec through the CLI. Expected entries, exits and costs
are read from the CSV files with plain pandas and worked out by hand.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import empyrical
import pandas as pd
import pytest
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
HUAAN = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"
runner = CliRunner()

#: Board lots of the 15 Huaan names (HKEX, as in the bundled registry).
LOTS = {
    "0700.HK": 100,
    "9988.HK": 100,
    "1810.HK": 200,
    "1024.HK": 100,
    "3690.HK": 100,
    "9961.HK": 50,
    "0780.HK": 400,
    "9999.HK": 100,
    "1698.HK": 100,
    "0772.HK": 200,
    "9899.HK": 50,
    "0241.HK": 2000,
    "0268.HK": 1000,
    "2556.HK": 100,
    "0992.HK": 2000,
}


@pytest.fixture(scope="module", autouse=True)
def numba_default_cache():
    # Load vectorbt before any command sets NUMBA_CACHE_DIR, so that this test process
    # uses (and keeps) numba's default cache instead of compiling into a temp folder.
    import vectorbt  # noqa: F401


@pytest.fixture
def env(tmp_path, tracker_home, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    return {"runs": tmp_path / "runs", "home": tracker_home}


@pytest.fixture
def prices_dir(shared_dir) -> Path:
    return shared_dir / "data" / "prices"


def csv_close(prices_dir: Path, symbol: str) -> pd.Series:
    frame = pd.read_csv(prices_dir / f"{symbol.lstrip('^')}.csv", parse_dates=["date"])
    return frame.set_index("date")["close"]


def run_cli(*args: str):
    result = runner.invoke(app, list(args))
    return result


def test_huaan_spec_end_to_end_on_real_prices(env, prices_dir):
    res = run_cli(
        "backtest",
        "run",
        str(HUAAN),
        "--source",
        f"csv:{prices_dir}",
        "--runs-dir",
        str(env["runs"]),
    )
    assert res.exit_code == 0, res.output
    runs = sorted((env["runs"] / "huaan-hk-internet-2025").iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert sorted(p.name for p in run.iterdir()) == sorted(
        ["stats.json", "trades.csv", "equity.csv", "report.html", "manifest.json"]
    )
    # In a pipe: tab-separated stat rows, the report's path as the last row.
    assert res.stdout.splitlines()[-1] == f"report\t{run / 'report.html'}\t"
    assert res.stdout.splitlines()[0] == "stat\tportfolio\tbenchmark"
    assert any(line.startswith("total return\t") for line in res.stdout.splitlines())

    trades = pd.read_csv(run / "trades.csv", parse_dates=["entry_session", "exit_session"])
    equity = pd.read_csv(run / "equity.csv", parse_dates=["session"], index_col="session")
    stats = json.loads((run / "stats.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(trades) == 15 and (trades["status"] != "skipped").all()

    # Published Tuesday 2025-05-06: bought at the close of Wednesday 2025-05-07, each with
    # 1,000,000 / 15 HKD rounded down to whole lots (value at the previous close = capital).
    for row in trades.itertuples():
        close = csv_close(prices_dir, row.ticker)
        assert str(row.entry_session.date()) == "2025-05-07"
        assert row.entry_price == pytest.approx(close["2025-05-07"], rel=1e-12)
        lot = LOTS[row.ticker]
        assert row.shares == math.floor(1_000_000 / 15 / (row.entry_price * lot)) * lot
    # Attention calls hold for the 6-month industry horizon: due 2025-11-07 (a Friday).
    t = trades.set_index("ticker")
    assert str(t.loc["0700.HK", "exit_session"].date()) == "2025-11-07"
    assert t.loc["0700.HK", "exit_price"] == pytest.approx(
        csv_close(prices_dir, "0700.HK")["2025-11-07"]
    )
    # 1698.HK's data stop on 2025-10-30: sold on the due session at that close, marked open.
    assert t.loc["1698.HK", "status"] == "open"
    assert t.loc["1698.HK", "exit_price"] == pytest.approx(
        csv_close(prices_dir, "1698.HK")["2025-10-30"]
    )
    # 9899.HK has no rows from 2025-10-31 to 2025-11-11: sold at the next bar, 2025-11-12.
    assert str(t.loc["9899.HK", "exit_session"].date()) == "2025-11-12"

    # 0700.HK by hand: 100 shares × 479.9692383 = 47,996.92 on 2025-05-07:
    # commission 0.03% 14.40, stamp 47.997 -> 48, SFC 1.30, AFRC 0.07, fee 2.71,
    # settlement 0.002% = 0.96 -> minimum 2.00 (before 2025-06-30)      -> 68.48
    # sold 100 × 626.6983643 = 62,669.84 on 2025-11-07: commission 18.80, stamp 63,
    # SFC 1.69, AFRC 0.09, fee 3.54, settlement 0.0042% 2.63 (no minimum) -> 89.75
    assert t.loc["0700.HK", "shares"] == 100
    assert t.loc["0700.HK", "entry_costs_hkd"] == pytest.approx(68.48, abs=1e-9)
    assert t.loc["0700.HK", "exit_costs_hkd"] == pytest.approx(89.75, abs=1e-9)

    # Everything is sold at the end: final equity = capital + the trades' profits.
    final = 1_000_000 + trades["pnl_hkd"].sum()
    assert equity["portfolio"].iloc[-1] == pytest.approx(final, rel=1e-9)
    assert equity["cash"].iloc[-1] == pytest.approx(final, rel=1e-9)
    assert stats["final_equity_hkd"] == pytest.approx(final, rel=1e-9)
    assert stats["costs_paid_hkd"] == pytest.approx(
        (trades["entry_costs_hkd"] + trades["exit_costs_hkd"]).sum(), abs=1e-6
    )
    # The benchmark is ^HSI bought on the first session (2025-05-06), scaled to the capital.
    hsi = csv_close(prices_dir, "^HSI")
    assert str(equity.index[0].date()) == "2025-05-06"
    assert equity["benchmark"].iloc[-1] == pytest.approx(
        1e6 * hsi[equity.index[-1]] / hsi["2025-05-06"], rel=1e-9
    )
    # Statistics against empyrical on the same daily returns, annualised by HKEX's 246
    # sessions a year (written out: empyrical's default is the US 252).
    r = equity["portfolio"].pct_change().dropna()
    rb = equity["benchmark"].pct_change().dropna()
    assert stats["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=246), rel=1e-9)
    assert stats["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9)
    assert stats["beta"] == pytest.approx(empyrical.beta(r, rb), rel=1e-9)
    assert stats["cagr"] == pytest.approx(empyrical.cagr(r, annualization=246), rel=1e-9)

    assert manifest["simulated"] is False
    assert manifest["spec_name"] == "huaan-hk-internet-2025"
    assert len(manifest["price_fingerprint"]) == 64 and len(manifest["spec_sha256"]) == 64
    html = (run / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "http://" not in html and "https://" not in html
    assert html.count("<svg ") == 2  # the two charts, inline SVG (were base64 PNG)


def test_list_compare_and_as_of(env, prices_dir):
    common = ["--source", f"csv:{prices_dir}", "--runs-dir", str(env["runs"])]
    assert run_cli("backtest", "run", str(HUAAN), *common).exit_code == 0
    # Known on 2025-08-29 only: the positions are still held and sold at that close.
    res = run_cli("backtest", "run", str(HUAAN), "--as-of", "2025-08-29", *common)
    assert res.exit_code == 0, res.output
    listed = run_cli("backtest", "list", "--runs-dir", str(env["runs"]), "--format", "json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [r["spec"] for r in rows] == ["huaan-hk-internet-2025"] * 2
    full, cut = sorted(rows, key=lambda r: r["as_of"], reverse=True)
    assert cut["as_of"] == "2025-08-29"
    cut_trades = pd.read_csv(Path(cut["path"]) / "trades.csv")
    assert set(cut_trades["status"]) == {"open"}
    equity = pd.read_csv(Path(cut["path"]) / "equity.csv")
    assert equity["session"].iloc[-1] == "2025-08-29"

    cmp = run_cli(
        "backtest",
        "compare",
        full["path"],
        cut["path"],
        "--runs-dir",
        str(env["runs"]),
        "--format",
        "json",
    )
    assert cmp.exit_code == 0, cmp.output
    diff = json.loads(cmp.stdout)
    changed = {row["input"] for row in diff["inputs"]}
    assert {"as_of", "data_end", "price_window"} <= changed
    assert "spec_sha256" not in changed  # same spec
    table = run_cli("backtest", "compare", full["path"], cut["path"], "--format", "table")
    assert table.exit_code == 0 and "inputs that differ" in table.stdout
    piped = run_cli("backtest", "compare", full["path"], cut["path"])
    assert piped.stdout.splitlines()[0] == "stat\ta\tb\tchange"
    assert any(line.startswith("input as_of: A ") for line in piped.stderr.splitlines())


def test_simulated_prices_are_announced_on_every_first_line(env):
    res = run_cli(
        "backtest", "run", str(HUAAN), "--source", "simulated", "--runs-dir", str(env["runs"])
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("# SIMULATED DATA")
    run = next((env["runs"] / "huaan-hk-internet-2025").iterdir())
    for name in ("stats.json", "manifest.json"):
        first = (run / name).read_text().splitlines()[0]
        assert first.startswith('{"WARNING": "SIMULATED DATA'), name
    for name in ("trades.csv", "equity.csv"):
        assert (run / name).read_text().startswith("# SIMULATED DATA"), name
    assert (run / "report.html").read_text().startswith("<!-- SIMULATED DATA")
    assert json.loads((run / "manifest.json").read_text())["simulated"] is True


@pytest.fixture
def no_computation(monkeypatch):
    """Fail the test if prices are loaded or the engine runs."""

    def boom(*_a, **_k):
        raise AssertionError("computation started")

    monkeypatch.setattr("tracker.prices.load_panel", boom)
    monkeypatch.setattr("tracker.backtest.engine.run_backtest", boom)


def write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_spec_lists_every_problem_before_any_computation(env, tmp_path, no_computation):
    spec = write_spec(
        tmp_path, "name: bad\ncapital_hkd: -1\nexit:\n  rule: fixed\n  months: 0\nsize: 3\n"
    )
    res = run_cli("backtest", "run", str(spec), "--offline", "--runs-dir", str(env["runs"]))
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        f"{spec}:2: capital_hkd: initial capital must be a positive amount of HKD"
        " below 1,000,000,000,000,"
        " got -1",
        f"{spec}:5: exit.months: holding period must be at least 1 month, got 0",
        f"{spec}:6: size: unknown field 'size': check the spelling",
        "error: 3 problems found",
    ]
    assert not env["runs"].exists()


def test_empty_selection_fails_before_loading_prices(env, tmp_path, no_computation):
    spec = write_spec(tmp_path, "name: nobody\nselect:\n  brokers: [Nobody Securities]\n")
    res = run_cli("backtest", "run", str(spec), "--offline", "--runs-dir", str(env["runs"]))
    assert res.exit_code == 1
    last = res.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"error: spec 'nobody' selects none of the \d+ calls \(brokers: Nobody Securities\):"
        r" check the names and dates with `tracker recs list`",
        last,
    ), last


def test_benchmark_without_data_fails_before_the_engine(env, tmp_path, prices_dir, monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("engine started")

    monkeypatch.setattr("tracker.backtest.engine.run_backtest", boom)
    spec = write_spec(
        tmp_path,
        "name: nobench\nselect:\n  brokers: [Huaan Securities]\nbenchmark: ^NOPE\n",
    )
    res = run_cli(
        "backtest",
        "run",
        str(spec),
        "--source",
        f"csv:{prices_dir}",
        "--runs-dir",
        str(env["runs"]),
    )
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines()[-1] == (
        "error: benchmark ^NOPE has no price on or before 2025-05-06 (it has no bars at all):"
        " load its prices with `tracker prices update`, or choose another benchmark"
    )
    assert not env["runs"].exists()


def test_missing_run_for_compare_is_a_clear_error(env):
    res = run_cli("backtest", "compare", "nope", "nada", "--runs-dir", str(env["runs"]))
    assert res.exit_code == 1
    assert "error: no complete run 'nope'" in res.stderr


def test_numba_cache_goes_under_the_tracker_home(tmp_path, monkeypatch):
    from tracker.backtest.run import configure_numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    folder = configure_numba_cache(tmp_path / "home")
    assert folder == tmp_path / "home" / "numba-cache" and folder.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)
    # a cache folder the user chose is kept
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert configure_numba_cache(tmp_path / "home") == tmp_path / "mine"
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_backtest_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "import tracker.cli\n"
        "CliRunner().invoke(tracker.cli.app, ['backtest', 'run', '--help'])\n"
        "CliRunner().invoke(tracker.cli.app, ['backtest', 'list', '--runs-dir', 'nowhere'])\n"
        "print(','.join(m for m in ('vectorbt', 'numba', 'matplotlib', 'jinja2')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
