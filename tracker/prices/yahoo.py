"""Yahoo Finance through yfinance, with every option explicit.

One ``yf.Ticker(symbol, session=...).history(...)`` call per symbol and range:
``auto_adjust=False`` keeps both ``Close`` (split-adjusted: the price basis)
and ``Adj Close`` (dividend-adjusted too: the total basis); ``actions=True``
keeps dividends and splits; ``repair=False`` and ``keepna=False`` so that
nothing is invented. yfinance's defaults have changed under users before
(``auto_adjust`` became True and ``Adj Close`` disappeared), so none is relied on.

Failures are per symbol. Rate limiting (``YFRateLimitError``, HTTP 429),
timeouts, dropped connections, HTTP 5xx, curl's transfer errors (an HTTP/2
stream "not closed cleanly" arrives as curl_cffi's ``HTTPError`` with no
response; a partial file, an empty reply, a send or receive error) and an
answer that is not whole JSON are retried with exponential backoff and
jitter; an empty answer is an :class:`EmptyResult` with Yahoo's reason; no
connection at all is :class:`SourceUnreachable`.

yfinance swallows HTTP status codes, so the session is a
:class:`StatusCheckingSession` that raises :class:`HttpStatusError` on a 5xx
answer from the chart endpoint; :func:`yahoo_session` makes one. The session
also notes a chart answer without ``adjclose``: yfinance would copy ``Close``
into ``Adj Close`` and the total basis would silently equal the price basis,
so such bars are stored with ``adj_close`` empty (unknown), as from a CSV
file without it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd

from tracker.prices.source import EmptyResult, FetchFailed, SourceUnreachable

#: Yahoo column names -> bar schema.
YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividends",
    "Stock Splits": "splits",
}
#: The chart endpoint whose answers carry prices.
CHART_PATH = "/v8/finance/chart/"

_TIMEOUT_NAMES = {"Timeout", "TimeoutError", "ReadTimeout", "ConnectTimeout"}
_CONNECTION_NAMES = {
    "ConnectionError",
    "ChunkedEncodingError",
    "RemoteDisconnected",
    "ProxyError",
    "ConnectionResetError",
    "ConnectionRefusedError",
    "IncompleteRead",
}
_DNS_HINTS = ("DNSError", "NameResolution", "Failed to resolve", "Could not resolve host")
#: curl error codes of a transfer cut short, worth another try (curl's libcurl-errors.3):
#: 16 HTTP/2 framing, 18 partial file, 28 timed out, 52 got nothing, 55 send error,
#: 56 receive error, 92 HTTP/2 stream not closed cleanly, 95 HTTP/3.
TRANSIENT_CURL_CODES = frozenset({16, 18, 28, 52, 55, 56, 92, 95})
_config_lock = threading.Lock()


class HttpStatusError(Exception):
    """An HTTP error status from Yahoo's chart endpoint."""

    def __init__(self, status: int, url: str):
        self.status = status
        self.url = url
        super().__init__(f"HTTP {status} from {url.split('?')[0]}")


class StatusCheckingSession:
    """Mixin for a requests or curl_cffi ``Session``: 5xx chart answers raise.

    Put it first in the bases, e.g. ``class S(StatusCheckingSession,
    requests.Session)``; yfinance accepts the result because it is still a
    session of a supported class.
    """

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)  # type: ignore[misc]
        if CHART_PATH in url and response.status_code >= 500:
            raise HttpStatusError(response.status_code, url)
        if CHART_PATH in url and response.status_code == 200:
            symbol = unquote(url.split("?")[0].rsplit("/", 1)[-1])
            if _lacks_adjclose(response):
                self.without_adjclose().add(symbol)
        return response

    def without_adjclose(self) -> set[str]:
        """Symbols whose last chart answer had bars but no ``adjclose`` (see the module doc)."""
        if not hasattr(self, "_without_adjclose"):
            self._without_adjclose: set[str] = set()
        return self._without_adjclose


def _lacks_adjclose(response: Any) -> bool:
    """True for a chart answer with timestamps and no usable ``adjclose`` series."""
    try:
        result = json.loads(response.content)["chart"]["result"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return False  # unreadable or empty: yfinance reports it
    if not isinstance(result, dict) or not result.get("timestamp"):
        return False
    series = (result.get("indicators") or {}).get("adjclose") or [{}]
    values = series[0].get("adjclose") if isinstance(series[0], dict) else None
    return not values or all(v is None for v in values)


def yahoo_session(base: type | None = None, *args: Any, **kwargs: Any) -> Any:
    """A :class:`StatusCheckingSession` built on ``base``.

    Parameters
    ----------
    base
        A ``requests.Session`` or ``curl_cffi.requests.Session`` subclass.
        Default: curl_cffi's session impersonating Chrome (as yfinance does),
        else ``requests.Session`` if curl_cffi is not installed.
    *args, **kwargs
        Passed to ``base``.
    """
    if base is None:
        try:
            from curl_cffi.requests import Session as base

            kwargs.setdefault("impersonate", "chrome")
        except ImportError:  # pragma: no cover - curl_cffi is a yfinance dependency
            from requests import Session as base
    cls = type(f"StatusChecking{base.__name__}", (StatusCheckingSession, base), {})
    return cls(*args, **kwargs)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    Attempt ``k`` (from 0) that fails transiently is followed by a sleep drawn
    uniformly from ``[d/2, d]`` seconds, ``d = min(max_delay_s, base_delay_s * 2**k)``.
    """

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay_s(self, attempt: int, u: float) -> float:
        """Sleep after failed attempt ``attempt`` for a uniform draw ``u`` in [0, 1)."""
        d = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        return d / 2 + u * d / 2


@contextmanager
def _yf_raises() -> Iterator[None]:
    """Make yfinance raise instead of logging and returning an empty frame."""
    import yfinance as yf

    with _config_lock:
        before = yf.config.debug.hide_exceptions
        yf.config.debug.hide_exceptions = False
        try:
            yield
        finally:
            yf.config.debug.hide_exceptions = before


def _forget_cached_answers() -> None:
    """Empty yfinance's in-process cache of chart answers before each request.

    yfinance fetches past ranges through an LRU cache of responses
    (``YfData.cache_get``): a body cut short would be served again to every
    retry of the same range, so a retry would never reach Yahoo, and an answer
    without ``adjclose`` would come back unseen by the session.
    """
    import yfinance.data as yd

    clear = getattr(getattr(yd.YfData, "cache_get", None), "cache_clear", None)
    if clear is not None:
        clear()


def _kind(exc: BaseException) -> str:
    """'retry', 'connection', 'dns', 'empty' or 'bad' for an exception from yfinance."""
    from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

    names = {t.__name__ for t in type(exc).__mro__}
    if isinstance(exc, YFRateLimitError):
        return "retry"
    if isinstance(exc, HttpStatusError):
        return "retry" if exc.status >= 500 else "bad"
    if isinstance(exc, YFPricesMissingError | YFTzMissingError):
        return "empty"
    if isinstance(exc, json.JSONDecodeError) or "JSONDecodeError" in names:
        return "retry"  # an answer cut short; the next one is usually whole
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "HTTPError" in names and status is not None:
        return "retry" if status == 429 or status >= 500 else "bad"
    if "CurlError" in names and getattr(exc, "code", None) in TRANSIENT_CURL_CODES:
        return "retry"
    if "HTTPError" in names:  # a transfer failure, not an answer: no status to judge
        return "retry"
    if isinstance(exc, ValueError):
        return "bad"
    if names & _TIMEOUT_NAMES or isinstance(exc, TimeoutError):
        return "retry"
    if any(h in f"{type(exc).__name__} {exc}" for h in _DNS_HINTS):
        return "dns"
    if names & _CONNECTION_NAMES or isinstance(exc, ConnectionError):
        return "connection"
    return "bad"


def _reason(exc: BaseException, timeout_s: float) -> str:
    from yfinance.exceptions import YFRateLimitError

    if isinstance(exc, YFRateLimitError):
        return "rate limited by Yahoo (HTTP 429)"
    if isinstance(exc, HttpStatusError):
        return f"Yahoo server error (HTTP {exc.status})"
    if isinstance(exc, ValueError):
        return f"unreadable answer from Yahoo ({type(exc).__name__}: {exc})"
    names = {t.__name__ for t in type(exc).__mro__}
    code = getattr(exc, "code", None)
    if "CurlError" in names and code in TRANSIENT_CURL_CODES:
        return f"transfer cut short ({type(exc).__name__}, curl error {int(code)}: {exc})"
    if names & _TIMEOUT_NAMES or isinstance(exc, TimeoutError):
        return f"no answer from Yahoo within {timeout_s:g} s"
    if any(h in f"{type(exc).__name__} {exc}" for h in _DNS_HINTS):
        return "Yahoo's host name cannot be resolved (no network?)"
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "HTTPError" in names and status is not None:
        return (
            "Yahoo knows no such symbol (HTTP 404)"
            if status == 404
            else f"HTTP {status} from Yahoo"
        )
    text = str(exc).replace("$", "", 1)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def normalise_yahoo_frame(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """A yfinance frame -> bar schema columns, indexed by Hong Kong session date.

    Handles ``Ticker.history`` frames and ``yf.download`` frames with
    MultiIndex columns (``group_by="ticker"``: (Ticker, Price); the default:
    (Price, Ticker)). Timestamps keep their exchange-local date (a bar at
    2025-01-02 00:00+08:00 is the 2025-01-02 session, never 2025-01-01 UTC).

    Raises
    ------
    FetchFailed
        When a price column is missing (the schema changed) or the ticker is
        not in a MultiIndex frame.
    """
    if isinstance(frame.columns, pd.MultiIndex):
        for level in range(frame.columns.nlevels):
            if symbol in frame.columns.get_level_values(level):
                frame = frame.xs(symbol, axis=1, level=level)
                break
        else:
            raise FetchFailed(symbol, "not in the downloaded frame")
    missing = [c for c in ("Open", "High", "Low", "Close", "Adj Close", "Volume") if c not in frame]
    if missing:
        raise FetchFailed(
            symbol, f"yfinance frame lacks {', '.join(missing)} (got {list(frame.columns)})"
        )
    out = frame[[c for c in YAHOO_COLUMNS if c in frame.columns]].rename(columns=YAHOO_COLUMNS)
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        # yfinance labels daily bars at midnight in the exchange's zone; dropping
        # the zone without converting keeps that local date (no UTC shift).
        index = index.tz_localize(None)
    out.index = pd.DatetimeIndex(index.normalize(), name="date")
    return out.dropna(how="all", subset=["open", "high", "low", "close"])


class YahooSource:
    """Daily bars from Yahoo Finance.

    Parameters
    ----------
    session
        A :class:`StatusCheckingSession` (see :func:`yahoo_session`, the default).
    retry
        Backoff policy for transient failures.
    sleep
        Called with seconds to wait between attempts (tests pass a recorder).
    rng
        Source of jitter (``random.Random``); seeded in tests.
    timeout_s
        Per-request timeout, seconds.
    cache_dir
        Folder for yfinance's own caches (time zones, cookies); default: its own.
    """

    name = "yahoo"
    simulated = False

    def __init__(
        self,
        session: Any = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        timeout_s: float = 10.0,
        cache_dir: Path | None = None,
    ):
        if session is not None and not isinstance(session, StatusCheckingSession):
            raise TypeError(
                "session must be a StatusCheckingSession (use tracker.prices.yahoo.yahoo_session)"
            )
        self._session = session
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.timeout_s = timeout_s
        self.cache_dir = cache_dir
        self._cache_set = False

    def _prepare(self) -> Any:
        if self._session is None:
            self._session = yahoo_session()
        if self.cache_dir is not None and not self._cache_set:
            import yfinance as yf

            from tracker.storage import output_dir

            output_dir(self.cache_dir, "price cache folder")  # one line, not a traceback
            yf.set_tz_cache_location(str(self.cache_dir))
            self._cache_set = True
        return self._session

    def _history(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        import yfinance as yf

        session = self._prepare()
        # Every answer passes through the session, where it is judged (not yfinance's cache).
        _forget_cached_answers()
        session.without_adjclose().discard(symbol)
        with _yf_raises():
            ticker = yf.Ticker(symbol, session=session)
            return ticker.history(
                start=start.strftime("%Y-%m-%d"),
                # yfinance's end is exclusive: the day after the last wanted date.
                end=(end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                interval="1d",
                prepost=False,
                actions=True,
                auto_adjust=False,
                back_adjust=False,
                repair=False,
                keepna=False,
                rounding=False,
                timeout=self.timeout_s,
            )

    def fetch(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Bars for ``[start, end]``, retrying transient failures (see the module doc).

        Raises
        ------
        EmptyResult, SourceUnreachable, FetchFailed
            See :class:`tracker.prices.source.PriceSource`.
        """
        last = self.retry.max_attempts - 1
        for attempt in range(self.retry.max_attempts):
            try:
                frame = self._history(symbol, start, end)
                break
            except Exception as exc:
                kind = _kind(exc)
                reason = _reason(exc, self.timeout_s)
                if kind == "dns":
                    raise SourceUnreachable(symbol, reason) from None
                if kind in ("retry", "connection") and attempt < last:
                    self.sleep(self.retry.delay_s(attempt, self.rng.random()))
                    continue
                tries = f" after {attempt + 1} attempts" if attempt else ""
                if kind == "connection":
                    raise SourceUnreachable(symbol, reason + tries) from None
                if kind == "empty":
                    raise EmptyResult(symbol, f"Yahoo has no bars: {reason}") from None
                raise FetchFailed(symbol, reason + tries) from None
        bars = normalise_yahoo_frame(frame, symbol)
        if symbol in self._session.without_adjclose():
            self._session.without_adjclose().discard(symbol)
            # yfinance copied Close into Adj Close: the total basis is unknown, not the price.
            bars = bars.assign(adj_close=float("nan"))
        if bars.empty:
            raise EmptyResult(symbol, f"Yahoo returned no bars {start.date()}..{end.date()}")
        return bars
