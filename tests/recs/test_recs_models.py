"""Rating scales and call records: bands, horizons, cross-field rules."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tracker.recs.models import Band, Horizon, RatingScale, RatingSystem, Recommendation, Report

# The Huaan company scale in percentage points; a value on a threshold belongs
# to the band further from zero (Chinese "以上" includes the number).
HUAAN_COMPANY = [
    {"rating": "buy", "lower_pp": 15},
    {"rating": "overweight", "lower_pp": 5, "upper_pp": 15},
    {"rating": "neutral", "lower_pp": -5, "upper_pp": 5, "lower_inclusive": False},
    {
        "rating": "underweight",
        "lower_pp": -15,
        "upper_pp": -5,
        "lower_inclusive": False,
        "upper_inclusive": True,
    },
    {"rating": "sell", "upper_pp": -15, "upper_inclusive": True},
]


def system(bands, horizon="6-12"):
    return RatingSystem.model_validate({"horizon_months": horizon, "bands": bands})


@pytest.mark.parametrize(
    ("excess_pp", "expected"),
    [
        pytest.param(15.0, "buy", id="edge+15-is-buy"),
        pytest.param(14.999, "overweight", id="just-below+15"),
        pytest.param(5.0, "overweight", id="edge+5-is-overweight"),
        pytest.param(4.999, "neutral", id="just-below+5"),
        pytest.param(0.0, "neutral", id="zero"),
        pytest.param(-5.0, "underweight", id="edge-5-is-underweight"),
        pytest.param(-4.999, "neutral", id="just-above-5"),
        pytest.param(-15.0, "sell", id="edge-15-is-sell"),
        pytest.param(-14.999, "underweight", id="just-above-15"),
        pytest.param(120.0, "buy", id="far-above"),
        pytest.param(-90.0, "sell", id="far-below"),
    ],
)
def test_every_value_falls_in_exactly_one_band(excess_pp, expected):
    bands = system(HUAAN_COMPANY).bands
    containing = [b.rating for b in bands if b.contains(excess_pp)]
    assert containing == [expected]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {1: {"rating": "overweight", "lower_pp": 6, "upper_pp": 15}},
            "gap between neutral (up to 5.0) and overweight (from 6.0)",
            id="gap",
        ),
        pytest.param(
            {1: {"rating": "overweight", "lower_pp": 4, "upper_pp": 15}},
            "bands neutral (up to 5.0) and overweight (from 4.0) overlap",
            id="overlap",
        ),
        pytest.param(
            {1: {"rating": "overweight", "lower_pp": 5, "upper_pp": 15, "lower_inclusive": False}},
            "5.0 belongs to neither of neutral and overweight",
            id="edge-in-neither",
        ),
        pytest.param(
            {0: {"rating": "buy", "lower_pp": 15, "upper_pp": 99}},
            "gap above 99.0: the highest band (buy) needs no upper_pp",
            id="top-bounded",
        ),
        pytest.param(
            {0: {"rating": "overweight", "lower_pp": 15}},
            "rating 'overweight' has more than one band",
            id="duplicate-rating",
        ),
    ],
)
def test_bad_partitions_are_refused(change, message):
    bands = [dict(b) for b in HUAAN_COMPANY]
    for i, b in change.items():
        bands[i] = b
    with pytest.raises(ValidationError) as err:
        system(bands)
    assert message in str(err.value)


def test_bands_must_rise_with_the_rating():
    swapped = [dict(b) for b in HUAAN_COMPANY]
    swapped[0]["rating"], swapped[1]["rating"] = "overweight", "buy"
    with pytest.raises(ValidationError, match="bands must rise with the rating"):
        system(swapped)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(6, (6, 6)), ("6-12", (6, 12)), ([6, 12], (6, 12)), ("12", (12, 12))],
    ids=["int", "range-string", "list", "string"],
)
def test_horizon_short_forms(raw, expected):
    h = Horizon.model_validate(raw)
    assert (h.min_months, h.max_months) == expected


def test_horizon_reversed_is_refused():
    with pytest.raises(ValidationError, match="the first month must not be after the last"):
        Horizon.model_validate("12-6")


def test_band_rejects_unknown_keys():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Band.model_validate({"rating": "buy", "lower_pp": 15, "lowr": 3})


def _scale() -> RatingScale:
    return RatingScale.model_validate(
        {
            "id": "t",
            "broker": "T",
            "source": "test",
            "company": {"horizon_months": "6-12", "bands": HUAAN_COMPANY},
            "industry": {
                "horizon_months": 6,
                "bands": [
                    {"rating": "overweight", "lower_pp": 5, "aliases": ["看好"]},
                    {"rating": "neutral", "lower_pp": -5, "upper_pp": 5, "lower_inclusive": False},
                    {"rating": "underweight", "upper_pp": -5, "upper_inclusive": True},
                ],
            },
        }
    )


def test_attention_takes_the_industry_horizon_by_default():
    scale = _scale()
    assert str(scale.horizon("attention")) == "6M"
    assert str(scale.horizon("buy")) == "6-12M"
    band = scale.band("attention")
    assert not band.contains(0.0) and band.contains(0.01)


def test_report_checks_tickers_dates_and_ratings():
    scale = _scale()
    base = {
        "broker": "B",
        "title": "T",
        "published": "2025-05-06",
        "source": "s",
        "scale": "t",
        "recommendations": [
            {"name": "腾讯", "ticker": "0700.HK", "rating": "buy"},
            {"name": "腾讯控股", "ticker": "0700.HK", "rating": "attention"},
        ],
    }
    ctx = {"scales": {"t": scale}, "scale": scale, "today": date(2026, 1, 1)}
    with pytest.raises(ValidationError, match="0700.HK appears twice in one report"):
        Report.model_validate(base, context=ctx)
    with pytest.raises(ValidationError, match="publication date 2026-05-06 is in the future"):
        Report.model_validate({**base, "published": "2026-05-06"}, context=ctx)


@pytest.mark.parametrize(
    ("ticker", "ok"),
    [
        ("0700.HK", True),
        ("9988.HK", True),
        ("80700.HK", True),
        ("00700.HK", False),
        ("700.HK", False),
        ("0700", False),
        ("0700.hk", False),
    ],
)
def test_ticker_canonical_form(ticker, ok):
    data = {"name": "x", "ticker": ticker, "rating": "buy"}
    if ok:
        assert Recommendation.model_validate(data).ticker == ticker
    else:
        with pytest.raises(ValidationError, match="not an HKEX ticker in canonical form"):
            Recommendation.model_validate(data)


def test_aliases_map_to_canonical_ratings():
    scale = _scale()
    rec = Recommendation.model_validate(
        {"name": "x", "ticker": "0700.HK", "rating": "相关公司"}, context={"scale": scale}
    )
    assert rec.rating == "attention"
    assert scale.canonical_industry_rating("看好") == "overweight"
