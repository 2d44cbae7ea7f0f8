"""Previous calls, rating and target actions, positions (:mod:`tracker.scoring.revisions`)."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker.scoring.revisions import disagreements, positions, revisions

COLS = [
    "call_id",
    "broker",
    "ticker",
    "published",
    "rating",
    "target_price",
    "target_currency",
    "previous_rating_stated",
    "previous_target_stated",
]


def book(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLS)
    frame["published"] = pd.to_datetime(frame["published"])
    frame["entry_session"] = frame["published"]  # sessions in these examples
    frame["file"] = "recs/" + frame["call_id"].str.split("#").str[0] + ".yaml"
    return frame


def plain(series: pd.Series) -> dict:
    return {k: (None if pd.isna(v) else v) for k, v in series.items()}


# Listed out of date order on purpose: the book order is by publication date.
BOOK = book(
    ("c#1", "UBS", "0700.HK", "2025-03-03", "neutral", 560.0, "HKD", None, None),
    ("a#1", "UBS", "0700.HK", "2025-01-02", "buy", 600.0, "HKD", None, None),
    ("b#1", "UBS", "0700.HK", "2025-02-03", "buy", 600.0, "HKD", None, None),
    ("d#1", "UBS", "0700.HK", "2025-04-01", "buy", 640.0, "HKD", None, None),
    ("e#1", "UBS", "9988.HK", "2025-01-02", "buy", 140.0, "USD", None, None),
    ("f#1", "UBS", "9988.HK", "2025-02-03", "buy", 150.0, "HKD", None, None),
    ("g#1", "CICC", "0700.HK", "2025-02-03", "overweight", None, None, "neutral", None),
    ("h#1", "CICC", "0700.HK", "2025-05-05", "overweight", 700.0, "HKD", None, 650.0),
)


def test_previous_call_and_actions():
    r = revisions(BOOK).set_index(BOOK["call_id"])
    assert plain(r["previous_call_id"]) == {
        "c#1": "b#1",
        "a#1": None,
        "b#1": "a#1",
        "d#1": "c#1",
        "e#1": None,
        "f#1": "e#1",
        "g#1": None,
        "h#1": "g#1",
    }
    assert plain(r["rating_action"]) == {
        "c#1": "downgrade",  # buy -> neutral
        "a#1": "initiate",
        "b#1": "reiterate",
        "d#1": "upgrade",  # neutral -> buy
        "e#1": "initiate",
        "f#1": "reiterate",
        "g#1": "upgrade",  # the file says it was neutral; the book has nothing earlier
        "h#1": "reiterate",
    }
    assert plain(r["target_action"]) == {
        "c#1": "cut",  # 600 -> 560
        "a#1": "new",
        "b#1": "keep",
        "d#1": "raise",  # 560 -> 640
        "e#1": "new",
        "f#1": "new",  # the previous target was in USD: nothing to compare in HKD
        "g#1": None,  # no target
        "h#1": "raise",  # the stated 650 -> 700 (g had none)
    }
    assert r.loc["d#1", "previous_target"] == 560.0
    assert r.loc["d#1", "previous_published"] == pd.Timestamp("2025-03-03")


def test_stated_previous_values_that_disagree_with_the_book():
    frame = book(
        ("a#1", "UBS", "0700.HK", "2025-01-02", "buy", 600.0, "HKD", None, None),
        ("b#1", "UBS", "0700.HK", "2025-02-03", "sell", 400.0, "HKD", "neutral", 580.0),
        ("c#1", "UBS", "0700.HK", "2025-03-03", "sell", 380.0, "HKD", "sell", 400.0),
    )
    d = disagreements(frame)
    assert d.to_dict(orient="records") == [
        {
            "call_id": "b#1",
            "file": "recs/b.yaml",
            "field": "previous_rating",
            "message": "neutral, but a#1 (2025-01-02) is buy",
        },
        {
            "call_id": "b#1",
            "file": "recs/b.yaml",
            "field": "previous_target",
            "message": "580, but a#1 (2025-01-02) has 600",
        },
    ]
    # The report's own word decides the action: neutral -> sell is a downgrade.
    assert revisions(frame)["rating_action"].tolist() == ["initiate", "downgrade", "reiterate"]


def pos(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["call_id", "broker", "ticker", "rating", "entry_session"])
    frame["entry_session"] = pd.to_datetime(frame["entry_session"])
    return positions(frame).set_index(frame["call_id"])


def test_a_downgrade_to_a_non_positive_rating_closes_the_position():
    p = pos(
        ("a", "UBS", "0700.HK", "buy", "2025-01-02"),
        ("b", "UBS", "0700.HK", "buy", "2025-03-03"),  # reiteration
        ("c", "UBS", "0700.HK", "neutral", "2025-05-05"),  # closes a, opens its own
    )
    assert p["position"].tolist() == ["a", "a", "c"]
    assert p["reiteration"].tolist() == [False, True, False]
    assert p.loc["a", "position_end"] == pd.Timestamp("2025-05-05")
    assert p.loc["a", "position_closed_by"] == "c"
    # c: 2025-05-05 + 12 months = 2026-05-05 (a session); still open.
    assert p.loc["c", "position_end"] == pd.Timestamp("2026-05-05")
    assert pd.isna(p.loc["c", "position_closed_by"])


@pytest.mark.parametrize(
    ("second", "continues"),
    [
        pytest.param("buy", True, id="reiterate"),
        pytest.param("overweight", False, id="below-own-rating"),
        pytest.param("attention", False, id="below-own-rating-attention"),
        pytest.param("sell", False, id="downgrade-to-sell"),
    ],
)
def test_what_continues_a_buy_position(second, continues):
    p = pos(("a", "X", "0700.HK", "buy", "2025-01-02"), ("b", "X", "0700.HK", second, "2025-02-03"))
    assert bool(p.loc["b", "reiteration"]) is continues


def test_a_neutral_position_is_closed_by_an_upgrade_to_the_positive_side():
    p = pos(
        ("a", "X", "0700.HK", "neutral", "2025-01-02"), ("b", "X", "0700.HK", "buy", "2025-02-03")
    )
    assert p["position"].tolist() == ["a", "b"]


def test_reiterations_do_not_restart_the_twelve_months():
    # a opens on 2025-01-02 and expires on 2026-01-02 (+12 months, a session).
    # b on 2025-12-01 reiterates it; c on 2026-01-05 comes after the expiry:
    # a new position, although it is within 12 months of b.
    p = pos(
        ("a", "X", "0700.HK", "buy", "2025-01-02"),
        ("b", "X", "0700.HK", "buy", "2025-12-01"),
        ("c", "X", "0700.HK", "buy", "2026-01-05"),
        ("d", "Y", "0700.HK", "buy", "2025-06-02"),  # another broker: its own
    )
    assert p["position"].tolist() == ["a", "a", "c", "d"]
    assert p.loc["a", "position_end"] == pd.Timestamp("2026-01-02")
    assert p.loc["b", "position_end"] == pd.Timestamp("2026-01-02")
