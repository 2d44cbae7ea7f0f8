"""The local price store: one SQLite file under the tracker home.

SQLite (stdlib ``sqlite3``) because the store is small (a few hundred thousand
rows), must be updated one symbol at a time in place, and needs atomic,
crash-safe transactions and concurrent readers without a server; Parquet
files would need a rewrite-and-rename per update and their own locking.

Layout: ``<home>/prices.sqlite`` (WAL journal) and ``<home>/prices.sqlite.lock``
(a :mod:`filelock` lock held by updates, so two processes never interleave
their read-what-is-missing / write steps). Each symbol update is one
transaction: a failed or killed update leaves the previous data as it was.

Reads are pure: no network, no writes, nothing created on disk.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tracker import sessions
from tracker.errors import TrackerError
from tracker.prices.source import BAR_COLUMNS, PRICE_COLUMNS, SIMULATED, placeholder_mask

STORE_FILE = "prices.sqlite"
SCHEMA_VERSION = "1"
_DATE_FMT = "%Y-%m-%d"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bars (
    symbol TEXT NOT NULL,
    date TEXT NOT NULL,
    open REAL, high REAL, low REAL, close REAL, adj_close REAL, volume REAL,
    dividends REAL NOT NULL DEFAULT 0, splits REAL NOT NULL DEFAULT 0,
    placeholder INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    symbol TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    covered_first TEXT NOT NULL,
    covered_last TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: Columns of :meth:`PriceStore.status`.
STATUS_COLUMNS = [
    "first",
    "last",
    "rows",
    "placeholders",
    "suspensions",
    "stale_sessions",
    "source",
    "simulated",
    "fetched_at",
]


class StoreBusy(TrackerError):
    """Another process holds the store's update lock."""

    def __init__(self, lock_path: Path, timeout_s: float):
        super().__init__(
            f"another tracker process is updating the price store ({lock_path}); "
            f"waited {timeout_s:g} s: try again when it has finished"
        )


class StoreCorrupt(TrackerError):
    """The store file is not a tracker price store."""


@dataclass(frozen=True)
class SeriesMeta:
    """What the store remembers about one symbol.

    ``covered_first``..``covered_last`` are the sessions the source has been
    asked about (the source had nothing before ``covered_first`` that was
    asked for); ``fetched_at`` is the UTC time of the last successful fetch.
    """

    symbol: str
    source: str
    simulated: bool
    covered_first: pd.Timestamp
    covered_last: pd.Timestamp
    fetched_at: pd.Timestamp


def _iso(ts) -> str:
    return pd.Timestamp(ts).strftime(_DATE_FMT)


def _bar_rows(symbol: str, bars: pd.DataFrame) -> Iterator[tuple]:
    """Rows to insert, in ``bars`` table column order (NaN becomes NULL)."""
    values = bars[list(BAR_COLUMNS)].astype("float64").to_numpy()
    flags = placeholder_mask(bars, symbol).to_numpy()
    dates = bars.index.strftime(_DATE_FMT)
    for d, row, flag in zip(dates, values, flags, strict=True):
        yield (symbol, d, *(None if np.isnan(v) else float(v) for v in row), int(flag))


class PriceStore:
    """Daily bars per symbol, in ``<home>/prices.sqlite``.

    Parameters
    ----------
    home
        The tracker data directory (``Settings().home``).
    """

    def __init__(self, home: Path):
        self.home = Path(home)
        self.path = self.home / STORE_FILE
        self.lock_path = self.home / (STORE_FILE + ".lock")

    # -- connections -------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a killed process never loses committed data.
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(_SCHEMA)
            found = con.execute("SELECT value FROM store_meta WHERE key='schema'").fetchone()
            if found is None:
                con.execute(
                    "INSERT OR IGNORE INTO store_meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
                )
            elif found[0] != SCHEMA_VERSION:
                raise StoreCorrupt(
                    f"{self.path} has store schema {found[0]}, this tracker reads "
                    f"{SCHEMA_VERSION}: move the file away and run `tracker prices update`"
                )
        except sqlite3.DatabaseError as exc:
            con.close()
            raise _store_error(self.path, exc) from None
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        if not self.path.exists():
            yield None
            return
        try:
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc, reading=True) from None
        try:
            yield con
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc, reading=True) from None
        finally:
            con.close()

    @contextmanager
    def lock(self, timeout_s: float = 600.0) -> Iterator[None]:
        """Hold the update lock (blocks other updating processes).

        Raises
        ------
        StoreBusy
            When the lock is not free within ``timeout_s`` seconds.
        """
        from filelock import FileLock, Timeout

        from tracker.storage import output_dir, output_error

        output_dir(self.home, "tracker home")
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            raise StoreBusy(self.lock_path, timeout_s) from None
        except OSError as exc:  # a read-only home, a full disk (Timeout is caught above)
            raise output_error(self.lock_path, exc, "the store is unchanged") from None
        try:
            yield
        finally:
            lock.release()

    # -- reads ---------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Every symbol the store holds, sorted."""
        with self._reader() as con:
            if con is None or not _has_tables(con):
                return []
            return [r[0] for r in con.execute("SELECT symbol FROM series ORDER BY symbol")]

    def meta(self, symbol: str) -> SeriesMeta | None:
        """What the store remembers about ``symbol`` (None if nothing)."""
        with self._reader() as con:
            if con is None or not _has_tables(con):
                return None
            row = con.execute(
                "SELECT symbol, source, simulated, covered_first, covered_last, fetched_at "
                "FROM series WHERE symbol = ?",
                (symbol,),
            ).fetchone()
        if row is None:
            return None
        return SeriesMeta(
            symbol=row[0],
            source=row[1],
            simulated=bool(row[2]),
            covered_first=pd.Timestamp(row[3]),
            covered_last=pd.Timestamp(row[4]),
            fetched_at=pd.Timestamp(row[5]),
        )

    def read_bars(self, symbol: str, start=None, end=None) -> pd.DataFrame:
        """The stored bars of ``symbol`` in ``[start, end]`` (dates, inclusive).

        Returns
        -------
        pandas.DataFrame
            Index ``date`` (naive session dates), columns :data:`BAR_COLUMNS`
            plus boolean ``placeholder``; values exactly as stored (placeholder
            rows keep their prices here). Empty if nothing is stored.
        """
        cols = [*BAR_COLUMNS, "placeholder"]
        lo, hi = _bounds(start, end)
        with self._reader() as con:
            rows = []
            if con is not None and _has_tables(con):
                rows = con.execute(
                    f"SELECT date, {', '.join(cols)} FROM bars "
                    "WHERE symbol = ? AND date >= ? AND date <= ? ORDER BY date",
                    (symbol, lo, hi),
                ).fetchall()
        frame = pd.DataFrame(rows, columns=["date", *cols])
        frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date"), format=_DATE_FMT))
        frame.index.name = "date"
        frame[list(BAR_COLUMNS)] = frame[list(BAR_COLUMNS)].astype("float64")
        frame["placeholder"] = frame["placeholder"].astype(bool)
        return frame

    def read(
        self, symbols: Sequence[str], start=None, end=None, field: str = "close"
    ) -> pd.DataFrame:
        """One field of many symbols as a wide frame aligned on HKEX sessions.

        Parameters
        ----------
        symbols
            Columns of the result, in this order (duplicates dropped).
        start, end
            Inclusive date bounds; default: everything stored.
        field
            One of :data:`BAR_COLUMNS` or ``"placeholder"``. ``close`` is the
            price basis (split-adjusted), ``adj_close`` the total basis.

        Returns
        -------
        pandas.DataFrame
            Index ``date``: every HKEX session from the earliest to the latest
            bar of these symbols within the bounds (plus any bar dated off the
            calendar), so a suspension is a NaN row, a holiday no row. Columns:
            ``symbols``. NaN where a symbol has no bar (False for the
            ``placeholder`` field). On placeholder rows
            (Yahoo's flat, zero-volume rows) every *price* field is NaN; volume,
            dividends and splits are kept.
        """
        if field not in (*BAR_COLUMNS, "placeholder"):
            raise TrackerError(
                f"unknown price field {field!r}: use one of {', '.join(BAR_COLUMNS)}"
            )
        wanted = list(dict.fromkeys(symbols))
        lo, hi = _bounds(start, end)
        rows: list[tuple] = []
        if wanted:
            with self._reader() as con:
                if con is not None and _has_tables(con):
                    marks = ",".join("?" * len(wanted))
                    rows = con.execute(
                        f"SELECT symbol, date, {field}, placeholder FROM bars "
                        f"WHERE symbol IN ({marks}) AND date >= ? AND date <= ?",
                        (*wanted, lo, hi),
                    ).fetchall()
        if not rows:
            empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"), columns=wanted)
            return empty.astype(bool if field == "placeholder" else "float64")
        syms, dates, values, flags = zip(*rows, strict=True)
        values = np.array(values, dtype="float64")
        if field in PRICE_COLUMNS:
            values[np.array(flags, dtype=bool)] = np.nan
        long = pd.Series(
            values,
            index=pd.MultiIndex.from_arrays(
                [pd.to_datetime(pd.Index(dates), format=_DATE_FMT), pd.Index(syms)],
                names=["date", "symbol"],
            ),
        )
        wide = long.unstack("symbol")
        calendar = sessions.sessions_between(wide.index[0], wide.index[-1])
        index = calendar.union(wide.index)
        index.name = "date"
        wide = wide.reindex(index=index, columns=wanted)
        wide.columns.name = None
        if field == "placeholder":
            return wide.fillna(0.0).astype(bool)
        return wide

    def missing_sessions(self, symbol: str, start=None, end=None) -> pd.DatetimeIndex:
        """HKEX sessions between the first and last stored bar with no bar.

        For a listed stock these are suspensions (a holiday is not a session,
        so it never appears); for an index they are gaps in the source.
        """
        bars = self.read_bars(symbol, start, end)
        if bars.empty:
            return pd.DatetimeIndex([], name="date")
        span = sessions.sessions_between(bars.index[0], bars.index[-1])
        return span.difference(bars.index).rename("date")

    def status(self, now=None) -> pd.DataFrame:
        """One row per symbol: coverage, gaps, staleness and provenance.

        Parameters
        ----------
        now
            The moment staleness is measured at (default: the clock); a series
            is ``stale_sessions`` sessions behind the last closed HKEX session.

        Returns
        -------
        pandas.DataFrame
            Index ``symbol``; columns :data:`STATUS_COLUMNS`: ``first``/``last``
            bar dates, ``rows``, ``placeholders`` (flagged Yahoo rows),
            ``suspensions`` (sessions in ``[first, last]`` without a bar),
            ``stale_sessions``, ``source``, ``simulated``, ``fetched_at`` (UTC).
        """
        with self._reader() as con:
            series, dates = [], []
            if con is not None and _has_tables(con):
                series = con.execute(
                    "SELECT symbol, source, simulated, fetched_at FROM series ORDER BY symbol"
                ).fetchall()
                dates = con.execute("SELECT symbol, date, placeholder FROM bars").fetchall()
        frame = pd.DataFrame(index=pd.Index([], name="symbol"), columns=STATUS_COLUMNS)
        if not series:
            return frame
        as_of = _as_of(now)
        bars = pd.DataFrame(dates, columns=["symbol", "date", "placeholder"])
        bars["date"] = pd.to_datetime(bars["date"], format=_DATE_FMT)
        all_sessions = sessions.all_sessions()
        rows = []
        by_symbol = dict(tuple(bars.groupby("symbol", sort=False)))
        for symbol, source, simulated, fetched_at in series:
            group = by_symbol.get(symbol)
            if group is None or group.empty:
                rows.append([None, None, 0, 0, 0, None, source, bool(simulated), fetched_at])
                continue
            first, last = group["date"].min(), group["date"].max()
            span = all_sessions[(all_sessions >= first) & (all_sessions <= last)]
            on_sessions = int(group["date"].isin(span).sum())
            stale = sessions.count_sessions_between(last, as_of)
            rows.append(
                [
                    first.date(),
                    last.date(),
                    len(group),
                    int(group["placeholder"].sum()),
                    len(span) - on_sessions,
                    stale,
                    source,
                    bool(simulated),
                    pd.Timestamp(fetched_at),
                ]
            )
        frame = pd.DataFrame(rows, columns=STATUS_COLUMNS, index=[s[0] for s in series])
        frame.index.name = "symbol"
        return frame

    def fingerprint(self, symbols: Sequence[str], start=None, end=None) -> str:
        """SHA-256 (hex) of exactly the stored data a computation on ``symbols`` reads.

        Covers each symbol's source and every stored field of its bars in
        ``[start, end]``; independent of the order of ``symbols``. Two runs with
        the same fingerprint read identical prices.
        """
        digest = hashlib.sha256()
        lo, hi = _bounds(start, end)
        cols = ", ".join([*BAR_COLUMNS, "placeholder"])
        with self._reader() as con:
            usable = con is not None and _has_tables(con)
            for symbol in sorted(set(symbols)):
                source = None
                rows: list[tuple] = []
                if usable:
                    found = con.execute(
                        "SELECT source FROM series WHERE symbol = ?", (symbol,)
                    ).fetchone()
                    source = found[0] if found else None
                    rows = con.execute(
                        f"SELECT date, {cols} FROM bars WHERE symbol = ? AND date >= ? "
                        "AND date <= ? ORDER BY date",
                        (symbol, lo, hi),
                    ).fetchall()
                # repr of floats round-trips exactly, so equal text means equal data.
                digest.update(f"{symbol}\x1f{source}\x1f{len(rows)}\x1e".encode())
                digest.update(repr(rows).encode())
        return digest.hexdigest()

    # -- writes --------------------------------------------------------------

    def write(
        self,
        symbol: str,
        bars: pd.DataFrame,
        *,
        source: str,
        covered_first,
        covered_last,
        fetched_at: pd.Timestamp,
        replace: bool = False,
        rebase_before=None,
        price_factor: float = 1.0,
        adj_factor: float = 1.0,
    ) -> int:
        """Store ``bars`` for ``symbol`` and its coverage, in one transaction.

        Parameters
        ----------
        bars
            In the bar schema (:mod:`tracker.prices.source`); rows replace
            stored rows with the same date.
        source, covered_first, covered_last, fetched_at
            Remembered for the symbol (see :class:`SeriesMeta`).
        replace
            Delete every stored bar of the symbol first (a new source).
        rebase_before, price_factor, adj_factor
            Multiply stored rows dated before ``rebase_before`` by these factors
            (open/high/low/close/dividends by ``price_factor``, volume by its
            inverse, adj_close by ``adj_factor``), to put old rows on the basis
            of adjustment of the new ones.

        Returns
        -------
        int
            Rows written.
        """
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                if replace:
                    con.execute("DELETE FROM bars WHERE symbol = ?", (symbol,))
                elif rebase_before is not None and (price_factor != 1.0 or adj_factor != 1.0):
                    con.execute(
                        "UPDATE bars SET open = open * :p, high = high * :p, low = low * :p, "
                        "close = close * :p, dividends = dividends * :p, volume = volume / :p, "
                        "adj_close = adj_close * :a WHERE symbol = :s AND date < :d",
                        {"p": price_factor, "a": adj_factor, "s": symbol, "d": _iso(rebase_before)},
                    )
                cur = con.executemany(
                    "INSERT OR REPLACE INTO bars VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    _bar_rows(symbol, bars),
                )
                written = max(cur.rowcount, 0)
                con.execute(
                    "INSERT INTO series VALUES (?,?,?,?,?,?) ON CONFLICT(symbol) DO UPDATE SET "
                    "source=excluded.source, simulated=excluded.simulated, "
                    "covered_first=excluded.covered_first, covered_last=excluded.covered_last, "
                    "fetched_at=excluded.fetched_at",
                    (
                        symbol,
                        source,
                        int(source == SIMULATED),
                        _iso(covered_first),
                        _iso(covered_last),
                        pd.Timestamp(fetched_at).isoformat(),
                    ),
                )
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolled back already (it does after a full disk)
                if isinstance(exc, sqlite3.DatabaseError):
                    raise _store_error(self.path, exc) from None
                raise
        except sqlite3.DatabaseError as exc:  # BEGIN itself failed
            raise _store_error(self.path, exc) from None
        finally:
            con.close()
        return int(written)


def _store_error(path: Path, exc: sqlite3.DatabaseError, reading: bool = False) -> TrackerError:
    """A full disk, a damaged file or another failure, each with its own advice."""
    from tracker.storage import disk_full, is_damaged, is_disk_failure

    if is_disk_failure(exc):
        kept = "the store is unchanged" if not reading else "the store itself is not damaged"
        return disk_full(path, exc, kept)
    if is_damaged(exc):
        return StoreCorrupt(
            f"{path} is not a readable price store ({exc}): move it away and "
            "run `tracker prices update`"
        )
    verb = "read" if reading else "write"
    return TrackerError(f"cannot {verb} the price store {path}: {exc}")


def _has_tables(con: sqlite3.Connection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('bars','series')"
    ).fetchone()
    return found[0] == 2


def _bounds(start, end) -> tuple[str, str]:
    lo = "0000-00-00" if start is None else _iso(start)
    hi = "9999-99-99" if end is None else _iso(end)
    return lo, hi


def _as_of(now) -> pd.Timestamp:
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return sessions.last_closed_session(moment)
