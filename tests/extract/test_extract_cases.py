"""Extraction cases written for the purpose: target prices, rating phrases, lists, notes in
English and traditional Chinese, a report without definitions, an unknown company, no calls."""

from __future__ import annotations

import functools
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tracker.cli import app
from tracker.extract import extract_draft
from tracker.extract.targets import target_prices
from tracker.extract.text import read_source, to_simplified
from tracker.extract.writer import draft_yaml
from tracker.recs.yamlio import load_yaml
from tracker.registry.resolve import Registry

ROOT = Path(__file__).resolve().parents[2]
REPORTS = Path(__file__).resolve().parents[1] / "resources" / "reports"
TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.curated()


def _draft(registry, text: str, **kw):
    return extract_draft(text, registry, today=TODAY, source="case.txt", **kw)


def _file(registry, name: str, **kw):
    text = (REPORTS / name).read_text(encoding="utf-8")
    return extract_draft(text, registry, today=TODAY, source=name, **kw)


# --------------------------------------------------------------------------- target prices

# (text, value, currency, previous value, currency assumed)
TARGETS = [
    ("目标价 500 港元", 500, "HKD", None, False),
    ("目标价由 600 元上调至 650 元", 650, "HKD", 600, True),
    ("目標價由600港元上調至650港元", 650, "HKD", 600, False),
    ("TP HK$520", 520, "HKD", None, False),
    ("TP: HK$16.50", 16.5, "HKD", None, False),
    ("目标价 45.6 港币", 45.6, "HKD", None, False),
    ("target price of HK$650", 650, "HKD", None, False),
    ("目标价为500港元", 500, "HKD", None, False),
    ("将目标价从150港元下调10%至135港元", 135, "HKD", 150, False),
    ("上调目标价至 60 港元", 60, "HKD", None, False),
    ("We raise our TP to HK$520 (from HK$480)", 520, "HKD", 480, False),
    ("TP raised to HK$13.0 from HK$11.5", 13, "HKD", 11.5, False),
    ("price target to US$30 from US$28", 30, "USD", 28, False),
    ("目标价:人民币 38.5 元", 38.5, "CNY", None, False),
    ("目标价 1,250.5 港元", 1250.5, "HKD", None, False),
    ("目标价 500", 500, "HKD", None, True),
]


@pytest.mark.parametrize(
    ("text", "value", "currency", "previous", "assumed"), TARGETS, ids=[t[0] for t in TARGETS]
)
def test_target_price_forms(text, value, currency, previous, assumed):
    hits = target_prices(to_simplified(text))
    assert [(h.value, h.currency, h.previous, h.currency_assumed) for h in hits] == [
        (value, currency, previous, assumed)
    ]


@pytest.mark.parametrize(
    "text", ["目标价对应 20 倍 PE", "目标价2026年有望实现", "合理估值区间 20-25 倍"]
)
def test_not_target_prices(text):
    assert target_prices(text) == []


# --------------------------------------------------------------------------- rating phrases

# (text, [(name, ticker, rating, action, previous rating)])
PHRASES = [
    ("维持腾讯控股(00700)“买入”评级。", [("腾讯控股", "0700.HK", "buy", "maintain", None)]),
    ("腾讯控股(00700.HK)：维持「买入」评级。", [("腾讯控股", "0700.HK", "buy", "maintain", None)]),
    (
        "我们首次覆盖美团-W（03690.HK），给予增持评级。",
        [("美团-W", "3690.HK", "overweight", "initiate", None)],
    ),
    (
        "快手-W(01024.HK)深度报告\n可灵商业化提速，首次覆盖给予增持。",
        [("快手-W", "1024.HK", "overweight", "initiate", None)],
    ),
    (
        "携程集团-S(09961)评级由增持上调至买入。",
        [("携程集团-S", "9961.HK", "buy", "upgrade", "overweight")],
    ),
    ("阿里健康(00241)：估值回落，上调至买入。", [("阿里健康", "0241.HK", "buy", "upgrade", None)]),
    ("網易-S(09999)：維持買入評級。", [("網易-S", "9999.HK", "buy", "maintain", None)]),
    ("We maintain BUY on Tencent (700 HK).", [("Tencent", "0700.HK", "buy", "maintain", None)]),
    (
        "Upgrade Xiaomi (1810 HK) to Overweight.",
        [("Xiaomi", "1810.HK", "overweight", "upgrade", None)],
    ),
    (
        "Lenovo (992 HK): downgrade to Neutral.",
        [("Lenovo", "0992.HK", "neutral", "downgrade", None)],
    ),
    (
        "Initiate coverage on Kingdee (268 HK) with a BUY rating.",
        [("Kingdee", "0268.HK", "buy", "initiate", None)],
    ),
    (
        "金蝶国际（0268.HK）\n投资评级：买入（维持）",
        [("金蝶国际", "0268.HK", "buy", "maintain", None)],
    ),
    (
        "大摩：上调小米集团-W(01810)目标价至60港元 评级增持",
        [("小米集团-W", "1810.HK", "overweight", None, None)],
    ),
    (
        "重点推荐：腾讯控股（买入）、网易-S（增持）。",
        [
            ("腾讯控股", "0700.HK", "buy", None, None),
            ("网易-S", "9999.HK", "overweight", None, None),
        ],
    ),
    (
        "我们推荐腾讯控股、美团-W。",
        [
            ("腾讯控股", "0700.HK", "attention", None, None),
            ("美团-W", "3690.HK", "attention", None, None),
        ],
    ),
    (
        "Top picks: Tencent (700 HK), Meituan (3690 HK) and Kingdee (268 HK).",
        [
            ("Tencent", "0700.HK", "attention", None, None),
            ("Meituan", "3690.HK", "attention", None, None),
            ("Kingdee", "0268.HK", "attention", None, None),
        ],
    ),
    (
        "腾讯控股（0700.HK）：我们给予公司2026年20倍PE，对应目标价620港元，首次覆盖给予“买入”评级。",
        [("腾讯控股", "0700.HK", "buy", "initiate", None)],
    ),
    (
        "投资建议：建议关注以下标的：\n1）腾讯控股：AI入口\n2）阿里巴巴：云业务加速\n风险提示：竞争加剧。",
        [
            ("腾讯控股", "0700.HK", "attention", None, None),
            ("阿里巴巴", "9988.HK", "attention", None, None),
        ],
    ),
    (
        "相关标的：\n腾讯控股(0700.HK)、阿里巴巴(9988.HK)、美团-W(3690.HK)\n风险提示：竞争。",
        [
            ("腾讯控股", "0700.HK", "attention", None, None),
            ("阿里巴巴", "9988.HK", "attention", None, None),
            ("美团-W", "3690.HK", "attention", None, None),
        ],
    ),
    (
        "We like Tencent, NetEase and Kuaishou.",
        [
            ("Tencent", "0700.HK", "attention", None, None),
            ("NetEase", "9999.HK", "attention", None, None),
            ("Kuaishou", "1024.HK", "attention", None, None),
        ],
    ),
    (
        "Tencent (700 HK)\nRating: BUY (maintained)\nTarget price: HK$650",
        [("Tencent", "0700.HK", "buy", "maintain", None)],
    ),
    (
        "《大行報告》大和降騰訊(00700.HK)目標價至620元 評級買入",
        [("騰訊", "0700.HK", "buy", None, None)],
    ),
    (
        "《大行報告》摩通升美團(03690.HK)目標價至160元 評級由中性升至增持",
        [("美團", "3690.HK", "overweight", "upgrade", "neutral")],
    ),
    (
        "中金：维持腾讯控股跑赢行业评级 上调目标价10%至650港元",
        [("腾讯控股", "0700.HK", "overweight", "maintain", None)],
    ),
    (
        "華泰證券發表研報指，維持小米集團-W(01810.HK)「買入」評級，目標價由58港元上調至65港元。",
        [("小米集團-W", "1810.HK", "buy", "maintain", None)],
    ),
    (
        "推荐标的：腾讯控股（0700.HK，买入）、美团-W（3690.HK，增持）。",
        [
            ("腾讯控股", "0700.HK", "buy", None, None),
            ("美团-W", "3690.HK", "overweight", None, None),
        ],
    ),
    (
        "招商证券：首次覆盖阿里健康(00241)，给予“强烈推荐”评级",
        [("阿里健康", "0241.HK", "buy", "initiate", None)],
    ),
    (
        "We initiate coverage of Meituan (3690 HK) with a BUY rating and TP of HK$180.",
        [("Meituan", "3690.HK", "buy", "initiate", None)],
    ),
    (
        "重点公司估值表\n00700.HK 腾讯控股 买入 450.0 22.1\n03690.HK 美团-W 增持 120.5 18.0",
        [
            ("腾讯控股", "0700.HK", "buy", None, None),
            ("美团-W", "3690.HK", "overweight", None, None),
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "calls"), PHRASES, ids=[p[0].split("\n")[-1][:24] for p in PHRASES]
)
def test_rating_phrases(registry, text, calls):
    draft = _draft(registry, text)
    got = [(c.name, c.ticker, c.rating, c.action, c.previous_rating) for c in draft.calls]
    assert got == calls


@pytest.mark.parametrize(
    "text",
    [
        "公司利润率保持中性水平，增长稳健。",  # 保持中性: not a rating
        "4 月底 ChatGPT Search 增加购物推荐功能，会提供一些推荐商品。",  # 推荐 as an ordinary word
        "我们维持中性偏积极的判断。",  # 中性偏...: not a rating word on its own
        "关注港股互联网反弹机会",  # 关注 without a list
        "建议关注估值修复机会。建议关注具备出海能力的龙头公司。",  # lists of themes, not companies
        "我们预计公司收入增长15%，维持盈利预测和买入评级不变。",  # no company named: flagged
    ],
)
def test_no_call_in_ordinary_sentences(registry, text):
    assert _draft(registry, text).calls == ()


def test_industry_rating_is_not_a_call(registry):
    draft = _draft(registry, "维持互联网行业“看好”评级。", scales=_scales())
    assert draft.calls == ()
    assert draft.industry.value == "互联网"
    assert draft.industry_rating.value == "看好"  # a word of default-hk's industry bands


def test_industry_report_has_no_company_of_its_own(registry):
    # The cover of an industry report names a company; its rating line is the industry's.
    text = (
        "行业研究 | 港股互联网\n平台经济回暖\n相关公司：腾讯控股(0700.HK)\n\n我们维持“增持”评级。\n"
    )
    draft = _draft(registry, text)
    assert [c.rating for c in draft.calls] == ["attention"]
    assert any("no company could be tied to it" in r.message for r in draft.review)


def test_name_and_code_that_disagree_are_flagged(registry):
    # 美团-W is 3690.HK; the text gives the code of Tencent: the code is kept, and flagged.
    draft = _draft(registry, "维持美团-W(00700)“买入”评级。")
    [call] = draft.calls
    assert (call.ticker, call.confidence) == ("0700.HK", "medium")
    assert [r.message for r in draft.review if r.field == "recommendations"] == [
        "美团-W is 3690.HK in the registry but the text gives code 00700; 0700.HK kept"
    ]


def test_rating_without_a_company_is_flagged(registry):
    draft = _draft(registry, "综上所述，我们维持“买入”评级。")
    assert draft.calls == ()
    assert any("no company could be tied to it" in r.message for r in draft.review)


@functools.cache
def _scales():
    from tracker.recs.book import load_scales

    return load_scales(ROOT / "recs" / "scales")


# --------------------------------------------------------------------------- whole snippets


def test_company_report(registry):
    draft = _file(registry, "company-zh-tencent.txt", scales=_scales())
    assert [(c.name, c.ticker, c.rating, c.action) for c in draft.calls] == [
        ("腾讯控股", "0700.HK", "buy", "maintain")
    ]
    call = draft.calls[0]
    # 目标价由 600 港元上调至 650 港元 (line 10), tied to the report's company.
    assert (call.target.value, call.target.currency, call.previous_target, call.target_line) == (
        650,
        "HKD",
        600,
        10,
    )
    assert call.confidence == "medium"  # the company is inferred from the title
    assert [(a.name, a.registration) for a in draft.analysts] == [
        ("张明远", "S0123456780001"),
        ("李清", "S0123456780002"),
    ]
    assert draft.published.value == date(2025, 8, 14) and draft.published.confidence == "high"
    # 中信证券/中金公司 named once in passing; 华泰证券 is the house (股份有限公司, twice).
    assert (draft.broker.value, draft.broker_local) == ("Huatai Securities", "华泰证券")
    assert draft.scale.status == "new" and draft.scale.id == "huatai"
    company = [(b.rating, b.lower_pp, b.upper_pp) for b in draft.scale.scale.company.bands]
    assert company == [
        ("buy", 20, None),
        ("overweight", 5, 20),
        ("neutral", -10, 5),
        ("sell", None, -10),
    ]
    assert draft.scale.scale.benchmarks == {"A": "000300.SS", "HK": "^HSI"}
    assert draft.review == ()


def test_news_summary_with_two_companies(registry):
    draft = _file(registry, "news-zh-meituan.txt", scales=_scales())
    got = [
        (c.name, c.ticker, c.rating, c.action, c.target.value, c.previous_target)
        for c in draft.calls
    ]
    assert got == [
        ("美团-W", "3690.HK", "buy", "maintain", 135, 150),
        ("快手-W", "1024.HK", "overweight", "initiate", 72.5, None),
    ]
    assert draft.calls[1].target.currency == "HKD"  # 港币
    assert (draft.broker.value, draft.broker_local) == ("CMB International", "招银国际")
    assert draft.analysts == ()  # "招银国际发布研报称" names no one
    assert draft.published.value == date(2025, 5, 27)


def test_english_note(registry):
    draft = _file(registry, "english-note.txt", scales=_scales())
    got = [(c.name, c.ticker, c.rating, c.action, c.previous_rating) for c in draft.calls]
    assert got == [
        ("Kingdee", "0268.HK", "overweight", "upgrade", "neutral"),
        ("Lenovo Group", "0992.HK", "overweight", "maintain", None),
        ("Tencent", "0700.HK", "overweight", "maintain", None),
        ("Meituan", "3690.HK", "neutral", "downgrade", None),
    ]
    targets = [(c.target.value if c.target else None, c.previous_target) for c in draft.calls]
    assert targets == [(16.5, None), (13.0, 11.5), (520, None), (140, None)]
    assert draft.language == "en"
    assert (draft.broker.value, draft.title.value, draft.published.value) == (
        "Haitong International",
        "China Internet Sector Update",
        date(2025, 3, 12),
    )
    assert [a.name for a in draft.analysts] == ["Wang Lei"]
    scale = draft.scale.scale
    assert [(b.rating, b.lower_pp, b.upper_pp) for b in scale.company.bands] == [
        ("overweight", 10, None),
        ("neutral", -10, 10),
        ("underweight", None, -10),
    ]
    h = scale.company.horizon_months
    assert (h.min_months, h.max_months) == (12, 18)
    assert scale.benchmark("HK") == "^HSI"
    assert draft.review == ()


def test_report_without_definitions(registry):
    draft = _file(registry, "no-definitions-zh.txt", scales=_scales())
    got = [(c.name, c.ticker, c.rating, c.action) for c in draft.calls]
    assert got == [
        ("同程旅行", "0780.HK", "overweight", "initiate"),
        ("携程集团-S", "9961.HK", "buy", "upgrade"),
        ("阿里健康", "0241.HK", "neutral", "downgrade"),
    ]
    assert draft.calls[1].previous_rating == "overweight"
    assert [c.target.value if c.target else None for c in draft.calls] == [22, 560, None]
    assert (draft.scale.id, draft.scale.status) == ("default-hk", "fallback")
    assert draft.industry_rating.value == "增持"
    messages = [str(r) for r in draft.review]
    assert (
        "scale: the report gives no rating definitions (投资评级说明);"
        " the draft uses the fallback scale default-hk" in messages
    )
    text = draft_yaml(draft)
    assert "# Scale: the report gives no rating definitions" in text


def test_traditional_report(registry):
    draft = _file(registry, "traditional-hk.txt", scales=_scales())
    assert [(c.name, c.ticker, c.rating) for c in draft.calls] == [("聯想集團", "0992.HK", "buy")]
    assert (draft.calls[0].target.value, draft.calls[0].previous_target) == (13.5, 12)
    assert [(a.name, a.registration) for a in draft.analysts] == [("陳子健", "S0880525050001")]
    assert draft.broker_local == "国泰君安国际" and draft.language == "zh-Hant"
    bands = [(b.rating, b.lower_pp, b.upper_pp, b.aliases) for b in draft.scale.scale.company.bands]
    assert bands == [
        ("buy", 15, None, ("买入", "買入")),
        ("overweight", 5, 15, ("收集",)),
        ("neutral", -5, 5, ("中性",)),
        ("underweight", None, -5, ("减持", "減持")),
    ]
    # No horizon in the definitions: the fallback scale's 6-12 months, flagged.
    assert [str(r) for r in draft.review] == [
        "line 6: scale: company ratings: no horizon (months) given;"
        " 6-12 assumed (as the fallback scale)"
    ]


def test_company_not_in_the_registry_is_listed_not_guessed(registry):
    draft = _file(registry, "unknown-company.txt", scales=_scales())
    by_name = {c.name: c for c in draft.calls}
    assert by_name["金蝶国际"].ticker == "0268.HK" and by_name["迈富时"].ticker == "2556.HK"
    ghost = by_name["云想未来科技"]  # no such listed company
    assert (ghost.ticker, ghost.problem, ghost.confidence) == (None, "unresolved", "low")
    assert any(
        r.message.startswith("云想未来科技: not in the registry") and r.line == 4
        for r in draft.review
    )
    text = draft_yaml(draft)
    assert "#   - line 4: recommendations: 云想未来科技: not in the registry" in text
    entry = next(
        e for e in load_yaml(Path("x.yaml"), text)["recommendations"] if e["name"] == "云想未来科技"
    )
    assert entry["ticker"] == "TODO"


def test_pdf_first_page_of_a_company_report(registry):
    draft = _file(registry, "pdf-company-first-page.txt", scales=_scales())
    assert [(c.name, c.ticker, c.rating, c.action, c.line) for c in draft.calls] == [
        ("金蝶国际", "0268.HK", "buy", "maintain", 11)  # 买入（维持）, the company of the title
    ]
    assert draft.title.value.startswith("金蝶国际(00268.HK) 2025 年中报点评：云订阅 ARR 高增")
    assert [(a.name, a.registration) for a in draft.analysts] == [("王紫敬", "S0600521080005")]
    assert (draft.broker.value, draft.published.value) == ("Soochow Securities", date(2025, 8, 20))
    scale = draft.scale.scale
    assert (draft.scale.status, scale.id) == ("new", "soochow")
    assert [(b.lower_pp, b.upper_pp) for b in scale.company.bands] == [
        (15, None),
        (5, 15),
        (-5, 5),
        (-15, -5),
        (None, -15),
    ]
    assert [(b.lower_pp, b.upper_pp) for b in scale.industry.bands] == [
        (5, None),
        (-5, 5),
        (None, -5),
    ]
    assert scale.benchmarks == {"A": "000300.SS", "HK": "^HSI", "US": "^GSPC"}


def test_english_company_update(registry):
    draft = _file(registry, "english-company-update.txt", scales=_scales())
    [call] = draft.calls
    assert (call.name, call.ticker, call.rating, call.action) == (
        "Tencent",
        "0700.HK",
        "buy",
        "maintain",
    )
    # "Target Price HK$650.00 (Previous TP HK$620.00)": the old target is not a second one.
    assert (call.target.value, call.previous_target) == (650, 620)
    assert not any("another target price" in r.message for r in draft.review)
    assert [a.name for a in draft.analysts] == ["Saiyi HE"]
    assert draft.title.value == "Tencent (700 HK) Solid 2Q25; AI monetization on track"
    assert draft.published.value == date(2025, 8, 14)
    company = draft.scale.scale.company
    assert [(b.rating, b.lower_pp, b.upper_pp) for b in company.bands] == [
        ("buy", 15, None),
        ("neutral", -10, 15),
        ("sell", None, -10),
    ]
    assert any("absolute returns" in r.message for r in draft.review)


def test_industry_report_with_a_valuation_table(registry):
    draft = _file(registry, "industry-valuation-table.txt", scales=_scales())
    got = [(c.name, c.ticker, c.rating, c.context) for c in draft.calls]
    assert got == [
        ("腾讯控股", "0700.HK", "buy", "table row"),
        ("美团-W", "3690.HK", "buy", "table row"),
        ("快手-W", "1024.HK", "overweight", "table row"),
        ("哔哩哔哩-W", "9626.HK", "attention", "建议关注 list"),
        ("网易云音乐", "9899.HK", "attention", "建议关注 list"),
    ]
    assert draft.industry_rating.value == "看好"
    assert (draft.broker.value, draft.analysts[0].registration) == (
        "Zheshang Securities",
        "S1234567890123",
    )


def test_traditional_news_headline(registry):
    draft = _file(registry, "news-traditional-headline.txt", scales=_scales())
    [call] = draft.calls
    assert (call.name, call.ticker, call.rating) == ("騰訊", "0700.HK", "buy")
    # 目標價由650元降至620元: the currency is a bare 元, so HKD is assumed and flagged.
    assert (call.target.value, call.previous_target, call.target_currency_assumed) == (
        620,
        650,
        True,
    )
    assert any("HKD assumed" in r.message for r in draft.review)
    assert (draft.broker.value, draft.broker_local) == ("Daiwa", "大和")


@pytest.mark.parametrize(
    ("text", "analysts"),
    [
        (
            "分析师：张三、李四\n执业证书编号：S0123456789012",
            [("张三", None), ("李四", "S0123456789012")],
        ),
        ("证券分析师 王紫敬\n执业证书：S0600521080005", [("王紫敬", "S0600521080005")]),
        ("分析师与研究助理简介\n分析师：金荣，香港中文大学经济学硕士", [("金荣", None)]),
        ("China Internet\nSaiyi HE, CFA\n(852) 3916 1739", [("Saiyi HE", None)]),
        ("Analyst: Wang Lei", [("Wang Lei", None)]),
    ],
)
def test_analysts(registry, text, analysts):
    assert [(a.name, a.registration) for a in _draft(registry, text).analysts] == analysts


@pytest.fixture
def recs_dir(tmp_path, monkeypatch) -> Path:
    recs = tmp_path / "recs"
    shutil.copytree(ROOT / "recs" / "scales", recs / "scales")
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs))
    return recs


def test_cli_unresolved_name_blocks_validation(recs_dir):
    out = recs_dir / "draft.yaml"
    runner = CliRunner()
    result = runner.invoke(
        app, ["recs", "extract", str(REPORTS / "unknown-company.txt"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "the draft does not validate yet" in result.stderr
    check = runner.invoke(app, ["recs", "validate", str(out)])
    assert check.exit_code == 1
    assert "'TODO' is not an HKEX ticker" in check.stderr


@pytest.mark.parametrize(
    ("name", "scale", "calls"),
    [
        ("english-note.txt", "haitong-intl", 4),
        ("company-zh-tencent.txt", "huatai", 1),
        ("traditional-hk.txt", "gtja-intl", 1),
        ("news-zh-meituan.txt", "default-hk", 2),
    ],
)
def test_cli_drafts_with_resolved_names_validate(recs_dir, name, scale, calls):
    out = recs_dir / f"draft-{name}.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["recs", "extract", str(REPORTS / name), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "the draft validates as it is" in result.stderr
    data = load_yaml(out)
    assert (data["scale"], len(data["recommendations"])) == (scale, calls)
    assert (recs_dir / "scales" / f"{scale}.yaml").is_file()
    check = runner.invoke(app, ["recs", "validate", str(out)])
    assert check.exit_code == 0, check.output


def test_cli_no_recommendations(recs_dir):
    result = CliRunner().invoke(app, ["recs", "extract", str(REPORTS / "no-recommendations.txt")])
    assert result.exit_code == 0, result.output
    assert "no recommendations found in the text: the draft has no calls" in result.stderr
    data = load_yaml(Path("draft.yaml"), result.stdout)
    assert list(data["recommendations"]) == []
    assert "# No recommendations were found in the text" in result.stdout


# --------------------------------------------------------------------------- the flow text


def test_source_lines_and_original_script():
    text = "標題\n\n騰訊控股（00700.HK）維持\n「買入」評級\n"
    src = read_source(text)
    assert "腾讯控股(00700.HK)维持「买入」评级" in src.text  # NFKC + t2s, wrapped line joined
    i = src.text.index("买入")
    assert src.line(i) == 4
    assert src.original(src.text.index("腾讯"), i + 2) == "騰訊控股（00700.HK）維持「買入"


# --------------------------------------------------------------------------- never raises

_TOKENS = [
    "维持",
    "“买入”",
    "评级",
    "目标价",
    "500",
    "港元",
    "HK$",
    "(00700)",
    "0700.HK",
    "腾讯控股",
    "美团-W",
    "相关公司:",
    "建议关注",
    "、",
    ";",
    "。",
    "\n",
    "\n\n",
    "投资评级说明",
    "买入:",
    "增持",
    "中性",
    "减持",
    "卖出",
    "领先",
    "落后",
    "15%以上",
    "5%至15%",
    "-5%~5%",
    "6-12个月",
    "恒生指数",
    "分析师:",
    "金荣",
    "S0010521080002",
    "华安证券",
    "Maintain",
    "BUY",
    "TP",
    "upgrade",
    "to",
    "Overweight",
    "from",
    "免责声明",
    "2025年5月6日",
    "的",
    "等",
    "維持",
    "買入",
    "評級",
    " ",
    ",",
    "(",
    ")",
    "±",
    "以下",
    "之间",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8)), max_size=80))
def test_any_text_gives_a_draft_that_renders(tokens):
    """Whatever the text, the extractor returns a draft whose YAML parses; it never raises."""
    registry = Registry.curated()
    draft = extract_draft("".join(tokens), registry, today=TODAY, scales=_scales())
    data = load_yaml(Path("draft.yaml"), draft_yaml(draft))
    assert len(data["recommendations"]) == len(draft.calls)
    for call, entry in zip(draft.calls, data["recommendations"], strict=True):
        assert entry["ticker"] == (call.ticker or "TODO")
        assert call.line >= 1
