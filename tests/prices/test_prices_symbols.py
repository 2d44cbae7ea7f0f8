"""Symbols spelled as the store keys them, the symbols the calls need, staleness lines."""

from __future__ import annotations

import pytest

from tracker.prices.symbols import canonical_symbol, staleness_lines, symbols_of_book


@pytest.mark.parametrize(
    ("raw", "symbol"),
    [
        pytest.param("700.hk", "0700.HK", id="short-code"),
        pytest.param(" 9988.HK ", "9988.HK", id="spaces"),
        pytest.param("01810.HK", "1810.HK", id="five-digits-leading-zero"),
        pytest.param("^hsi", "^HSI", id="index"),
        pytest.param("AAPL", "AAPL", id="other-market"),
    ],
)
def test_canonical_symbol(raw, symbol):
    assert canonical_symbol(raw) == symbol


def test_symbols_of_the_bundled_book(project_root):
    from tracker.recs.book import load_book

    book = load_book(project_root / "recs")
    got = symbols_of_book(book)
    tickers = list(book.calls()["ticker"])
    assert got[: len(tickers)] == tickers
    assert got[-2:] == ["^HSI", "2800.HK"]


def test_staleness_lines(tracker_home):
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.simulated import SimulatedSource

    store = PriceStore(tracker_home)
    update_prices(store, SimulatedSource(), ["0700.HK"], since="2025-06-02", until="2025-06-30")
    lines = staleness_lines(store, ["0700.HK", "9988.HK"])
    assert lines[0].startswith("  0700.HK: last bar 2025-06-30 (")
    assert lines[0].endswith("), source simulated")
    assert lines[1] == "  9988.HK: nothing stored"
