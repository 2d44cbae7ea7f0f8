"""The Yahoo source through yfinance's own request and parsing code.

A fake ``requests.Session`` serves Yahoo-shaped answers: the cookie and crumb
endpoints, and ``/v8/finance/chart/{symbol}`` with ``chart.result[0]``
(``timestamp``, ``meta``, ``indicators.quote[0]``, ``indicators.adjclose[0]``,
``events``). Nothing touches the network; sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest
import requests
import yfinance  # noqa: F401  (imported first so that its warning filters precede ours)

from tracker.prices import PriceStore, update_prices
from tracker.prices.source import EmptyResult, FetchFailed, SourceUnreachable
from tracker.prices.yahoo import (
    RetryPolicy,
    YahooSource,
    normalise_yahoo_frame,
    yahoo_session,
)

# yfinance 1.7 still calls pandas methods with inplace=True, deprecated in pandas 3.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

HKT = timezone(timedelta(hours=8))
NOW = "2025-02-03 12:00"  # UTC: 20:00 in Hong Kong, after the 2025-02-03 close


def _epoch(d: date, hour: int = 9, minute: int = 30) -> int:
    """Yahoo stamps an HK daily bar at the session's open, 09:30 Hong Kong time."""
    return int(datetime(d.year, d.month, d.day, hour, minute, tzinfo=HKT).timestamp())


#: Five sessions of early January 2025 (2025-01-04/05 is a weekend) for 0700.HK.
DAYS = [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)]
BARS = {
    "open": [418.0, 410.2, 404.0, 397.2, 401.0],
    "high": [420.0, 413.0, 405.4, 402.0, 404.6],
    "low": [409.0, 405.2, 394.6, 395.0, 398.8],
    "close": [410.2, 406.6, 396.2, 400.6, 402.0],
    "adjclose": [400.1, 396.59, 386.45, 400.6, 402.0],
    "volume": [16_000_000, 14_500_000, 20_100_000, 15_300_000, 0],
}


def chart(symbol, days, bars, dividends=(), splits=(), instrument="EQUITY"):
    """A ``/v8/finance/chart`` answer in Yahoo's shape."""
    stamps = [_epoch(d) for d in days]
    result = {
        "meta": {
            "currency": "HKD",
            "symbol": symbol,
            "exchangeName": "HKG",
            "fullExchangeName": "HKSE",
            "instrumentType": instrument,
            "firstTradeDate": 1087263000,
            "regularMarketTime": stamps[-1] if stamps else 1735781400,
            "hasPrePostMarketData": False,
            "gmtoffset": 28800,
            "timezone": "HKT",
            "exchangeTimezoneName": "Asia/Hong_Kong",
            "priceHint": 3,
            "dataGranularity": "1d",
            "range": "",
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        },
        "indicators": {"quote": [{}], "adjclose": [{}]},
    }
    if days:
        result["timestamp"] = stamps
        result["indicators"] = {
            "quote": [{k: bars[k] for k in ("open", "high", "low", "close", "volume")}],
            "adjclose": [{"adjclose": bars["adjclose"]}],
        }
        events = {}
        if dividends:
            events["dividends"] = {
                str(_epoch(d)): {"amount": amount, "date": _epoch(d)} for d, amount in dividends
            }
        if splits:
            events["splits"] = {
                str(_epoch(d)): {
                    "date": _epoch(d),
                    "numerator": num,
                    "denominator": den,
                    "splitRatio": f"{num}:{den}",
                }
                for d, num, den in splits
            }
        if events:
            result["events"] = events
    return {"chart": {"result": [result], "error": None}}


class Universe:
    """What Yahoo holds for one symbol: bars on days, and events."""

    def __init__(self, symbol, days, bars, dividends=(), splits=()):
        self.symbol, self.days, self.bars = symbol, days, bars
        self.dividends, self.splits = dividends, splits

    def answer(self, period1: int, period2: int) -> dict:
        keep = [i for i, d in enumerate(self.days) if period1 <= _epoch(d) < period2]
        days = [self.days[i] for i in keep]
        bars = {k: [v[i] for i in keep] for k, v in self.bars.items()}
        inside = [(d, a) for d, a in self.dividends if d in days]
        return chart(self.symbol, days, bars, inside, [s for s in self.splits if s[0] in days])


def _response(url: str, status: int, body: str) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body.encode()
    r.url = url
    r.encoding = "utf-8"
    r.headers["Content-Type"] = "application/json" if body.startswith("{") else "text/html"
    return r


class FakeYahoo(requests.Session):
    """Serves Yahoo-shaped answers; history answers follow a per-symbol script.

    Script items: ``"ok"`` (the universe, filtered like Yahoo), ``"empty"``
    (a chart with no timestamps), ``("status", code, body)``, ``("raw", text)``
    or an exception instance to raise. When the script runs out, ``"ok"``.
    """

    def __init__(self, universes, scripts=None):
        super().__init__()
        self.universes = {u.symbol: u for u in universes}
        self.scripts = {k: list(v) for k, v in (scripts or {}).items()}
        self.history_requests: list[tuple[str, int, int]] = []
        self.urls: list[str] = []

    def request(self, method, url, params=None, **kwargs):
        full = requests.Request(method, url, params=params).prepare().url
        self.urls.append(full)
        parts = urlsplit(full)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.hostname == "fc.yahoo.com":
            return _response(full, 404, "")
        if parts.path.endswith("/v1/test/getcrumb"):
            return _response(full, 200, "fake-crumb")
        if "consent" in (parts.hostname or ""):
            return _response(full, 200, "<html><body>no form</body></html>")
        if parts.path.startswith("/v8/finance/chart/"):
            symbol = unquote(parts.path.rsplit("/", 1)[1])
            universe = self.universes.get(symbol)
            if universe is None:
                body = {
                    "chart": {
                        "result": None,
                        "error": {
                            "code": "Not Found",
                            "description": "No data found, symbol may be delisted",
                        },
                    }
                }
                return _response(full, 404, json.dumps(body))
            if "range" in query:  # yfinance asks for the exchange time zone first
                return _response(full, 200, json.dumps(chart(symbol, [], {})))
            p1, p2 = int(query["period1"]), int(query["period2"])
            self.history_requests.append((symbol, p1, p2))
            script = self.scripts.get(symbol) or []
            item = script.pop(0) if script else "ok"
            if isinstance(item, BaseException):
                raise item
            if item == "ok":
                return _response(full, 200, json.dumps(universe.answer(p1, p2)))
            if item == "empty":
                return _response(full, 200, json.dumps(chart(symbol, [], {})))
            if item[0] == "status":
                return _response(full, item[1], item[2])
            if item[0] == "raw":
                return _response(full, 200, item[1])
        return _response(full, 404, json.dumps({"finance": {"result": None, "error": "not found"}}))


@pytest.fixture(autouse=True)
def fresh_yfinance(monkeypatch):
    """yfinance keeps a session singleton, an lru cache and on-disk caches: reset them."""
    import yfinance.base as yb
    import yfinance.cache as yc
    import yfinance.data as yd

    monkeypatch.setattr(yc._TzCacheManager, "_tz_cache", yc._TzCacheDummy())
    monkeypatch.setattr(yc._CookieCacheManager, "_Cookie_cache", yc._CookieCacheDummy())
    monkeypatch.setattr(yb, "_tz_info_fetch_ctr", 0)
    yd.SingletonMeta._instances.pop(yd.YfData, None)
    yd.YfData.cache_get.cache_clear()
    yield
    yd.SingletonMeta._instances.pop(yd.YfData, None)
    yd.YfData.cache_get.cache_clear()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_source(universes, scripts=None, **kwargs):
    session = yahoo_session(FakeYahoo, universes, scripts)
    sleeps = Sleeps()
    src = YahooSource(session, sleep=sleeps, rng=random.Random(7), **kwargs)
    return src, session, sleeps


TENCENT = Universe("0700.HK", DAYS, BARS, dividends=[(date(2025, 1, 6), 3.4)])
D = pd.Timestamp


def test_normal_answer_keeps_both_closes_actions_and_local_dates():
    src, session, sleeps = make_source([TENCENT])
    bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    # Session dates exactly as traded in Hong Kong: a UTC shift would move each to the day before.
    assert list(bars.index) == [D(d) for d in DAYS]
    assert bars.index.tz is None
    assert bars["close"].tolist() == BARS["close"]  # split-adjusted close kept (auto_adjust=False)
    assert bars["adj_close"].tolist() == BARS["adjclose"]
    assert bars["open"].tolist() == BARS["open"]
    assert bars["volume"].tolist() == BARS["volume"]
    assert bars["dividends"].tolist() == [0.0, 0.0, 3.4, 0.0, 0.0]
    assert bars["splits"].tolist() == [0.0] * 5
    assert sleeps == []
    # One history request, from 2025-01-02 00:00 HKT to 2025-01-09 00:00 HKT (end exclusive).
    assert session.history_requests == [
        ("0700.HK", 1735747200, 1736352000)  # 2025-01-01T16:00Z and 2025-01-08T16:00Z
    ]


def test_split_event_is_kept_as_a_ratio():
    universe = Universe("0700.HK", DAYS, BARS, splits=[(date(2025, 1, 7), 5, 1)])
    src, _, _ = make_source([universe])
    bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert bars.loc[D("2025-01-07"), "splits"] == 5.0
    assert bars["splits"].sum() == 5.0


def test_rate_limit_then_success_backs_off_once():
    # yfinance retries a 429 once itself (other cookie strategy) before raising YFRateLimitError.
    src, session, sleeps = make_source(
        [TENCENT],
        {"0700.HK": [("status", 429, "Too Many Requests"), ("status", 429, "Too Many Requests")]},
    )
    bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert len(bars) == 5
    assert len(session.history_requests) == 3
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.0  # attempt 0: d = 1 s, sleep in [d/2, d]


def test_timeout_then_success():
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [requests.exceptions.ReadTimeout("slow")]})
    bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert len(bars) == 5
    assert len(sleeps) == 1


def test_persistent_timeouts_fail_with_reason_after_exponential_backoff():
    script = {"0700.HK": [requests.exceptions.ReadTimeout("slow") for _ in range(4)]}
    src, session, sleeps = make_source([TENCENT], script, timeout_s=10)
    with pytest.raises(FetchFailed) as info:
        src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert info.value.reason == "no answer from Yahoo within 10 s after 4 attempts"
    assert len(session.history_requests) == 4
    # base 1 s doubling: d = 1, 2, 4; each sleep in [d/2, d].
    assert len(sleeps) == 3
    for (lo, hi), slept in zip([(0.5, 1.0), (1.0, 2.0), (2.0, 4.0)], sleeps, strict=True):
        assert lo <= slept <= hi


def test_server_error_then_success():
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [("status", 503, "<html>down</html>")]})
    bars = src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert bars["close"].tolist() == BARS["close"]
    assert len(sleeps) == 1


def test_persistent_server_errors_fail():
    script = {"0700.HK": [("status", 502, "<html>bad gateway</html>")] * 3}
    src, _, sleeps = make_source([TENCENT], script, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(FetchFailed) as info:
        src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert info.value.reason == "Yahoo server error (HTTP 502) after 3 attempts"
    assert len(sleeps) == 2


def test_malformed_json_is_retried_then_fails():
    # A body cut short is usually whole the next time: retried like a dropped connection.
    cut = ("raw", '{"chart": {"result": [')
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [cut] * 4})
    with pytest.raises(FetchFailed) as info:
        src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert info.value.reason.startswith("unreadable answer from Yahoo")
    assert info.value.reason.endswith("after 4 attempts")
    assert len(sleeps) == 3


def test_empty_result_is_an_empty_result_with_yahoos_reason():
    src, _, sleeps = make_source([TENCENT], {"0700.HK": ["empty"]})
    with pytest.raises(EmptyResult) as info:
        src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert "no price data found" in info.value.reason
    assert sleeps == []


def test_unknown_symbol_fails_with_reason():
    src, _, _ = make_source([TENCENT])
    with pytest.raises(FetchFailed) as info:
        src.fetch("0001.XX", D("2025-01-02"), D("2025-01-08"))
    # yfinance finds no time zone in the chart answer, asks quoteSummary, gets a 404.
    assert info.value.reason == "Yahoo knows no such symbol (HTTP 404)"


def test_refused_connection_is_unreachable_after_retries():
    script = {"0700.HK": [requests.exceptions.ConnectionError("refused")] * 2}
    src, _, sleeps = make_source([TENCENT], script, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(SourceUnreachable):
        src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))
    assert len(sleeps) == 1


def test_a_plain_session_is_refused():
    with pytest.raises(TypeError):
        YahooSource(requests.Session())


# -- through update_prices: per-symbol failures, the others proceed ------------------------

HSI_DAYS = DAYS[:3]  # the index series ends mid-range, on 2025-01-06
HSI = Universe(
    "^HSI",
    HSI_DAYS,
    {
        "open": [20060.0, 19620.0, 19760.0],
        "high": [20150.0, 19800.0, 19870.0],
        "low": [19600.0, 19570.0, 19600.0],
        "close": [19623.32, 19760.27, 19688.29],
        "adjclose": [19623.32, 19760.27, 19688.29],
        "volume": [3.2e9, 2.9e9, 3.0e9],
    },
)


def test_update_one_empty_one_short_one_normal(tracker_home):
    empty = Universe("9988.HK", DAYS, BARS)
    src, session, _ = make_source([TENCENT, HSI, empty], {"9988.HK": ["empty"]})
    store = PriceStore(tracker_home)
    summary = update_prices(
        store, src, ["9988.HK", "^HSI", "0700.HK"], since="2025-01-02", until="2025-01-10", now=NOW
    )
    by = {r.symbol: r for r in summary.results}
    assert by["9988.HK"].status == "failed"
    assert "no price data found" in by["9988.HK"].reason
    assert by["^HSI"].status == "fetched" and by["^HSI"].rows_added == 3
    # Sessions after 2025-01-06 up to 2025-01-10: 7, 8, 9, 10 January.
    assert by["^HSI"].note == "series ends 2025-01-06, 4 sessions before 2025-01-10"
    assert by["0700.HK"].status == "fetched" and by["0700.HK"].rows_added == 5
    assert store.symbols() == ["0700.HK", "^HSI"]
    # 2025-01-08 has volume 0 but a real range (high > low): not a placeholder.
    assert not store.read_bars("0700.HK")["placeholder"].any()


def test_placeholder_row_from_yahoo_is_flagged_and_read_as_nan(tracker_home):
    bars = {k: list(v) for k, v in BARS.items()}
    # 2025-01-08 as Yahoo writes a half-day glitch: all four prices equal, volume 0.
    for k in ("open", "high", "low", "close", "adjclose"):
        bars[k][4] = 400.6
    src, _, _ = make_source([Universe("0700.HK", DAYS, bars)])
    store = PriceStore(tracker_home)
    update_prices(store, src, ["0700.HK"], since="2025-01-02", until="2025-01-08", now=NOW)
    stored = store.read_bars("0700.HK")
    assert stored["placeholder"].tolist() == [False, False, False, False, True]
    close = store.read(["0700.HK"], field="close")["0700.HK"]
    assert close.loc[D("2025-01-07")] == 400.6
    assert pd.isna(close.loc[D("2025-01-08")])
    assert store.read(["0700.HK"], field="volume")["0700.HK"].loc[D("2025-01-08")] == 0


def test_unreachable_source_stops_asking(tracker_home):
    script = {"0700.HK": [requests.exceptions.ConnectionError("refused")] * 2}
    src, session, _ = make_source([TENCENT, HSI], script, retry=RetryPolicy(max_attempts=2))
    summary = update_prices(
        PriceStore(tracker_home),
        src,
        ["0700.HK", "^HSI"],
        since="2025-01-02",
        until="2025-01-08",
        now=NOW,
    )
    assert summary.unreachable
    assert [r.status for r in summary.results] == ["failed", "failed"]
    assert summary.results[1].reason == "not tried: yahoo unreachable"
    assert {s for s, _, _ in session.history_requests} == {"0700.HK"}


# -- the column adapter ----------------------------------------------------------------------


def _history_frame():
    idx = pd.DatetimeIndex(["2025-01-02", "2025-01-03"]).tz_localize("Asia/Hong_Kong")
    return pd.DataFrame(
        {
            "Open": [1.0, 2.0],
            "High": [1.5, 2.5],
            "Low": [0.5, 1.5],
            "Close": [1.2, 2.2],
            "Adj Close": [1.1, 2.1],
            "Volume": [10, 20],
            "Dividends": [0.0, 0.1],
            "Stock Splits": [0.0, 0.0],
        },
        index=idx,
    )


@pytest.mark.parametrize("order", ["ticker-first", "price-first"])
def test_adapter_reads_multiindex_columns_either_way(order):
    plain = _history_frame()
    other = plain * 3
    wide = pd.concat({"0700.HK": plain, "9988.HK": other}, axis=1)  # (Ticker, Price)
    if order == "price-first":
        wide = wide.swaplevel(0, 1, axis=1)
    out = normalise_yahoo_frame(wide, "0700.HK")
    assert out["close"].tolist() == [1.2, 2.2]
    assert out["adj_close"].tolist() == [1.1, 2.1]
    assert list(out.index) == [D("2025-01-02"), D("2025-01-03")]


def test_adapter_reports_a_changed_schema():
    frame = _history_frame().drop(columns=["Adj Close"])  # as with auto_adjust=True
    with pytest.raises(FetchFailed, match="lacks Adj Close"):
        normalise_yahoo_frame(frame, "0700.HK")
