"""The Yahoo source facing curl_cffi's own exceptions, and answers without ``adjclose``.

yfinance 1.7 talks through curl_cffi, whose errors carry a curl error code:
an HTTP/2 stream "not closed cleanly" is an ``HTTPError`` with code 92 and no
response, a cut transfer an ``IncompleteRead`` (18), a timeout ``Timeout``
(28). They are raised here from the fake session underneath yfinance's own
request code (``tests/test_prices_yahoo.py``), built with curl_cffi's own
``code2error`` table, so the classes are exactly those a real transfer raises.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from curl_cffi.const import CurlECode
from curl_cffi.requests.exceptions import HTTPError, code2error
from prices.test_prices_yahoo import (
    BARS,
    DAYS,
    NOW,
    TENCENT,
    D,
    FakeYahoo,
    Sleeps,
    _response,
    fresh_yfinance,  # noqa: F401  (autouse fixture: a clean yfinance per test)
    make_source,
)

from tracker.prices import PriceStore, update_prices
from tracker.prices.source import FetchFailed, SourceUnreachable
from tracker.prices.yahoo import RetryPolicy, YahooSource, yahoo_session

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

#: (curl code, message as libcurl words it) for transfers cut short.
TRANSIENT = [
    (CurlECode.HTTP2_STREAM, "HTTP/2 stream 1 was not closed cleanly: PROTOCOL_ERROR (err 1)"),
    (CurlECode.HTTP2_STREAM, "HTTP/2 stream 3 was not closed cleanly: INTERNAL_ERROR (err 2)"),
    (CurlECode.HTTP2, "Error in the HTTP2 framing layer"),
    (CurlECode.PARTIAL_FILE, "transfer closed with 1024 bytes remaining to read"),
    (CurlECode.OPERATION_TIMEDOUT, "Operation timed out after 10001 milliseconds"),
    (CurlECode.GOT_NOTHING, "Empty reply from server"),
    (CurlECode.SEND_ERROR, "Failed sending data to the peer"),
    (CurlECode.RECV_ERROR, "Recv failure: Connection reset by peer"),
]


def curl_error(code: int, message: str) -> Exception:
    """The exception curl_cffi raises for ``code`` (its own class table, no response)."""
    full = f"Failed to perform, curl: ({int(code)}) {message}."
    return code2error(code, full)(full, code)


def fetch(src):
    return src.fetch("0700.HK", D("2025-01-02"), D("2025-01-08"))


@pytest.mark.parametrize(
    "code, message", TRANSIENT, ids=[f"{int(c)}-{m[:12]}" for c, m in TRANSIENT]
)
def test_a_cut_transfer_is_retried(code, message):
    src, session, sleeps = make_source([TENCENT], {"0700.HK": [curl_error(code, message)]})
    bars = fetch(src)
    assert len(bars) == 5 and len(sleeps) == 1
    assert len(session.history_requests) == 2


@pytest.mark.parametrize("code, message", TRANSIENT[:1] + TRANSIENT[3:4])
def test_a_transfer_cut_every_time_fails_after_the_retries(code, message):
    script = {"0700.HK": [curl_error(code, message)] * 4}
    src, _, sleeps = make_source([TENCENT], script)
    with pytest.raises((FetchFailed, SourceUnreachable)) as info:
        fetch(src)
    assert info.value.reason.endswith("after 4 attempts") and len(sleeps) == 3
    assert f"curl error {int(code)}" in info.value.reason or "within" in info.value.reason


def test_http2_stream_error_class_is_curl_cffis_httperror_without_response():
    exc = curl_error(*TRANSIENT[0])
    assert type(exc) is HTTPError and exc.response is None and exc.code == 92


def test_dns_failure_is_unreachable_at_once():
    exc = curl_error(CurlECode.COULDNT_RESOLVE_HOST, "Could not resolve host: query1.finance")
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [exc]})
    with pytest.raises(SourceUnreachable):
        fetch(src)
    assert sleeps == []


def test_refused_connection_is_retried_then_unreachable():
    exc = curl_error(CurlECode.COULDNT_CONNECT, "Failed to connect to query2 port 443")
    src, _, sleeps = make_source(
        [TENCENT], {"0700.HK": [exc] * 2}, retry=RetryPolicy(max_attempts=2)
    )
    with pytest.raises(SourceUnreachable):
        fetch(src)
    assert len(sleeps) == 1


@pytest.mark.parametrize("status, retried", [(404, False), (403, False), (429, True), (503, True)])
def test_curl_httperror_with_a_response_is_judged_by_its_status(status, retried):
    exc = HTTPError(f"HTTP Error {status}", 0, response=_response("https://x/", status, ""))
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [exc]})
    if retried:
        assert len(fetch(src)) == 5 and len(sleeps) == 1
    else:
        with pytest.raises(FetchFailed):
            fetch(src)
        assert sleeps == []


@pytest.mark.parametrize(
    "body",
    ['{"chart": {"result": [', "", "<html>502 Bad Gateway</html>", '{"chart": '],
    ids=["cut", "empty", "html", "cut-early"],
)
def test_an_unreadable_answer_is_retried(body):
    src, _, sleeps = make_source([TENCENT], {"0700.HK": [("raw", body)]})
    assert len(fetch(src)) == 5 and len(sleeps) == 1


# --------------------------------------------------------------------------- adjclose


class NoAdjClose(FakeYahoo):
    """Yahoo answers whose ``indicators`` lack ``adjclose`` (or hold only nulls)."""

    def __init__(self, universes, how: str):
        super().__init__(universes)
        self.how = how

    def request(self, method, url, params=None, **kwargs):
        response = super().request(method, url, params=params, **kwargs)
        if "/v8/finance/chart/" in url and response.status_code == 200:
            data = json.loads(response.content)
            result = data["chart"]["result"][0]
            if result.get("timestamp"):
                if self.how == "absent":
                    result["indicators"].pop("adjclose")
                else:
                    result["indicators"]["adjclose"] = [{"adjclose": [None] * len(DAYS)}]
                response._content = json.dumps(data).encode()
        return response


@pytest.mark.parametrize("how", ["absent", "nulls"])
def test_missing_adjclose_is_stored_as_unknown_not_as_close(tracker_home, how):
    session = yahoo_session(NoAdjClose, [TENCENT], how)
    src = YahooSource(session, sleep=Sleeps())
    bars = fetch(src)
    assert bars["close"].tolist() == BARS["close"]
    assert bars["adj_close"].isna().all()  # not a copy of close
    update_prices(PriceStore(tracker_home), src, ["0700.HK"], since="2025-01-02", now=NOW)
    stored = PriceStore(tracker_home).read_bars("0700.HK")
    assert stored["adj_close"].isna().all() and stored["close"].notna().all()


def test_present_adjclose_is_kept():
    src, _, _ = make_source([TENCENT])
    np.testing.assert_allclose(fetch(src)["adj_close"], BARS["adjclose"])


def test_an_answer_with_adjclose_after_one_without_is_not_flagged():
    class Once(NoAdjClose):
        def request(self, method, url, params=None, **kwargs):
            if "/v8/finance/chart/" in url and "period1" in (params or {}) and self.how == "done":
                return FakeYahoo.request(self, method, url, params=params, **kwargs)
            out = super().request(method, url, params=params, **kwargs)
            if "period1" in (params or {}):
                self.how = "done"
            return out

    session = yahoo_session(Once, [TENCENT], "absent")
    src = YahooSource(session, sleep=Sleeps())
    assert fetch(src)["adj_close"].isna().all()
    np.testing.assert_allclose(fetch(src)["adj_close"], BARS["adjclose"])
