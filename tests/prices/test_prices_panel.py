"""The simulated sample and ``load_panel``: fetch if possible, else the store, else simulated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.prices import SIMULATED, PriceStore, load_panel, update_prices
from tracker.prices.csvsource import CsvFolderSource
from tracker.prices.simulated import EPOCH, SimulatedSource, simulated_bars
from tracker.prices.source import SourceUnreachable

D = pd.Timestamp
NOW = "2025-06-30 12:00"  # UTC: after the 2025-06-30 close in Hong Kong
SYMBOLS = ["^HSI", "2800.HK", "0700.HK", "9988.HK"]


# -- the simulated sample ------------------------------------------------------------------


def test_sample_is_deterministic_and_independent_of_the_range():
    short = simulated_bars("0700.HK", "2024-12-31")
    long = simulated_bars("0700.HK", "2025-06-30")
    pd.testing.assert_frame_equal(long.loc[short.index], short)
    pd.testing.assert_frame_equal(simulated_bars("0700.HK", "2024-12-31"), short)
    part = SimulatedSource().fetch("0700.HK", D("2024-03-01"), D("2024-12-31"))
    pd.testing.assert_frame_equal(part, short.loc["2024-03-01":])


def test_sample_lives_on_hkex_sessions():
    bars = simulated_bars("^HSI", "2025-02-28")
    assert bars.index[0] == EPOCH == D("2018-01-02")
    assert bars.loc[EPOCH, "close"] == 20_000.0  # documented starting level
    for holiday in ("2025-01-29", "2025-01-30", "2025-01-31", "2024-12-25"):
        assert D(holiday) not in bars.index
    assert D("2025-01-28") in bars.index and D("2025-02-03") in bars.index
    assert bars.index.day_of_week.max() <= 4


def test_one_factor_structure():
    hsi = simulated_bars("^HSI", "2025-06-30")["adj_close"]
    r_m = np.log(hsi).diff().dropna()
    fitted = {}
    for sym in ("0700.HK", "9988.HK", "2800.HK"):
        r = np.log(simulated_bars(sym, "2025-06-30")["adj_close"]).diff().dropna()
        beta = np.cov(r, r_m)[0, 1] / np.var(r_m, ddof=1)  # OLS slope
        fitted[sym] = (beta, r - beta * r_m)
    assert 0.6 <= fitted["0700.HK"][0] <= 1.4 and 0.6 <= fitted["9988.HK"][0] <= 1.4
    # The Tracker Fund follows the index: beta 1, residual volatility 0.1 % a day.
    assert fitted["2800.HK"][0] == pytest.approx(1.0, abs=0.01)
    assert fitted["2800.HK"][1].std() == pytest.approx(0.001, rel=0.1)
    # One factor: what is left after the index is uncorrelated between stocks.
    resid_corr = np.corrcoef(fitted["0700.HK"][1], fitted["9988.HK"][1])[0, 1]
    assert abs(resid_corr) < 0.1


def test_dividends_drop_the_price_not_the_total_return():
    bars = simulated_bars("0700.HK", "2025-06-30")
    prev = bars.shift(1).iloc[1:]
    now = bars.iloc[1:]
    # Total return of a holder: (close + dividend) / previous close = adj ratio, every day.
    held = (now["close"] + now["dividends"]) / prev["close"]
    np.testing.assert_allclose(held, now["adj_close"] / prev["adj_close"], rtol=1e-12)
    paid = bars.index[bars["dividends"] > 0]
    # First session on or after 15 June, each year: 2025-06-16 (the 15th is a Sunday).
    assert D("2025-06-16") in paid and D("2024-06-17") in paid
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()


# -- load_panel ------------------------------------------------------------------------------


class Unreachable:
    name, simulated = "yahoo", False

    def __init__(self):
        self.calls = 0

    def fetch(self, symbol, start, end):
        self.calls += 1
        raise SourceUnreachable(symbol, "Yahoo's host name cannot be resolved (no network?)")


def test_empty_store_and_no_network_gives_the_labelled_simulated_sample(tracker_home):
    source = Unreachable()
    close, adj, info = load_panel(
        tracker_home, SYMBOLS, "2025-01-02", "2025-06-30", source=source, now=NOW
    )
    assert source.calls == 1  # stopped asking after the first symbol
    assert info.simulated and info.simulated_symbols == tuple(SYMBOLS)
    assert info.banner().startswith("SIMULATED DATA: seeded one-factor model, not market prices")
    assert info.fetch_problem == "yahoo unreachable: using the store as it is"
    assert info.offline
    assert list(close.columns) == SYMBOLS and close.notna().all().all()
    assert close.index[0] == D("2025-01-02") and close.index[-1] == D("2025-06-30")
    assert adj is not None and adj.notna().all().all()
    status = PriceStore(tracker_home).status(now=NOW)
    assert set(status["source"]) == {SIMULATED}


def test_offline_reads_the_store_and_says_how_stale(tracker_home, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n"
        "2025-06-25,1,1.2,0.9,1.1,,10\n2025-06-26,1.1,1.3,1,1.2,,10\n"
    )
    update_prices(
        PriceStore(tracker_home), CsvFolderSource(folder), ["0700.HK"], since="2025-06-01", now=NOW
    )
    close, adj, info = load_panel(
        tracker_home, ["0700.HK", "^HSI"], "2025-06-01", offline=True, now=NOW
    )
    assert not info.simulated and info.banner() is None
    assert info.missing == ("^HSI",)
    assert info.last_bar["0700.HK"].isoformat() == "2025-06-26"
    # Sessions after 06-26 up to 06-30: 27 and 30 June.
    assert info.stale_sessions == {"0700.HK": 2, "^HSI": None}
    assert info.staleness_lines()[0].startswith(
        "0700.HK: last bar 2025-06-26 (2 sessions behind as of 2025-06-30)"
    )
    assert close["0700.HK"].dropna().tolist() == [1.1, 1.2]
    assert close["^HSI"].isna().all()
    assert adj is None  # no symbol has a dividend-adjusted close


def test_real_source_replaces_simulated_data(tracker_home, tmp_path):
    load_panel(tracker_home, ["0700.HK"], "2025-06-02", "2025-06-30", offline=True, now=NOW)
    assert PriceStore(tracker_home).meta("0700.HK").source == SIMULATED
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-06-27,1,1.2,0.9,1.1,1.05,10\n"
    )
    close, adj, info = load_panel(
        tracker_home,
        ["0700.HK"],
        "2025-06-02",
        "2025-06-30",
        source=CsvFolderSource(folder),
        now=NOW,
    )
    assert not info.simulated
    # Sessions after 06-27 up to 06-30: just 30 June.
    assert info.update.results[0].note == (
        f"replaced data from {SIMULATED}; series ends 2025-06-27, 1 session before 2025-06-30"
    )
    assert close["0700.HK"].tolist() == [1.1]
    assert adj["0700.HK"].tolist() == [1.05]


def test_simulation_can_be_refused(tracker_home):
    close, adj, info = load_panel(
        tracker_home, ["0700.HK"], offline=True, allow_simulated=False, now=NOW
    )
    assert close.empty and adj is None
    assert info.missing == ("0700.HK",) and not info.simulated
    assert info.stale_sessions == {"0700.HK": None}


class Counting:
    name, simulated = "yahoo", False

    def __init__(self):
        self.asked: list[str] = []

    def fetch(self, symbol, start, end):
        self.asked.append(symbol)
        return simulated_bars(symbol, end).loc[start:]  # any bars will do


def test_series_from_another_real_source_is_kept(tracker_home, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-06-27,1,1.2,0.9,1.1,,10\n"
    )
    update_prices(
        PriceStore(tracker_home), CsvFolderSource(folder), ["0700.HK"], since="2025-06-02", now=NOW
    )
    source = Counting()
    close, _, info = load_panel(
        tracker_home, ["0700.HK", "^HSI"], "2025-06-02", "2025-06-30", source=source, now=NOW
    )
    assert source.asked == ["^HSI"]  # only the missing symbol
    assert info.sources == {"0700.HK": f"csv:{folder.resolve()}", "^HSI": "yahoo"}
    assert close["0700.HK"].dropna().tolist() == [1.1]
