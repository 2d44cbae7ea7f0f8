"""``tracker score`` end to end, on the real price files beside the repository.

The price store is filled from the shared CSV folder with the prices CSV
source. The expected figures are recomputed here plainly from the CSV files:
trading days are the rows of the files themselves, not the HKEX calendar.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.book import original_recs
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
HUAAN = "2025-05-06-huaan-hk-internet-ai"
NOW = pd.Timestamp("2026-11-22 12:00", tz="UTC")
runner = CliRunner()


@pytest.fixture(scope="module")
def recs_dir(tmp_path_factory) -> Path:
    """A calls folder with the scales and the two reports these figures were worked out on."""
    return original_recs(tmp_path_factory.mktemp("recs") / "recs")


@pytest.fixture(scope="module")
def store_home(tmp_path_factory, shared_dir, recs_dir) -> Path:
    """A price store holding every call's ticker, ^HSI and 2800.HK from the CSV files."""
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource
    from tracker.recs.book import load_book

    home = tmp_path_factory.mktemp("score-home")
    tickers = sorted(set(load_book(recs_dir).calls()["ticker"]))
    summary = update_prices(
        PriceStore(home),
        CsvFolderSource(shared_dir / "data" / "prices"),
        [*tickers, "^HSI", "2800.HK"],
        since="2024-01-01",
        now=NOW,
    )
    assert summary.ok, summary.failed
    return home


@pytest.fixture
def home(store_home, recs_dir, monkeypatch) -> Path:
    monkeypatch.setenv("TRACKER_HOME", str(store_home))
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs_dir))
    return store_home


def score(*args: str):
    return runner.invoke(app, ["score", "--offline", *args])


def score_json(*args: str) -> dict:
    result = score("--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def read_close(name: str) -> pd.DataFrame:
    # Only called by tests that use `home`, which already required the shared folder.
    return pd.read_csv(SHARED / "data" / "prices" / f"{name}.csv", parse_dates=["date"]).set_index(
        "date"
    )


def plain_excess(ticker: str, bench: str, published: str, months: int):
    """Next-close entry and the ``months`` checkpoint, from the CSV rows alone."""
    s, b = read_close(ticker), read_close(bench)
    entry = s.index[s.index > pd.Timestamp(published)][0]  # first trading day after
    target = entry + pd.DateOffset(months=months)
    at = s.index[s.index >= target][0]
    for frame in (s, b):  # real bars on both days (not placeholders, not missing)
        assert entry in frame.index and at in frame.index
        assert frame.at[entry, "volume"] > 0 and frame.at[at, "volume"] > 0
    sr = s.at[at, "close"] / s.at[entry, "close"] - 1
    br = b.at[at, "close"] / b.at[entry, "close"] - 1
    return entry, at, s.at[entry, "close"], sr, br


def record(doc: dict, ticker: str, report: str = HUAAN) -> dict:
    (rec,) = [c for c in doc["calls"] if c["ticker"] == ticker and c["report"] == report]
    return rec


@pytest.mark.parametrize("ticker", ["0700.HK", "0992.HK"], ids=["tencent", "lenovo"])
def test_six_month_excess_matches_a_plain_recomputation(home, ticker):
    doc = score_json()
    rec = record(doc, ticker)
    entry, at, entry_price, sr, br = plain_excess(ticker, "HSI", "2025-05-06", 6)
    # Tencent: entry 2025-05-07, 6M = 2025-11-07 (a Friday); the same for Lenovo.
    assert rec["entry_session"] == entry.date().isoformat() == "2025-05-07"
    assert rec["entry_price"] == pytest.approx(entry_price, rel=1e-12)
    six = rec["checkpoints"]["6M"]
    assert six["session"] == at.date().isoformat() == "2025-11-07"
    assert six["stock_return"] == pytest.approx(sr, abs=1e-12)
    assert six["benchmark_return"] == pytest.approx(br, abs=1e-12)
    assert six["excess"] == pytest.approx(sr - br, abs=1e-12)
    assert six["status"] == "ok"
    # Attention calls mature at 6 months and need excess > 0.
    assert rec["status"] == "matured"
    assert rec["verdict"] == ("hit" if sr - br > 0 else "miss")
    assert rec["excess"] == pytest.approx(sr - br, abs=1e-12)


def test_json_document_schema(home):
    doc = score_json()
    assert doc["schema"] == "tracker.score/1"
    assert doc["notice"] is None
    assert doc["basis"] == "price" and doc["entry"] == "next-close"
    assert len(doc["calls"]) == 19
    rec = doc["calls"][0]
    for key in (
        "report",
        "broker",
        "analysts",
        "ticker",
        "rating",
        "published",
        "entry_session",
        "entry_price",
        "status",
        "verdict",
        "checkpoints",
    ):
        assert key in rec, key
    assert set(rec["checkpoints"]) == {"1M", "3M", "6M", "12M"}
    for cp in rec["checkpoints"].values():
        assert set(cp) >= {
            "session",
            "stock_return",
            "benchmark_return",
            "excess",
            "band",
            "status",
        }
    assert doc["rollup"]["by"] == "broker"
    assert {g["broker"] for g in doc["rollup"]["groups"]} == {
        "Huaan Securities",
        "Caitong Securities",
    }


def test_stock_without_prices_at_the_horizon_is_no_data(home):
    # 1698.HK's file ends 2025-10-30, before its 6M checkpoint (2025-11-07).
    rec = record(score_json(), "1698.HK")
    assert rec["verdict"] == "no data"
    assert rec["reason"] == "no bar for the stock within 3 sessions of 2025-11-07"
    assert rec["checkpoints"]["1M"]["status"] == "ok"


def test_as_of_is_point_in_time(home):
    doc = score_json("--as-of", "2025-09-17")
    # The Caitong calls were first seen 2025-09-18: they do not exist yet.
    assert {c["broker"] for c in doc["calls"]} == {"Huaan Securities"}
    rec = record(doc, "0700.HK")
    assert rec["status"] == "open"
    assert rec["latest"]["session"] == "2025-09-17"
    assert rec["checkpoints"]["6M"]["status"] == "pending"
    # Sessions left: Tencent's trading days after 2025-09-17 up to 2025-11-07.
    days = read_close("0700.HK").index
    assert rec["sessions_remaining"] == int(((days > "2025-09-17") & (days <= "2025-11-07")).sum())
    s, b = read_close("0700.HK"), read_close("HSI")
    e, t = pd.Timestamp("2025-05-07"), pd.Timestamp("2025-09-17")
    interim = s.at[t, "close"] / s.at[e, "close"] - b.at[t, "close"] / b.at[e, "close"]
    assert rec["excess"] == pytest.approx(interim, abs=1e-12)
    assert rec["verdict"] == ("on track" if interim > 0 else "off track")


def test_total_basis_uses_the_tracker_fund(home):
    result = score("--format", "json", "--basis", "total")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    rec = record(doc, "0700.HK")
    assert rec["benchmark"] == "2800.HK"
    # No adjusted closes in these files: close is used, and said so.
    assert rec["basis_note"] == "close used (no adj_close)"
    assert "total basis: no complete adj_close for" in result.stderr
    entry, at, _, sr, br = plain_excess("0700.HK", "2800.HK", "2025-05-06", 6)
    assert rec["checkpoints"]["6M"]["excess"] == pytest.approx(sr - br, abs=1e-12)


def test_table_output(home):
    result = score("--format", "table")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Calls scored as of 2026-08-26 (price basis, entry next-close")
    assert "By broker" in result.stdout
    assert "Called rating versus realised band" in result.stdout
    assert "腾讯控股" in result.stdout


def test_csv_calls_and_rollup(home):
    calls = score("--format", "csv")
    assert calls.exit_code == 0, calls.stderr
    header = calls.stdout.splitlines()[0].split(",")
    assert header[0] == "call_id" and "6M_excess" in header and "verdict" in header
    assert len(calls.stdout.strip().splitlines()) == 1 + 19
    rolled = score("--format", "csv", "--by", "analyst", "--positions")
    assert rolled.exit_code == 0, rolled.stderr
    assert rolled.stdout.splitlines()[0].startswith("analyst,calls,reiterations,matured")


def test_html_output(home):
    result = score("--format", "html", "--by", "ticker")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.count("<table") == 3
    assert "By ticker" in result.stdout


def test_unknown_benchmark_is_an_error(home):
    result = score("--benchmark", "^XYZ")
    assert result.exit_code == 1
    # Without ^HSI the prices end with the stocks' last bar, 2026-08-21.
    assert result.stderr == (
        "error: no prices for the benchmark ^XYZ on or before 2026-08-21: load its prices first\n"
    )


def test_bad_entry_convention_is_a_usage_error(home):
    result = score("--entry", "later")
    assert result.exit_code == 2
    assert "later" in result.stderr


def test_simulated_prices_are_announced_first(monkeypatch, tracker_home, recs_dir):
    # An empty store and --offline: the seeded simulated sample is used.
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs_dir))
    result = score("--format", "table")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("SIMULATED DATA")
    piped = score()  # tsv: the banner is a comment line before the header
    assert piped.stdout.splitlines()[0].startswith("# SIMULATED DATA")
    doc = score_json()
    assert doc["notice"].startswith("SIMULATED DATA")
    csv = score("--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("# SIMULATED DATA")


def test_help_has_an_example():
    result = runner.invoke(app, ["score", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout


@pytest.mark.parametrize(
    ("start_date", "checkpoint", "stand_in", "stock_or_index"),
    [
        # Entry 2026-04-14; 3M = 2026-07-14, missing from the index file.
        pytest.param("2026-04-13", "2026-07-14", "2026-07-13", "HSI", id="index-day-missing"),
        # Entry 2026-05-04 (05-01 a holiday); 3M = 2026-08-04, a flat zero-volume index row.
        pytest.param("2026-04-30", "2026-08-04", "2026-08-03", "HSI", id="index-placeholder"),
        # Entry 2026-05-15; 3M = 2026-08-15, a Saturday -> 2026-08-17, missing from the index.
        pytest.param("2026-05-14", "2026-08-17", "2026-08-14", "HSI", id="index-monday-missing"),
        # Entry 2025-09-24; 3M = 2025-12-24, a half-day placeholder row in Tencent's file.
        pytest.param("2025-09-23", "2025-12-24", "2025-12-23", "0700.HK", id="stock-half-day"),
    ],
)
def test_real_holes_use_the_previous_bar(home, start_date, checkpoint, stand_in, stock_or_index):
    from tracker.prices import PriceStore
    from tracker.recs.book import CALL_COLUMNS, load_scales
    from tracker.scoring.core import score_calls

    s, b = read_close("0700.HK"), read_close("HSI")
    holed = s if stock_or_index == "0700.HK" else b
    # The hole as the files show it: no row, or a flat row with volume 0.
    assert checkpoint not in holed.index or holed.at[pd.Timestamp(checkpoint), "volume"] == 0
    store = PriceStore(home)
    closes = store.read(["0700.HK"], "2024-01-01", "2026-08-26")
    bench = store.read(["^HSI"], "2024-01-01", "2026-08-26")["^HSI"]
    start = pd.Timestamp(start_date)
    calls = pd.DataFrame(
        [
            {
                "call_id": "x",
                "ticker": "0700.HK",
                "rating": "attention",
                "scale": "huaan",
                "start_date": start,
                "published": start,
                "horizon_min_months": 6,
                "horizon_max_months": 6,
                "analysts": [],
                "broker": "B",
                "report": "r",
            }
        ],
        columns=CALL_COLUMNS,
    )
    scores = score_calls(calls, closes, bench, load_scales(ROOT / "recs" / "scales"))
    cps = scores.checkpoints
    row = cps.loc[cps["checkpoint"] == "3M"].iloc[0]
    assert row["session"] == pd.Timestamp(checkpoint)
    assert row["status"] == "stale: 1 session"
    entry = scores.calls.iloc[0]["entry_session"]
    at = pd.Timestamp(checkpoint)
    s_at = s.at[pd.Timestamp(stand_in) if stock_or_index == "0700.HK" else at, "close"]
    b_at = b.at[pd.Timestamp(stand_in) if stock_or_index == "HSI" else at, "close"]
    expected = s_at / s.at[entry, "close"] - b_at / b.at[entry, "close"]
    assert row["excess"] == pytest.approx(expected, abs=1e-12)
