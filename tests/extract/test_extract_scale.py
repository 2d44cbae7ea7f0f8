"""Reading rating definitions (投资评级说明 / rating definitions) into rating systems."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.extract.scale import assign_ratings, months_in, parse_definitions
from tracker.extract.text import read_source

REPORTS = Path(__file__).resolve().parents[1] / "resources" / "reports"


def _parse(name: str):
    return parse_definitions(read_source((REPORTS / name).read_text(encoding="utf-8")))


def _bands(rs):
    return [(b.rating, b.lower_pp, b.upper_pp) for b in rs.bands]


def _months(rs):
    return (rs.horizon_months.min_months, rs.horizon_months.max_months)


# Each case: the file, company bands and horizon, industry bands and horizon (None: not
# readable), the HK benchmark, and words the review list must contain. Bands are read
# off the snippet by hand: "在15%以上" -> (15, open), "介于-15%与-5%之间" -> (-15, -5),
# "落后/弱于/跌幅 X% 以上" -> (open, -X).
CASES = [
    pytest.param(
        "defs-between-and.txt",
        [
            ("buy", 15, None),
            ("overweight", 5, 15),
            ("neutral", -5, 5),
            ("underweight", -15, -5),
            ("sell", None, -15),
        ],
        (6, 6),
        [("overweight", 5, None), ("neutral", -5, 5), ("underweight", None, -5)],
        (6, 6),
        "^HSI",
        [],
        id="介于X与Y之间, 在-15%以下",
    ),
    pytest.param(
        "defs-plus-minus.txt",
        [("overweight", 10, None), ("neutral", -10, 10), ("underweight", None, -10)],
        (6, 12),
        [("overweight", 10, None), ("neutral", -10, 10), ("underweight", None, -10)],
        (6, 12),
        "^HSI",
        [],
        id="±10%, horizon after the bands",
    ),
    pytest.param(
        "defs-absolute-en.txt",
        [("buy", 15, None), ("neutral", -10, 15), ("sell", None, -10)],
        (12, 12),
        None,
        None,
        "^HSI",
        ["absolute returns", "no Hong Kong benchmark"],
        id="English, absolute returns flagged",
    ),
    pytest.param(
        "defs-below-no-industry-numbers.txt",
        [("buy", 20, None), ("overweight", 5, 20), ("neutral", -5, 5), ("underweight", None, -5)],
        (6, 6),
        None,
        None,
        "^HSCE",
        ["industry ratings: fewer than two bands have thresholds"],
        id="弱于 5%以下, industry without numbers",
    ),
    pytest.param(
        "defs-four-bands.txt",
        # 增持 / 谨慎增持 / 中性 / 减持: usual meanings collide, so by position.
        [("buy", 15, None), ("overweight", 5, 15), ("neutral", -5, 5), ("underweight", None, -5)],
        (12, 12),
        None,
        None,
        "^HSI",
        ["no Hong Kong benchmark"],
        id="four bands by position",
    ),
    pytest.param(
        "defs-neutral-in-words.txt",
        # 中性 "变化不大" sits between its neighbours: -10..10.
        [("overweight", 10, None), ("neutral", -10, 10), ("underweight", None, -10)],
        (12, 18),
        None,
        None,
        "^HSI",
        ["no Hong Kong benchmark"],
        id="neutral in words, 12-18 months",
    ),
    pytest.param(
        "defs-strong-recommend.txt",
        # 强烈推荐 / 审慎推荐 / 中性 / 回避; "5-20%" is a range; ±5%; 港股为恒生指数.
        [("buy", 20, None), ("overweight", 5, 20), ("neutral", -5, 5), ("sell", None, -5)],
        (6, 6),
        None,
        None,
        "^HSI",
        [],
        id="强烈推荐 system, industry in words only",
    ),
    pytest.param(
        "defs-dash-range.txt",
        [("buy", 15, None), ("overweight", 5, 15), ("neutral", -5, 5), ("sell", None, -5)],
        (12, 12),
        [("buy", 10, None), ("neutral", -10, 10), ("sell", None, -10)],
        (12, 12),
        "^HSI",
        [],
        id="5%-15% and 大盘",
    ),
]


@pytest.mark.parametrize(
    ("name", "company", "c_months", "industry", "i_months", "hk", "flags"), CASES
)
def test_definitions(name, company, c_months, industry, i_months, hk, flags):
    got = _parse(name)
    assert got.found
    assert _bands(got.company) == company
    assert _months(got.company) == c_months
    if industry is None:
        assert got.industry is None
    else:
        assert _bands(got.industry) == industry
        assert _months(got.industry) == i_months
    assert got.benchmarks["HK"] == hk
    for flag in flags:
        assert any(flag in p for p in got.problems), (flag, got.problems)
    if not flags:
        assert got.problems == ()


def test_edges_follow_the_further_from_zero_convention():
    got = _parse("defs-between-and.txt").company
    # (lower_inclusive, upper_inclusive) per band: 15 and 5 belong to the band above them,
    # -5 and -15 to the band below; neutral excludes both ends.
    edges = [(b.lower_inclusive, b.upper_inclusive) for b in got.bands]
    assert edges == [(True, False), (True, False), (False, False), (False, True), (True, True)]


def test_bilingual_band_names_make_one_band():
    got = _parse("defs-neutral-in-words.txt").company
    assert [b.aliases for b in got.bands] == [("优于大市",), ("中性",), ("弱于大市",)]


def test_text_without_definitions():
    got = parse_definitions(read_source("维持“买入”评级，目标价 500 港元。\n"))
    assert not got.found and got.company is None and got.problems == ()


def test_unreadable_definitions_are_reported():
    text = "投资评级说明\n买入：分析师看好\n卖出：分析师看淡\n"
    got = parse_definitions(read_source(text))
    assert got.found and got.company is None
    assert got.problems and "could not be read" in got.problems[0]


def test_bands_that_do_not_meet_are_reported():
    text = (
        "投资评级说明\n买入：未来6个月相对恒生指数涨幅20%以上；\n增持：未来6个月相对恒生指数涨幅5%～15%；\n"
        "中性：未来6个月相对恒生指数涨幅-5%～5%；\n卖出：未来6个月相对恒生指数跌幅5%以上。\n"
    )
    got = parse_definitions(read_source(text))
    assert got.company is None
    assert any("do not meet" in p for p in got.problems)


@pytest.mark.parametrize(
    ("words", "ratings"),
    [
        (
            ["买入", "增持", "中性", "减持", "卖出"],
            ["buy", "overweight", "neutral", "underweight", "sell"],
        ),
        (["强烈推荐", "推荐", "中性", "回避"], ["buy", "overweight", "neutral", "sell"]),
        (["优于大市", "中性", "弱于大市"], ["overweight", "neutral", "underweight"]),
        (["增持", "谨慎增持", "中性", "减持"], ["buy", "overweight", "neutral", "underweight"]),
        (["Buy", "Hold", "Sell"], ["buy", "neutral", "sell"]),
        (["看好", "中性", "看淡"], ["overweight", "neutral", "underweight"]),
        (["推荐", "中性", "回避"], ["overweight", "neutral", "sell"]),
    ],
    ids=[
        "five",
        "强烈推荐 four",
        "three 大市",
        "增持 twice",
        "English",
        "industry 看好",
        "推荐 回避",
    ],
)
def test_assign_ratings(words, ratings):
    assert assign_ratings(words) == ratings


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("未来 6-12 个月", [(6, 12)]),
        ("报告发布日后6到12个月内", [(6, 12)]),
        ("6个月内", [(6, 6)]),
        ("未来六个月", [(6, 6)]),
        ("未来十二个月", [(12, 12)]),
        ("未来一年", [(12, 12)]),
        ("over the next 12-18 months", [(12, 18)]),
        ("2025年5月6日", []),
    ],
)
def test_months_in(text, months):
    assert months_in(text) == months


_UP = st.sampled_from(["领先", "强于", "超越", "高于"])
_DOWN = st.sampled_from(["落后", "弱于", "跑输", "低于"])
_TO = st.sampled_from(["至", "~", "-", "～"])


@settings(max_examples=40, deadline=None)
@given(
    a=st.integers(11, 40),
    b=st.integers(1, 10),
    c=st.integers(1, 10),
    d=st.integers(11, 40),
    m1=st.sampled_from([3, 6, 12]),
    span=st.sampled_from([0, 6]),
    up=_UP,
    down=_DOWN,
    to=_TO,
    traditional=st.booleans(),
)
def test_generated_definitions_read_back(a, b, c, d, m1, span, up, down, to, traditional):
    """Any thresholds 0 < b < a and 0 < c < d, worded in the usual ways, come back exactly."""
    m2 = m1 + span
    h = f"{m1}-{m2}" if span else f"{m1}"
    text = (
        "投资评级说明\n公司评级\n"
        f"买入：未来{h}个月内相对恒生指数{up}{a}%以上；\n"
        f"增持：未来{h}个月内相对恒生指数{up}{b}%{to}{a}%；\n"
        f"中性：未来{h}个月内相对恒生指数变动幅度介于-{c}%与{b}%之间；\n"
        f"减持：未来{h}个月内相对恒生指数{down}{c}%{to}{d}%；\n"
        f"卖出：未来{h}个月内相对恒生指数{down}{d}%以上。\n"
    )
    if traditional:
        import opencc

        text = opencc.OpenCC("s2t").convert(text)
    got = parse_definitions(read_source(text))
    assert got.problems == ()
    assert _bands(got.company) == [
        ("buy", a, None),
        ("overweight", b, a),
        ("neutral", -c, b),
        ("underweight", -d, -c),
        ("sell", None, -d),
    ]
    assert _months(got.company) == (m1, m2)
    assert got.benchmarks == {"HK": "^HSI"}
