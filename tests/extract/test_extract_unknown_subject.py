"""A rating goes to the company its phrase is about, even when the registry lacks it.

Each note below rates a company the registry does not know (星辰数智, 遠航智能, 云帆科技,
Northstar Robotics, Acme Widgets: invented names) and names coded companies only as
clients, peers, competitors, partners or comparisons. The expected calls are read
from the sentences by hand: the rated company keeps its rating and target as an
unresolved call (ticker None), and no mentioned company gets a call from it.
"""

from __future__ import annotations

from datetime import date

import pytest

from tracker.extract.mentions import mention_spans, merely_mentioned
from tracker.extract.roundup import extract_drafts
from tracker.registry.resolve import Registry

TODAY = date(2026, 6, 30)

Call = tuple[str, str | None, str, float | None, str | None]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.curated()


def _calls(text: str, registry: Registry) -> set[Call]:
    drafts = extract_drafts(text, registry, today=TODAY)
    return {
        (
            c.name,
            c.ticker,
            c.rating,
            c.target.value if c.target else None,
            c.target.currency if c.target else None,
        )
        for d in drafts
        for c in d.calls
    }


CASES = [
    pytest.param(
        "中信证券 港股研究 2025年6月3日\n分析师：张三\n"
        '我们首次覆盖星辰数智，给予"买入"评级，目标价12.5港元；'
        "其主要客户包括腾讯控股(0700.HK)与美团(3690.HK)。\n",
        # 首次覆盖 names 星辰数智; 腾讯 and 美团 are its clients (其…包括).
        {("星辰数智", None, "buy", 12.5, "HKD")},
        id="zh-hans-initiate-unknown-clients-coded",
    ),
    pytest.param(
        "國泰君安國際 2025年7月8日\n"
        "我們首次覆蓋遠航智能，給予「增持」評級，目標價8.6港元，"
        "其競爭對手包括小米集團(1810.HK)及比亞迪股份(1211.HK)。\n",
        # Same clause, traditional script: 小米 and 比亞迪 are competitors (競爭對手包括).
        {("遠航智能", None, "overweight", 8.6, "HKD")},
        id="zh-hant-initiate-unknown-competitors-coded",
    ),
    pytest.param(
        "招银国际 2025年6月10日\n云帆科技：AI 算力新星\n"
        "维持“买入”评级，目标价23港元。公司与腾讯控股(0700.HK)、阿里巴巴(9988.HK)长期合作。\n",
        # The header names the company (云帆科技:); the body's coded companies are partners.
        {("云帆科技", None, "buy", 23.0, "HKD")},
        id="zh-hans-unknown-in-title-partners-in-body",
    ),
    pytest.param(
        "海通國際 2025年6月9日\n遠航智能：首次覆蓋\n"
        "給予「買入」評級，目標價15港元。與小米集團(1810.HK)相比，公司估值折讓明顯。\n",
        # 與…相比 is a comparison: 小米 is not rated.
        {("遠航智能", None, "buy", 15.0, "HKD")},
        id="zh-hant-unknown-in-title-comparison-in-body",
    ),
    pytest.param(
        "HSBC Global Research, 12 June 2025\n"
        "We initiate coverage of Northstar Robotics with a Buy rating and a target price of"
        " HK$18.0; its peers include Xiaomi (1810.HK) and BYD (1211.HK).\n",
        # The peers sit on the rated line but are not rated (no table row).
        {("Northstar Robotics", None, "buy", 18.0, "HKD")},
        id="en-initiate-unknown-peers-coded",
    ),
    pytest.param(
        "UBS 2025-06-12\n"
        "We maintain Buy on Acme Widgets, ahead of Tencent (00700.HK) results, with a target"
        " price of HK$42.\n",
        # The target follows Tencent in the text but belongs to the rated Acme Widgets.
        {("Acme Widgets", None, "buy", 42.0, "HKD")},
        id="en-target-stays-with-its-company",
    ),
    pytest.param(
        "Morgan Stanley 2025-06-05\n"
        "We upgrade Acme Widgets to Overweight from Equal-weight, versus Meituan (03690.HK)"
        " whose margins are lower. Price target HK$55.\n",
        # "versus" opens a comparison; the next sentence's target is the rated company's.
        {("Acme Widgets", None, "overweight", 55.0, "HKD")},
        id="en-upgrade-unknown-versus-coded",
    ),
    pytest.param(
        "Morgan Stanley 2025-06-05\n"
        "We upgrade Acme Widgets to Overweight from Equal-weight, versus Meituan (03690.HK)"
        " which we keep at Equal-weight. Price target HK$55.\n",
        # The comparison clause rates Meituan itself ("keep at Equal-weight"): two calls.
        {
            ("Acme Widgets", None, "overweight", 55.0, "HKD"),
            ("Meituan", "3690.HK", "neutral", None, None),
        },
        id="en-comparison-clause-with-its-own-rating",
        marks=pytest.mark.xfail(
            strict=True,
            reason="'keep X at Equal-weight' is not read as a rating yet (nor in a plain sentence)",
        ),
    ),
    pytest.param(
        "Citi 2025-06-03\n"
        "Citi kept its Buy rating on Acme Widgets, whose clients such as Tencent (00700.HK),"
        " Meituan (03690.HK) and JD (09618.HK) drive growth.\n",
        # A comma-separated list of clients stays inside the "such as" clause.
        {("Acme Widgets", None, "buy", None, None)},
        id="en-clients-list",
    ),
    pytest.param(
        "华泰证券 2025年6月5日\n"
        "与快手(1024.HK)相比，星辰数智的增速更快，我们首次覆盖星辰数智，给予“增持”评级，"
        "目标价30港元。\n",
        # The coded company stands before the rating, but only in the comparison.
        {("星辰数智", None, "overweight", 30.0, "HKD")},
        id="zh-hans-comparison-before-rating",
    ),
    pytest.param(
        "华泰证券 2025年6月5日\n"
        "维持美团(3690.HK)“买入”评级，目标价180港元，其同业如星辰数智估值更高。\n",
        # The coded company is rated; the unknown one is only its peer (同业如).
        {("美团", "3690.HK", "buy", 180.0, "HKD")},
        id="zh-hans-coded-rated-unknown-peer",
    ),
    pytest.param(
        "华泰证券 2025年6月5日\n"
        "与星辰数智相比，腾讯控股(0700.HK)估值更低，维持“买入”评级，目标价500港元。\n",
        # The unknown name is the comparison; 腾讯 is the subject of 维持.
        {("腾讯控股", "0700.HK", "buy", 500.0, "HKD")},
        id="zh-hans-coded-rated-after-unknown-comparison",
    ),
    pytest.param(
        "瑞銀 2025年6月3日\n"
        "瑞銀維持騰訊控股(00700)「買入」評級，目標價620港元；同業例如星辰數智及美團(03690)估值較高。\n",
        # 美團 is coded but only a peer (同業例如): no call.
        {("騰訊控股", "0700.HK", "buy", 620.0, "HKD")},
        id="zh-hant-coded-rated-coded-and-unknown-peers",
    ),
    pytest.param(
        "中信证券 2025年6月3日\n"
        "中信证券维持腾讯控股(0700.HK)“买入”评级，目标价500港元。"
        "我们同时首次覆盖星辰数智，给予“增持”评级，目标价12港元，其客户包括美团(3690.HK)。\n",
        # Two calls: the second sentence's rating is not carried to 腾讯 nor given to 美团.
        {
            ("腾讯控股", "0700.HK", "buy", 500.0, "HKD"),
            ("星辰数智", None, "overweight", 12.0, "HKD"),
        },
        id="zh-hans-coded-then-unknown-initiation",
    ),
    pytest.param(
        "中信证券 2025年6月3日\n维持腾讯控股(0700.HK)以及美团(3690.HK)“买入”评级。\n",
        # 以及 inside the rating phrase joins two rated companies: both keep the rating.
        {("腾讯控股", "0700.HK", "buy", None, None), ("美团", "3690.HK", "buy", None, None)},
        id="zh-hans-two-coded-rated-together",
    ),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_the_rating_stays_with_its_company(text, expected, registry):
    assert _calls(text, registry) == expected


def test_the_unresolved_call_review_names_the_company(registry):
    text = CASES[0].values[0]
    (draft,) = extract_drafts(text, registry, today=TODAY)
    items = [r.message for r in draft.review if r.field == "recommendations"]
    assert any("星辰数智" in m and "not in the registry" in m for m in items), items
    (call,) = draft.calls
    assert call.ticker is None and call.confidence == "low"


def test_a_rating_without_its_company_goes_to_review_not_to_a_body_company(registry):
    # No title company, no company in the phrase: 腾讯 is named deep in a body sentence
    # as a partner, so the rating is nobody's and the reviewer is told.
    text = (
        "中信证券 2025年6月3日\n分析师：张三\n"
        "维持“买入”评级，目标价23港元。公司与腾讯控股(0700.HK)长期合作。\n"
    )
    (draft,) = extract_drafts(text, registry, today=TODAY)
    assert draft.calls == ()
    messages = [r.message for r in draft.review]
    assert any("no company could be tied" in m for m in messages), messages


@pytest.mark.parametrize(
    "text, name, anchor, mentioned",
    [
        # The clause runs from its marker to the Chinese comma.
        ("其客户包括腾讯控股，维持买入评级", "腾讯", "买入", True),
        ("维持腾讯控股以及美团买入评级", "美团", "买入", False),
        ("与美团相比，公司估值较低", "美团", None, True),
        ("peers such as Tencent, Meituan and JD, we keep Buy", "JD", "Buy", True),
        ("peers such as Tencent, we keep Buy on Meituan", "Meituan", "Buy", False),
        ("如果腾讯控股回购", "腾讯", None, False),
    ],
)
def test_mention_clauses(text, name, anchor, mentioned):
    spans = mention_spans(text)
    at = text.index(anchor) if anchor else None
    assert merely_mentioned(spans, text.index(name), at) is mentioned
