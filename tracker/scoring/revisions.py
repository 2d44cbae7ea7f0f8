"""Revisions and positions: each call against the same broker's previous call on the stock.

Pure functions over the calls frame (:func:`tracker.recs.book.calls_frame`, or
``Scores.calls``); no files, no clock.

* **Previous call**: the same broker's last earlier call on the same ticker in
  the book (by publication date, then report id).
* **Rating action**: ``initiate`` (no previous rating), ``upgrade``,
  ``downgrade`` or ``reiterate``, comparing :data:`RATING_RANK`. A call file
  may state the rating the report changes from (``previous_rating``); the
  report's own word wins over the book, which may miss calls.
* **Target action**: ``raise``, ``cut`` or ``keep`` against the previous target
  in the same currency (the stated ``previous_target``, else the previous
  call's), ``new`` when there is none; None for a call without a target.
* **Positions** (as TipRanks, WallStreetZen and Seeking Alpha count them): a
  position opens at a call and stays open through later calls of the same
  broker on the ticker that keep its side (positive: buy, overweight,
  attention; or not) at or above its opening rating; those calls are
  *reiterations* and do not restart it. It closes at a call that ranks below
  the opening rating (a downgrade, including to a non-positive rating), at a
  call on the other side, or :data:`POSITION_MONTHS` after it opened; that
  call (or the next one) opens a new position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.scoring.grid import months_after
from tracker.vocab import RATING_RANK  # attention sits between overweight and neutral

POSITIVE_RATINGS: frozenset[str] = frozenset({"buy", "overweight", "attention"})
INITIATE, UPGRADE, DOWNGRADE, REITERATE = "initiate", "upgrade", "downgrade", "reiterate"
RAISE, CUT, KEEP, NEW = "raise", "cut", "keep", "new"
#: A position expires this many calendar months after the session it opened on.
POSITION_MONTHS = 12


def _book_order(calls: pd.DataFrame) -> np.ndarray:
    return np.lexsort(
        (
            calls["call_id"].astype(str).to_numpy(),
            calls["report"].astype(str).to_numpy() if "report" in calls else np.zeros(len(calls)),
            pd.DatetimeIndex(calls["published"]).values,
            calls["ticker"].astype(str).to_numpy(),
            calls["broker"].astype(str).to_numpy(),
        )
    )


def _stated(calls: pd.DataFrame, column: str) -> pd.Series:
    if column in calls.columns:
        return calls[column]
    return pd.Series(None, index=calls.index, dtype=object)


def revisions(calls: pd.DataFrame) -> pd.DataFrame:
    """Each call's previous call, rating action and target action.

    Parameters
    ----------
    calls
        ``call_id``, ``broker``, ``ticker``, ``published``, ``rating``,
        ``target_price``, ``target_currency``; optionally ``report`` and the
        stated ``previous_rating_stated`` / ``previous_target_stated``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``previous_call_id``, ``previous_published``,
        ``previous_rating``, ``previous_target``, ``previous_currency`` (the
        book's previous call; None/NaN without one), ``rating_action``,
        ``target_action``.
    """
    order = _book_order(calls)
    s = calls.iloc[order]
    key = s["broker"].astype(str) + "\x1f" + s["ticker"].astype(str)
    same = (key == key.shift(1)).to_numpy()

    def prev(column: str) -> np.ndarray:
        values = s[column].shift(1).to_numpy(dtype=object).copy()
        values[~same] = None
        return values

    out = pd.DataFrame(
        {
            "previous_call_id": prev("call_id"),
            "previous_published": pd.to_datetime(prev("published")),
            "previous_rating": prev("rating"),
            "previous_target": pd.to_numeric(prev("target_price"), errors="coerce"),
            "previous_currency": prev("target_currency"),
        },
        index=s.index,
    ).reindex(calls.index)
    out["previous_target"] = out["previous_target"].astype(float)
    stated_rating = _stated(calls, "previous_rating_stated")
    was = stated_rating.where(stated_rating.notna(), out["previous_rating"])
    rank = calls["rating"].map(RATING_RANK)
    was_rank = was.map(RATING_RANK)
    out["rating_action"] = np.select(
        [was_rank.isna(), rank > was_rank, rank < was_rank],
        [INITIATE, UPGRADE, DOWNGRADE],
        REITERATE,
    ).astype(object)
    target = pd.to_numeric(calls["target_price"], errors="coerce")
    stated_target = pd.to_numeric(_stated(calls, "previous_target_stated"), errors="coerce")
    same_cur = out["previous_currency"].astype(object) == calls["target_currency"].astype(object)
    base = stated_target.where(stated_target.notna(), out["previous_target"].where(same_cur))
    action = np.select([base.isna(), target > base, target < base], [NEW, RAISE, CUT], KEEP).astype(
        object
    )
    action[target.isna().to_numpy()] = None
    out["target_action"] = action
    return out


def disagreements(calls: pd.DataFrame) -> pd.DataFrame:
    """Stated previous ratings and targets that disagree with the book's previous call.

    Returns
    -------
    pandas.DataFrame
        One row per disagreement: ``call_id``, ``file`` (when the calls have
        one), ``field`` (``previous_rating`` or ``previous_target``) and
        ``message``. A call without a previous call in the book, or whose
        previous call has a target in another currency, has nothing to disagree with.
    """
    rev = revisions(calls)
    rows = []
    stated_r = _stated(calls, "previous_rating_stated")
    stated_t = pd.to_numeric(_stated(calls, "previous_target_stated"), errors="coerce")
    for i in np.flatnonzero(rev["previous_call_id"].notna().to_numpy()):
        idx = calls.index[i]
        prev_id = rev.at[idx, "previous_call_id"]
        when = pd.Timestamp(rev.at[idx, "previous_published"]).date()
        book_r, said_r = rev.at[idx, "previous_rating"], stated_r.iloc[i]
        if pd.notna(said_r) and said_r != book_r:
            rows.append((idx, "previous_rating", f"{said_r}, but {prev_id} ({when}) is {book_r}"))
        book_t, said_t = rev.at[idx, "previous_target"], stated_t.iloc[i]
        same_cur = rev.at[idx, "previous_currency"] == calls["target_currency"].iloc[i]
        if pd.notna(said_t) and same_cur and pd.notna(book_t) and said_t != book_t:
            rows.append(
                (idx, "previous_target", f"{said_t:g}, but {prev_id} ({when}) has {book_t:g}")
            )
    frame = pd.DataFrame(rows, columns=["index", "field", "message"])
    frame.insert(0, "call_id", calls.loc[frame["index"], "call_id"].to_numpy(dtype=object))
    files = calls["file"] if "file" in calls.columns else pd.Series(None, index=calls.index)
    frame.insert(1, "file", files.loc[frame["index"]].to_numpy(dtype=object))
    return frame.drop(columns="index")


def positions(
    calls: pd.DataFrame, months: int = POSITION_MONTHS, session_column: str = "entry_session"
) -> pd.DataFrame:
    """Positions built from each broker's calls on a ticker (see the module docstring).

    Parameters
    ----------
    calls
        ``call_id``, ``broker``, ``ticker``, ``rating`` and the session each
        call is acted on (``session_column``; ``start_date`` also works).
    months
        A position expires on the first session on or after its opening
        session + ``months`` calendar months.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``position`` (the call that opened it),
        ``reiteration`` (True for a call that continued an open position),
        ``position_end`` (the session it closed or expires on) and
        ``position_closed_by`` (the call that closed it, None when it expired
        or is still open).
    """
    when = pd.DatetimeIndex(calls[session_column]).values.astype("datetime64[ns]")
    order = np.lexsort(
        (
            np.arange(len(calls)),
            when,
            calls["ticker"].astype(str).to_numpy(),
            calls["broker"].astype(str).to_numpy(),
        )
    )
    key = (calls["broker"].astype(str) + "\x1f" + calls["ticker"].astype(str)).to_numpy()[order]
    rank = calls["rating"].map(RATING_RANK).fillna(-1).to_numpy()[order]
    side = calls["rating"].isin(POSITIVE_RATINGS).to_numpy()[order]
    t = when[order]
    expiry = np.full(len(t), np.datetime64("NaT", "ns"))
    dated = ~np.isnat(t)
    if dated.any():
        expiry[dated] = months_after(t[dated], months)
    ids = calls["call_id"].to_numpy(dtype=object)[order]
    reiteration = np.zeros(len(t), dtype=bool)
    end = np.full(len(t), np.datetime64("NaT", "ns"))
    closed_by = np.full(len(t), None, dtype=object)
    src = np.arange(len(t))  # the row that opened each row's position
    opener = -1
    # Sequential by nature (whether a call continues a position depends on
    # which call opened it); it reads only dates and ratings, never prices.
    for i in range(len(t)):
        o = opener
        if o >= 0 and key[i] == key[o] and not (t[i] >= expiry[o]):
            if side[i] == side[o] and rank[i] >= rank[o]:
                src[i], reiteration[i] = o, True
                continue
            end[o], closed_by[o] = t[i], ids[i]  # this call closes it
        opener = i
        end[i] = expiry[i]
    result = pd.DataFrame(
        {
            "position": ids[src],
            "reiteration": reiteration,
            "position_end": pd.DatetimeIndex(end[src]),
            "position_closed_by": closed_by[src],
        },
        index=calls.index[order],
    )
    return result.reindex(calls.index)
