"""The SQLite price store: incremental updates, re-basing, atomicity, locking, reads."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.prices import PriceStore, StoreBusy, update_prices
from tracker.prices.source import EmptyResult, FetchFailed

D = pd.Timestamp
ROOT = Path(__file__).resolve().parents[2]

# HKEX sessions of early January 2025 (the 4th/5th and 11th/12th are weekends).
JAN = [D(f"2025-01-{d:02d}") for d in (2, 3, 6, 7, 8, 9, 10, 13, 14, 15)]
# "now" moments in UTC, 20:00 in Hong Kong, after that day's close.
AFTER = {d: f"{d.date()} 12:00" for d in JAN}


def bars(days, close, adj=None, volume=1000.0):
    close = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "adj_close": close if adj is None else np.asarray(adj, dtype=float),
            "volume": volume,
            "dividends": 0.0,
            "splits": 0.0,
        },
        index=pd.DatetimeIndex(days, name="date"),
    )


class Recording:
    """A source serving fixed frames and recording every request."""

    simulated = False

    def __init__(self, universe: dict[str, pd.DataFrame], name: str = "fake"):
        self.universe = universe
        self.name = name
        self.calls: list[tuple[str, str, str]] = []

    def fetch(self, symbol, start, end):
        self.calls.append((symbol, str(start.date()), str(end.date())))
        frame = self.universe[symbol]
        part = frame[(frame.index >= start) & (frame.index <= end)]
        if part.empty:
            raise EmptyResult(symbol, "nothing in range")
        return part


CLOSES = [100.0 + i for i in range(len(JAN))]  # 100, 101, ... on the ten sessions


def test_incremental_update_asks_only_for_missing_sessions(tracker_home):
    src = Recording({"0700.HK": bars(JAN, CLOSES)})
    store = PriceStore(tracker_home)

    first = update_prices(store, src, ["0700.HK"], since="2025-01-06", now=AFTER[D("2025-01-08")])
    assert src.calls == [("0700.HK", "2025-01-06", "2025-01-08")]
    assert first.results[0].status == "fetched" and first.results[0].rows_added == 3

    # Four sessions later: only 01-09..01-14 are missing; the request starts five stored
    # bars back (only three are stored: 01-06), an overlap that shows a moved history.
    src.calls.clear()
    second = update_prices(store, src, ["0700.HK"], since="2025-01-06", now=AFTER[D("2025-01-14")])
    assert src.calls == [("0700.HK", "2025-01-06", "2025-01-14")]
    r = second.results[0]
    assert (r.status, r.rows_added, str(r.first), str(r.last)) == (
        "fetched",
        4,
        "2025-01-09",
        "2025-01-14",
    )

    # Earlier history: from 01-02 up to the fifth stored bar (01-06..01-10 overlap).
    src.calls.clear()
    third = update_prices(store, src, ["0700.HK"], since="2025-01-02", now=AFTER[D("2025-01-14")])
    assert src.calls == [("0700.HK", "2025-01-02", "2025-01-10")]
    assert third.results[0].rows_added == 2

    # Nothing missing: the source is not asked at all.
    src.calls.clear()
    fourth = update_prices(store, src, ["0700.HK"], since="2025-01-02", now=AFTER[D("2025-01-14")])
    assert src.calls == []
    assert fourth.results[0].status == "up to date"

    stored = store.read_bars("0700.HK")
    assert list(stored.index) == JAN[:9]
    assert stored["close"].tolist() == CLOSES[:9]


def test_until_is_capped_at_the_last_closed_session(tracker_home):
    src = Recording({"0700.HK": bars(JAN, CLOSES)})
    # 2025-01-08 07:00 UTC is 15:00 in Hong Kong: that session has not closed yet.
    update_prices(
        PriceStore(tracker_home),
        src,
        ["0700.HK"],
        since="2025-01-06",
        until="2025-03-01",
        now="2025-01-08 07:00",
    )
    assert src.calls == [("0700.HK", "2025-01-06", "2025-01-07")]


def test_history_before_listing_is_asked_once(tracker_home):
    listed = JAN[3:]  # first bar 2025-01-07
    src = Recording({"2556.HK": bars(listed, CLOSES[3:])})
    store = PriceStore(tracker_home)
    update_prices(
        store, src, ["2556.HK"], since="2025-01-02", until="2025-01-10", now=AFTER[D("2025-01-10")]
    )
    assert store.meta("2556.HK").covered_first == D("2025-01-02")
    src.calls.clear()
    # Asking for more history: only sessions before the covered start (12-30, 12-31).
    result = update_prices(
        store, src, ["2556.HK"], since="2024-12-30", until="2025-01-10", now=AFTER[D("2025-01-10")]
    )
    assert src.calls == [("2556.HK", "2024-12-30", "2024-12-31")]
    assert result.results[0].status == "up to date"  # nothing before listing is not a failure
    assert store.meta("2556.HK").covered_first == D("2024-12-30")


def test_new_dividend_rebases_stored_total_return_basis(tracker_home):
    store = PriceStore(tracker_home)
    old = bars(JAN[:7], CLOSES[:7])  # downloaded 01-10: adj_close = close, no dividend yet
    update_prices(
        store, Recording({"X": old}), ["X"], since="2025-01-02", now=AFTER[D("2025-01-10")]
    )
    # Downloaded on 01-15, after a 2.00 dividend went ex on 01-13: Yahoo scales every
    # adj_close before 01-13 by f = 1 - 2.00 / close(01-10) = 1 - 2 / 106.
    f = 1 - 2.0 / 106.0
    adj = [c * f for c in CLOSES[:7]] + CLOSES[7:]
    new = bars(JAN, CLOSES, adj=adj)
    result = update_prices(
        store, Recording({"X": new}), ["X"], since="2025-01-02", now=AFTER[D("2025-01-15")]
    )
    stored = store.read_bars("X")
    assert stored["adj_close"].tolist() == pytest.approx(adj, rel=1e-12)
    assert stored["close"].tolist() == CLOSES  # the price basis does not move
    # The stored 01-06 (the first of the five overlap bars, the third session) is 102;
    # at the source 102 * f.
    assert result.results[0].note == (
        f"re-fetched the series: the 2025-01-06 adjusted close is {102 * f:.6g} at the source,"
        " 102 in the store"
    )


def test_new_split_rebases_stored_prices_and_volume(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[:7], CLOSES[:7], volume=1000.0)}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-10")],
    )
    # A 2-for-1 split effective 01-13: the new download halves every earlier price and
    # doubles every earlier volume.
    closes = [c / 2 for c in CLOSES[:7]] + [55.0, 56.0, 57.0]
    volume = [2000.0] * 7 + [1000.0] * 3
    new = bars(JAN, closes, volume=volume)
    update_prices(
        store, Recording({"X": new}), ["X"], since="2025-01-02", now=AFTER[D("2025-01-15")]
    )
    stored = store.read_bars("X")
    assert stored["close"].tolist() == pytest.approx(closes, rel=1e-12)
    assert stored["high"].tolist() == pytest.approx([c * 1.01 for c in closes], rel=1e-12)
    assert stored["volume"].tolist() == pytest.approx(volume, rel=1e-12)


def test_placeholder_overlap_bar_does_not_rebase(tracker_home):
    store = PriceStore(tracker_home)
    old = bars(JAN[:7], CLOSES[:7])
    old.loc[JAN[6], ["open", "high", "low", "close", "adj_close"]] = 105.0  # Yahoo's flat row,
    old.loc[JAN[6], "volume"] = 0.0  # volume 0: a placeholder on 01-10
    update_prices(
        store, Recording({"X": old}), ["X"], since="2025-01-02", now=AFTER[D("2025-01-10")]
    )
    # Later Yahoo fills 01-10 with the real trade (106): not a change of basis.
    result = update_prices(
        store,
        Recording({"X": bars(JAN, CLOSES)}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-15")],
    )
    assert store.read_bars("X")["close"].tolist() == CLOSES
    # The four traded overlap bars agree: no re-fetch, and the placeholder is replaced.
    assert result.results[0].note is None
    assert result.results[0].requested == ((D("2025-01-06").date(), D("2025-01-15").date()),)


def test_another_source_replaces_the_series(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[:5], CLOSES[:5])}, name="one"),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-08")],
    )
    other = Recording({"X": bars(JAN[1:5], [7.0, 8.0, 9.0, 10.0])}, name="two")
    result = update_prices(store, other, ["X"], since="2025-01-02", now=AFTER[D("2025-01-08")])
    assert other.calls == [("X", "2025-01-02", "2025-01-08")]
    assert result.results[0].note == "replaced data from one"
    assert store.read_bars("X")["close"].tolist() == [7.0, 8.0, 9.0, 10.0]
    assert store.meta("X").source == "two"


class Failing(Recording):
    def fetch(self, symbol, start, end):
        self.calls.append((symbol, str(start.date()), str(end.date())))
        raise FetchFailed(symbol, "HTTP 503 from the vendor")


def test_failed_fetch_leaves_previous_data(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[:5], CLOSES[:5])}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-08")],
    )
    before = store.read_bars("X")
    result = update_prices(
        store, Failing({}), ["X"], since="2025-01-02", now=AFTER[D("2025-01-14")]
    )
    assert result.results[0].status == "failed"
    assert result.results[0].reason == "new bars: HTTP 503 from the vendor"
    pd.testing.assert_frame_equal(store.read_bars("X"), before)
    assert store.meta("X").covered_last == D("2025-01-08")


def test_no_new_bar_is_a_failure_that_keeps_the_data(tracker_home):
    store = PriceStore(tracker_home)
    src = Recording({"X": bars(JAN[:5], CLOSES[:5])})  # the vendor stopped at 01-08
    update_prices(store, src, ["X"], since="2025-01-02", now=AFTER[D("2025-01-08")])
    result = update_prices(store, src, ["X"], since="2025-01-02", now=AFTER[D("2025-01-10")])
    assert result.results[0].status == "failed"
    assert result.results[0].reason == (
        "no new bars after 2025-01-08 up to 2025-01-10 (suspended, delisted, or not yet published)"
    )
    assert len(store.read_bars("X")) == 5


def test_error_during_write_rolls_back(tracker_home, monkeypatch):
    import tracker.prices.store as store_module

    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[:5], CLOSES[:5])}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-08")],
    )
    before = store.read_bars("X")
    original = store_module._bar_rows

    def broken(symbol, frame):
        for i, row in enumerate(original(symbol, frame)):
            if i == 2:
                raise OSError("disk full")
            yield row

    monkeypatch.setattr(store_module, "_bar_rows", broken)
    with pytest.raises(OSError, match="disk full"):
        store.write(
            "X",
            bars(JAN, [1.0] * 10),
            source="other",
            covered_first=JAN[0],
            covered_last=JAN[-1],
            fetched_at=D("2025-01-16", tz="UTC"),
            replace=True,
        )
    pd.testing.assert_frame_equal(store.read_bars("X"), before)
    assert store.meta("X").source == "fake"


# -- reads ---------------------------------------------------------------------------------


@pytest.fixture
def two_symbols(tracker_home) -> PriceStore:
    store = PriceStore(tracker_home)
    a = bars(JAN[:6], CLOSES[:6])
    b = bars([JAN[1], JAN[2], JAN[4], JAN[5], JAN[6]], [10.0, 11.0, 12.0, 13.0, 14.0])
    b.loc[JAN[4], ["open", "high", "low", "close", "adj_close"]] = 11.0  # flat...
    b.loc[JAN[4], "volume"] = 0.0  # ...with volume 0: a Yahoo placeholder
    update_prices(
        store,
        Recording({"A": a, "B": b}),
        ["A", "B"],
        since="2025-01-02",
        now=AFTER[D("2025-01-10")],
    )
    return store


def test_read_aligns_on_sessions_with_nan_for_missing_and_placeholder(two_symbols):
    wide = two_symbols.read(["B", "A", "NOPE"], field="close")
    assert list(wide.columns) == ["B", "A", "NOPE"]
    assert wide.index.name == "date" and wide.index.tz is None
    assert list(wide.index) == JAN[:7]  # 01-02..01-10: every session between first and last bar
    assert wide["A"].tolist()[:6] == CLOSES[:6] and math.isnan(wide.at[JAN[6], "A"])
    assert math.isnan(wide.at[JAN[0], "B"])  # no bar yet
    assert math.isnan(wide.at[JAN[3], "B"])  # a suspension: session without a bar
    assert math.isnan(wide.at[JAN[4], "B"])  # placeholder -> NaN for prices
    assert wide["NOPE"].isna().all()
    assert two_symbols.read(["B"], field="volume").at[JAN[4], "B"] == 0.0
    flags = two_symbols.read(["B"], field="placeholder")["B"]
    assert list(flags.index) == JAN[1:7]  # B's own span: 01-03..01-10
    assert flags.tolist() == [False, False, False, True, False, False]  # no bar (01-07): False


def test_read_bounds_are_inclusive(two_symbols):
    wide = two_symbols.read(["A"], "2025-01-03", "2025-01-07")
    assert list(wide.index) == JAN[1:4]


def test_status_and_missing_sessions(two_symbols):
    status = two_symbols.status(now=AFTER[D("2025-01-14")])
    assert status.at["B", "suspensions"] == 1  # 2025-01-07
    assert list(two_symbols.missing_sessions("B")) == [JAN[3]]
    assert status.at["B", "placeholders"] == 1
    assert status.at["A", "stale_sessions"] == 3  # 01-09 -> 01-10, 01-13, 01-14 missing
    assert status.at["B", "stale_sessions"] == 2
    assert status.at["A", "source"] == "fake" and not status.at["A", "simulated"]


def test_reads_of_an_absent_store_create_nothing(tmp_path):
    store = PriceStore(tmp_path / "nowhere")
    assert store.read(["A"]).empty and list(store.read(["A"]).columns) == ["A"]
    assert store.read_bars("A").empty
    assert store.status().empty and store.symbols() == []
    assert not (tmp_path / "nowhere").exists()


def test_fingerprint_tracks_exactly_the_data_read(two_symbols):
    fp = two_symbols.fingerprint(["A", "B"])
    assert fp == two_symbols.fingerprint(["B", "A", "A"])
    assert len(fp) == 64
    assert fp != two_symbols.fingerprint(["A"])
    assert fp != two_symbols.fingerprint(["A", "B"], end="2025-01-08")
    two_symbols.write(
        "A",
        bars([JAN[0]], [100.5]),
        source="fake",
        covered_first=JAN[0],
        covered_last=JAN[5],
        fetched_at=D("2025-01-16", tz="UTC"),
    )
    assert fp != two_symbols.fingerprint(["A", "B"])


# -- processes: a kill during a write, two updates at once, a held lock ----------------------


def _run_child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


KILLED_WRITER = """
    import sys, time
    from pathlib import Path
    import pandas as pd
    import tracker.prices.store as st

    original = st._bar_rows

    def slow(symbol, frame):
        for i, row in enumerate(original(symbol, frame)):
            if i == 3:
                print("IN_TRANSACTION", flush=True)
            if i >= 3:
                time.sleep(0.2)
            yield row

    st._bar_rows = slow
    days = pd.DatetimeIndex(
        [d.strftime("%Y-%m-%d") for d in pd.bdate_range("2025-01-02", periods=40)])
    frame = pd.DataFrame({c: 1.0 for c in
        ["open", "high", "low", "close", "adj_close", "volume", "dividends", "splits"]},
        index=pd.DatetimeIndex(days, name="date"))
    st.PriceStore(Path(sys.argv[1])).write(
        "X", frame, source="new", covered_first=days[0], covered_last=days[-1],
        fetched_at=pd.Timestamp.now(tz="UTC"), replace=True)
    print("DONE", flush=True)
"""


def test_process_killed_during_a_write_leaves_previous_data(tracker_home):
    store = PriceStore(tracker_home)
    update_prices(
        store,
        Recording({"X": bars(JAN[:5], CLOSES[:5])}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-08")],
    )
    before = store.read_bars("X")
    child = _run_child(KILLED_WRITER, str(tracker_home))
    line = child.stdout.readline().strip()
    assert line == "IN_TRANSACTION", child.stderr.read()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert "DONE" not in child.stdout.read()

    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    pd.testing.assert_frame_equal(store.read_bars("X"), before)
    assert store.meta("X").source == "fake"
    # ... and the store still takes writes.
    more = update_prices(
        store,
        Recording({"X": bars(JAN[:7], CLOSES[:7])}),
        ["X"],
        since="2025-01-02",
        now=AFTER[D("2025-01-10")],
    )
    assert more.results[0].rows_added == 2


CONCURRENT_UPDATER = """
    import json, os, sys, time
    from pathlib import Path
    import pandas as pd
    from tracker import sessions
    from tracker.prices import PriceStore, update_prices

    home, log = Path(sys.argv[1]), Path(sys.argv[2])

    class Slow:
        name, simulated = "slow", False
        def fetch(self, symbol, start, end):
            with open(log, "a") as f:
                f.write(f"{os.getpid()} {symbol} {start.date()} {end.date()}\\n")
            time.sleep(0.3)
            days = sessions.sessions_between(start, end)
            close = [100.0 + i for i in range(len(days))]
            return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                                 "volume": 1.0}, index=days)

    summary = update_prices(PriceStore(home), Slow(), ["A", "B", "C"], since="2025-01-02",
                            until="2025-01-31", now="2025-02-03 12:00")
    print(json.dumps([r.status for r in summary.results]))
"""


def test_two_concurrent_updates_do_not_interleave(tracker_home, tmp_path):
    log = tmp_path / "fetches.log"
    children = [_run_child(CONCURRENT_UPDATER, str(tracker_home), str(log)) for _ in range(2)]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    # One process fetched all three symbols; the other waited for the lock, then found
    # everything up to date and asked the source for nothing.
    assert sorted(outputs) == [["fetched"] * 3, ["up to date"] * 3]
    fetches = log.read_text().splitlines()
    assert len(fetches) == 3 and len({line.split()[0] for line in fetches}) == 1

    store = PriceStore(tracker_home)
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Sessions 2025-01-02..01-31: 23 weekdays less the Lunar New Year holidays 29-31 = 19.
    for symbol in "ABC":
        stored = store.read_bars(symbol)
        assert len(stored) == 19 and not stored.index.has_duplicates
        assert stored["close"].tolist() == [100.0 + i for i in range(19)]


HOLDER = """
    import sys, time
    from pathlib import Path
    from tracker.prices import PriceStore
    with PriceStore(Path(sys.argv[1])).lock():
        print("LOCKED", flush=True)
        time.sleep(5)
"""


def test_update_waits_for_the_lock_then_gives_up(tracker_home):
    holder = _run_child(HOLDER, str(tracker_home))
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        src = Recording({"X": bars(JAN[:5], CLOSES[:5])})
        t0 = time.perf_counter()
        with pytest.raises(StoreBusy, match="another tracker process is updating"):
            update_prices(
                PriceStore(tracker_home),
                src,
                ["X"],
                since="2025-01-02",
                now=AFTER[D("2025-01-08")],
                lock_timeout_s=0.3,
            )
        assert time.perf_counter() - t0 >= 0.3
        assert src.calls == []
    finally:
        holder.kill()
        holder.wait()
