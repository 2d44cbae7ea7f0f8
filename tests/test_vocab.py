"""The vocabulary: one spelling per rating, entry convention, status and verdict."""

from __future__ import annotations

import typing

import pytest

from tracker import vocab


def test_ratings_strongest_first_attention_last():
    # The order the reports' 投资评级说明 list them in, attention appended.
    assert vocab.RATINGS == ("buy", "overweight", "neutral", "underweight", "sell", "attention")
    assert vocab.RATINGS_DESCENDING == vocab.RATINGS[:5]


@pytest.mark.parametrize(
    ("stronger", "weaker"),
    [
        pytest.param("buy", "overweight", id="buy>overweight"),
        pytest.param("overweight", "attention", id="overweight>attention"),
        pytest.param("attention", "neutral", id="attention>neutral"),
        pytest.param("neutral", "underweight", id="neutral>underweight"),
        pytest.param("underweight", "sell", id="underweight>sell"),
    ],
)
def test_rating_rank_orders_attention_between_overweight_and_neutral(stronger, weaker):
    assert vocab.Rating(stronger).rank > vocab.Rating(weaker).rank


def test_members_equal_their_plain_strings():
    # Frames hold plain strings; comparisons with members must hold both ways.
    assert vocab.Verdict.RIGHT_DIRECTION == "right direction"
    assert "next-open" == vocab.EntryConvention.NEXT_OPEN
    assert vocab.SCORED_VERDICTS == ("hit", "right direction", "miss")


def test_models_and_specs_accept_exactly_the_vocabulary():
    from tracker.backtest.spec import BacktestSpec
    from tracker.recs.models import Rating

    assert set(typing.get_args(Rating)) == set(vocab.RATINGS)
    entry = BacktestSpec.model_fields["entry"].annotation
    assert set(typing.get_args(entry)) == {"next-close", "next-open", "same-close"}


def test_scoring_constants_are_the_vocabulary():
    from tracker.scoring import core, rollup

    assert core.VERDICTS == tuple(v.value for v in vocab.Verdict)
    assert core.STATUSES == ("matured", "open", "no data")
    assert rollup.GROUP_BY == ("broker", "analyst", "report", "rating", "ticker")


def test_cli_options_offer_the_vocabulary():
    from typer.testing import CliRunner

    from tracker.cli import app

    out = CliRunner().invoke(app, ["score", "--entry", "tomorrow"])
    assert out.exit_code == 2
    for value in ("next-close", "next-open", "same-close"):
        assert value in out.output
