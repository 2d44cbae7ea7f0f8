"""Price-fetch faults through ``tracker prices update`` and yfinance's own code.

The Yahoo source runs as in production (yfinance's requests, parsing and
errors) over the fake Yahoo session of ``tests/prices/test_prices_yahoo.py``; only
the session, the sleep and the jitter are injected. Each case draws a batch of
symbols, a store already holding some of them, and per symbol a script of
faults: timeouts, HTTP 429 with and without ``Retry-After``, 5xx, truncated or
malformed JSON, answers of the wrong shape, empty answers, dropped
connections, a series that ends mid-range, and the network disappearing at a
random request of the batch.

The expected result of every symbol is worked out from its script alone
(:func:`expected`): transient faults are retried up to three attempts, the
others fail at once, an unreachable network fails the symbol and leaves the
rest "not tried". Then: the command exits 0 or 2 cleanly, each failed
symbol's stored bars and metadata are exactly as before, each fetched symbol
holds exactly the source's bars, and no sleep exceeds the retry policy's cap.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from prices.test_prices_yahoo import FakeYahoo, Sleeps, Universe, chart, fresh_yfinance  # noqa: F401
from typer.testing import CliRunner

from reliability.ledger import COMPLETED, CRASH, DATA_LOST, INTACT, RECOVERED, check
from reliability.profile import fuzz
from tracker.cli import app
from tracker.prices import PriceStore, update_prices
from tracker.prices.yahoo import RetryPolicy, YahooSource, yahoo_session

# yfinance 1.7 still calls pandas methods with inplace=True, deprecated in pandas 3.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

CATEGORY = "prices: fetch faults"
runner = CliRunner()

#: HKEX sessions of 2-17 January 2025 (weekends 4/5, 11/12 excluded; no holiday).
SESSIONS = [date(2025, 1, d) for d in (2, 3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17)]
SINCE, UNTIL = SESSIONS[0], SESSIONS[-1]
SYMBOLS = ["0700.HK", "9988.HK", "^HSI", "1810.HK", "3690.HK", "2800.HK"]
MAX_ATTEMPTS = 3
POLICY = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay_s=1.0, max_delay_s=8.0)
NET_DOWN = (
    "HTTPSConnectionPool(host='query2.finance.yahoo.com', port=443): Max retries exceeded (Caused"
    " by NewConnectionError('Failed to establish a new connection:"
    " [Errno 101] Network is unreachable'))"
)


def closes(k: int, n: int) -> list[float]:
    """Distinct prices per symbol and session: 10(k+1) + 0.25 i."""
    return [10.0 * (k + 1) + 0.25 * i for i in range(n)]


def universe(symbol: str, n_sessions: int) -> Universe:
    k = SYMBOLS.index(symbol)
    close = closes(k, n_sessions)
    bars = {
        "open": [c - 0.1 for c in close],
        "high": [c + 0.2 for c in close],
        "low": [c - 0.2 for c in close],
        "close": close,
        "adjclose": [round(c * 0.98, 6) for c in close],
        "volume": [1_000_000 + i for i in range(n_sessions)],
    }
    return Universe(symbol, SESSIONS[:n_sessions], bars)


# --------------------------------------------------------------------------- faults

#: Fault name -> script items it takes from the fake session (one attempt of the source).
#: yfinance answers a 429 by retrying once itself with its other cookie strategy.
#: A body cut short is retried: the next answer is usually whole (and not yfinance's cached one).
TRANSIENT = ("timeout", "429", "429-retry-after", "5xx", "reset", "truncated")
FINAL = ("malformed", "wrong-shape", "empty")


def items(fault: str, symbol: str, rnd: random.Random) -> list:
    if fault == "timeout":
        return [requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)")]
    if fault == "429":
        return [("status", 429, "Too Many Requests")] * 2
    if fault == "429-retry-after":
        return [("status", 429, "Too Many Requests", {"Retry-After": "3600"})] * 2
    if fault == "5xx":
        return [("status", rnd.choice([500, 502, 503, 504]), "<html>server error</html>")]
    if fault == "reset":
        return [
            requests.exceptions.ConnectionError(
                "('Connection aborted.', ConnectionResetError(104))"
            )
        ]
    if fault == "truncated":
        full = json.dumps(universe(symbol, len(SESSIONS)).answer(0, 2**31))
        return [("raw", full[: rnd.randrange(1, len(full) - 1)])]
    if fault == "malformed":
        return [
            ("raw", rnd.choice(["<html>Will be right back</html>", "null", "[]", '{"chart": 1}']))
        ]
    if fault == "wrong-shape":
        answer = chart(symbol, SESSIONS[:3], universe(symbol, 3).bars)
        answer["chart"]["result"][0]["indicators"]["quote"][0]["close"] = ["x", None]
        return [("raw", json.dumps(answer))]
    if fault == "empty":
        return ["empty"]
    raise ValueError(fault)


class FaultyYahoo(FakeYahoo):
    """The fake Yahoo with extra headers on scripted answers and a network that can vanish.

    A script item ``("status", code, body, headers)`` adds ``headers`` to the
    answer. From the history request number ``drop_after`` (0-based) on, every
    request raises a connection error, as when the network goes away.
    """

    def __init__(self, universes, scripts, drop_after: int | None):
        super().__init__(universes, scripts)
        self.drop_after = drop_after
        self.down = False

    def request(self, method, url, params=None, **kwargs):
        history = "/v8/finance/chart/" in url and "range" not in (params or {})
        if not self.down and history and self.drop_after is not None:
            self.down = len(self.history_requests) >= self.drop_after
        if self.down:
            raise requests.exceptions.ConnectionError(NET_DOWN)
        symbol = url.rsplit("/", 1)[-1].replace("%5E", "^")
        pending = (self.scripts.get(symbol) or [None])[0] if history else None
        response = super().request(method, url, params=params, **kwargs)
        if isinstance(pending, tuple) and len(pending) == 4:
            response.headers.update(pending[3])
        return response


# --------------------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class Plan:
    symbol: str
    faults: tuple[str, ...]
    n_sessions: int  # the source's series: the first n sessions of SESSIONS
    stored_until: int | None  # index into SESSIONS of the last bar stored before the run


def expected(plans: list[Plan], drop_after: int | None) -> dict[str, str]:
    """Per symbol: ``fetched``, ``failed`` or ``not tried``, from the scripts alone."""
    out: dict[str, str] = {}
    served, down, unreachable = 0, False, False
    for plan in plans:
        if unreachable:
            out[plan.symbol] = "not tried"
            continue
        result = None
        for attempt in range(MAX_ATTEMPTS):
            fault = plan.faults[attempt] if attempt < len(plan.faults) else "ok"
            needed = 2 if fault.startswith("429") else 1
            if not down and drop_after is not None and served + needed > drop_after:
                served, down = drop_after, True
            if down:
                kind = "connection"
            else:
                served += needed
                kind = (
                    "ok"
                    if fault == "ok"
                    else "connection"
                    if fault == "reset"
                    else "retry"
                    if fault in TRANSIENT
                    else "final"
                )
            if kind == "ok":
                new_bars = plan.stored_until is None or plan.stored_until < plan.n_sessions - 1
                result = "fetched" if new_bars else "failed"
                break
            if kind == "final":
                result = "failed"
                break
            if attempt == MAX_ATTEMPTS - 1:
                result = "failed"
                unreachable = kind == "connection"
        out[plan.symbol] = result
    return out


# --------------------------------------------------------------------------- one case


def reset_yfinance() -> None:
    """yfinance keeps one session and a response cache per process: start each case afresh."""
    import yfinance.data as yd

    yd.SingletonMeta._instances.pop(yd.YfData, None)
    yd.YfData.cache_get.cache_clear()


def snapshot(store: PriceStore, symbols) -> dict:
    out = {}
    for s in symbols:
        meta = store.meta(s)
        out[s] = (store.read_bars(s), None if meta is None else meta.__dict__)
    return out


def same(a, b) -> bool:
    (bars_a, meta_a), (bars_b, meta_b) = a, b
    return meta_a == meta_b and bars_a.equals(bars_b)


@st.composite
def plans(draw) -> tuple[list[Plan], int | None]:
    symbols = draw(st.lists(st.sampled_from(SYMBOLS), min_size=2, max_size=5, unique=True))
    out = []
    for s in symbols:
        faults = draw(st.lists(st.sampled_from(TRANSIENT + FINAL), max_size=MAX_ATTEMPTS))
        n_sessions = draw(
            st.sampled_from([len(SESSIONS), len(SESSIONS), 8, 5])
        )  # may end mid-range
        stored = draw(st.none() | st.integers(1, 9))
        out.append(Plan(s, tuple(faults), n_sessions, stored))
    drop = draw(st.none() | st.none() | st.integers(0, 3 * len(symbols)))
    return out, drop


@fuzz(quick=30, long=600)
@given(case=plans(), seed=st.integers(0, 2**16))
def test_fetch_faults(tracker_home, monkeypatch, case, seed):
    batch, drop_after = case
    rnd = random.Random(seed)
    store = PriceStore(tracker_home)
    # Start from an empty store each case (hypothesis reuses the fixture's folder).
    for f in tracker_home.glob("prices.sqlite*"):
        f.unlink()
    universes = [universe(p.symbol, p.n_sessions) for p in batch]

    # Before: the store holds some symbols up to an earlier session, from an honest source.
    reset_yfinance()
    earlier = [p for p in batch if p.stored_until is not None and p.stored_until < p.n_sessions]
    for p in earlier:
        honest = YahooSource(yahoo_session(FakeYahoo, universes), sleep=Sleeps(), retry=POLICY)
        done = update_prices(
            store,
            honest,
            [p.symbol],
            since=SINCE,
            until=SESSIONS[p.stored_until],
            now="2025-01-20 12:00",
        )
        assert done.ok, done.failed
    batch = [p if p in earlier else Plan(p.symbol, p.faults, p.n_sessions, None) for p in batch]
    before = snapshot(store, SYMBOLS)

    # The run: faults scripted per symbol, through the command line.
    scripts = {p.symbol: [i for f in p.faults for i in items(f, p.symbol, rnd)] for p in batch}
    session = yahoo_session(FaultyYahoo, universes, scripts, drop_after)
    sleeps = Sleeps()
    source = YahooSource(session, sleep=sleeps, rng=random.Random(seed), retry=POLICY)
    monkeypatch.setattr("tracker.prices.source_from_spec", lambda spec, home: source)
    reset_yfinance()
    result = runner.invoke(
        app,
        [
            "prices",
            "update",
            *[p.symbol for p in batch],
            "--since",
            str(SINCE),
            "--until",
            str(UNTIL),
        ],
    )
    want = expected(batch, drop_after)
    after = snapshot(store, SYMBOLS)
    name = (
        f"{[(p.symbol, p.faults, p.n_sessions, p.stored_until) for p in batch]} drop={drop_after}"
    )

    # A clean end: exit 0 when all fetched, 2 when some failed; no traceback.
    problems = []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        check(CATEGORY, CRASH, name, f"{type(result.exception).__name__}: {result.exception}")
    failed = [s for s, w in want.items() if w != "fetched"]
    if result.exit_code != (2 if failed else 0) or "Traceback" in result.output:
        problems.append(
            f"exit {result.exit_code}, expected {2 if failed else 0}: {result.stderr[-300:]}"
        )
    if failed and f"error: {len(failed)} of {len(batch)} symbol" not in result.stderr:
        problems.append(f"failure count not reported: {result.stderr[-200:]!r}")
    for sym in failed:
        if not any(sym in line and "failed" in line for line in result.stdout.splitlines()):
            problems.append(f"{sym} not reported as failed: {result.stdout[-400:]!r}")
    if any(s > POLICY.max_delay_s for s in sleeps):
        problems.append(f"slept {max(sleeps):g} s, over the {POLICY.max_delay_s:g} s cap")
    if problems:
        check(CATEGORY, CRASH, name, "; ".join(problems))

    for p in batch:
        sym = p.symbol
        if want[sym] != "fetched":
            outcome = INTACT if same(before[sym], after[sym]) else DATA_LOST
            check(
                CATEGORY,
                outcome,
                f"{sym} {want[sym]} in {name}",
                "store unchanged" if outcome == INTACT else "store changed",
            )
            continue
        bars = after[sym][0]
        # The source's bars in [SINCE, UNTIL]: its first n sessions, closes 10(k+1) + 0.25 i.
        k = SYMBOLS.index(sym)
        ok = list(bars.index) == [pd.Timestamp(d) for d in SESSIONS[: p.n_sessions]] and bars[
            "close"
        ].tolist() == closes(k, p.n_sessions)
        good = RECOVERED if p.faults else COMPLETED
        check(
            CATEGORY,
            good if ok else DATA_LOST,
            f"{sym} fetched after {p.faults} in {name}",
            "" if ok else f"stored {bars['close'].tolist()}",
        )
    for sym in SYMBOLS:
        if sym not in want:
            assert same(before[sym], after[sym])
