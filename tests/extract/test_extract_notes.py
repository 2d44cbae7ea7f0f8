"""Notes and round-ups: each reading rule on sentences written for the test."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.extract.clean import clean_lines, normalise
from tracker.extract.dates import numeric_date, publication_date
from tracker.extract.facts import (
    brokers_in,
    companies_in,
    day_in,
    ratings_in,
    table_target,
    targets_in,
)
from tracker.extract.notes import note_calls
from tracker.extract.roundup import extract_drafts
from tracker.registry.resolve import Registry

TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.curated()


def _ratings(text: str, bare: bool = False) -> list[tuple[str, str | None, str | None]]:
    return [(r.rating, r.action, r.previous) for r in ratings_in(normalise(text), bare)]


def _targets(text: str) -> list[tuple[float, str, bool, float | None]]:
    return [(t.value, t.currency, t.assumed, t.previous) for t in targets_in(normalise(text))]


# --------------------------------------------------------------------------- noise


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("相關內容《大行》某行指騰訊(00700.HK)維持「買入」目標價700元", id="zh-hant"),
        pytest.param("相关内容《大行》某行上调美团目标价至150元", id="zh-hans"),
        pytest.param("Related News: Citi Raises Kingdee TP to $12", id="en-inline"),
    ],
)
def test_related_headline_lines_are_dropped(line):
    assert clean_lines(f"正文一句。\n{line}\n正文二句。") == ["正文一句。", "", "正文二句。"]


def test_related_block_drops_lines_until_a_blank_line():
    text = "Body.\nRelated News\nUBS Cuts TENCENT TP to $500\nOther headline\n\nMore body."
    assert clean_lines(text) == ["Body.", "", "", "", "", "More body."]


@pytest.mark.parametrize(
    "line, expected",
    [
        pytest.param(
            "花旗指金蝶(00268.HK) +0.120 (+1.250%) 沽空 $2.10億; 比率 12.5% 表現好",
            "花旗指金蝶(00268.HK) 表现好",
            id="zh-quote-and-short",
        ),
        pytest.param(
            "UBS said KINGDEE (00268.HK) -0.050 (-0.6%) Short selling $0.5B; Ratio 3.1% is cheap",
            "UBS said KINGDEE (00268.HK) is cheap",
            id="en-quote-and-short",
        ),
        pytest.param("某行目標價１２﹒５港元", "某行目标价12.5港元", id="full-width-digits"),
    ],
)
def test_live_quotes_are_removed_and_text_normalised(line, expected):
    assert clean_lines(line) == [expected]


# --------------------------------------------------------------------------- ratings


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("評級由中性上調至買入", [("buy", "upgrade", "neutral")], id="zh-from-to-up"),
        pytest.param(
            "评级由“买入”下调至“持有”", [("neutral", "downgrade", "buy")], id="zh-from-to"
        ),
        pytest.param("中性 -> 沽售", [("sell", "downgrade", "neutral")], id="arrow-sell"),
        pytest.param("買入→中性", [("neutral", "downgrade", "buy")], id="arrow-unicode"),
        pytest.param("增持=>增持", [("overweight", "maintain", "overweight")], id="arrow-same"),
        pytest.param("把某股評級降至「中性」", [("neutral", "downgrade", None)], id="zh-cut-to"),
        pytest.param("评级上调至跑赢行业", [("overweight", "upgrade", None)], id="zh-rating-up"),
        pytest.param("維持某股「買入」評級", [("buy", "maintain", None)], id="zh-maintain-quoted"),
        pytest.param("维持行业首选的“增持”评级", [("overweight", "maintain", None)], id="gap"),
        pytest.param("評級維持「沽售」", [("sell", "maintain", None)], id="rating-kept"),
        pytest.param("维持买入评级", [("buy", "maintain", None)], id="zh-maintain-bare"),
        pytest.param("首次覆蓋給予優於大市", [("overweight", "initiate", None)], id="initiate-zh"),
        pytest.param("Initiate with OUTPERFORM", [("overweight", "initiate", None)], id="init-en"),
        pytest.param("評級「持有」", [("neutral", None, None)], id="plain-quoted"),
        pytest.param("给予某股“买入”评级", [("buy", None, None)], id="give-is-no-action"),
        pytest.param(
            'keeping its "underperform" rating', [("underweight", "maintain", None)], id="en-keep"
        ),
        pytest.param("kept its rating at Neutral", [("neutral", "maintain", None)], id="en-at"),
        pytest.param("Maintain Buy; TP HK$9", [("buy", "maintain", None)], id="en-maintain-bare"),
        pytest.param("We rate the stock Hold", [("neutral", None, None)], id="en-rate-the-stock"),
        pytest.param(
            "downgraded the stock to Sell from Buy", [("sell", "downgrade", "buy")], id="en-down"
        ),
    ],
)
def test_rating_phrases(text, expected):
    assert _ratings(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("多家投行给予买入评级的平均目标价", id="consensus-no-cue"),
        pytest.param("the stock carried buy ratings from many banks", id="plural-ratings"),
        pytest.param("大摩仍看好其前景，首選某股", id="view-not-rating"),
    ],
)
def test_words_that_are_not_ratings(text):
    assert [r for r in _ratings(text) if r[1] is not None or "评级" not in normalise(text)] == []


def test_rating_after_a_broker_and_colon():
    assert _ratings("- Citi: Sell, target price HKD 5.10 [2].") == [("sell", None, None)]
    assert _ratings("Outlook: Buy the dip") == []  # no broker before the colon


@pytest.mark.parametrize(
    "cell, expected",
    [
        pytest.param("沽售", [("sell", None, None)], id="zh"),
        pytest.param("優于大市 OUTPERFORM", [("overweight", None, None)], id="bilingual"),
        pytest.param("持有->買入", [("buy", "upgrade", "neutral")], id="arrow"),
        pytest.param("--", [], id="dash"),
    ],
)
def test_rating_cells(cell, expected):
    assert _ratings(cell, bare=True) == expected


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("目標價由48港元下調至42港元", [(42.0, "HKD", False, 48.0)], id="zh-from-to"),
        pytest.param(
            "目标价下调8%，由 50 港元降至 46 港元", [(46.0, "HKD", False, 50.0)], id="pct"
        ),
        pytest.param("目标价由20下调至18港元", [(18.0, "HKD", False, 20.0)], id="bare-old"),
        pytest.param(
            "目标价方面，以某行削两成至80港元最低", [(80.0, "HKD", False, None)], id="gap"
        ),
        pytest.param("某行大削目标价三成至7元", [(7.0, "HKD", True, None)], id="bare-yuan"),
        pytest.param("美股目標價由30美元升至33美元", [(33.0, "USD", False, 30.0)], id="usd"),
        pytest.param(
            "cut its target price for Kingdee (00268) to HKD9.5 from HKD10.2",
            [(9.5, "HKD", False, 10.2)],
            id="en-to-from",
        ),
        pytest.param("We rate it Buy with an HKD45 PT.", [(45.0, "HKD", False, None)], id="pt"),
        pytest.param("target price HKD 12.30", [(12.3, "HKD", False, None)], id="en-plain"),
        pytest.param("目標價１２﹒５港元", [(12.5, "HKD", False, None)], id="full-width"),
    ],
)
def test_target_forms(text, expected):
    assert _targets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("the average target price was HKD 55.20", id="average"),
        pytest.param("1 年預測目標價23.84", id="forecast-page"),
        pytest.param("市场共识目标价为88港元", id="consensus"),
        pytest.param("目標價對應20倍市盈率", id="multiple"),
    ],
)
def test_targets_that_are_not_a_brokers(text):
    assert _targets(text) == []


@pytest.mark.parametrize(
    "cell, column, expected",
    [
        pytest.param("483港元→580港元", None, (580.0, "HKD", False, 483.0), id="hkd-arrow"),
        pytest.param("5.5元->7.2元", "HKD", (7.2, "HKD", False, 5.5), id="yuan-column-hkd"),
        pytest.param("12美元→14美元", None, (14.0, "USD", False, 12.0), id="usd"),
        pytest.param("98元", None, (98.0, "HKD", True, None), id="bare"),
        pytest.param("17.32", "HKD", (17.32, "HKD", False, None), id="column-currency"),
    ],
)
def test_table_target_cells(cell, column, expected):
    t = table_target(normalise(cell), column)
    assert t is not None and (t.value, t.currency, t.assumed, t.previous) == expected


def test_table_target_refuses_a_dash():
    assert table_target("--", "HKD") is None


# --------------------------------------------------------------------------- brokers, companies


@pytest.mark.parametrize(
    "text, ids",
    [
        pytest.param("華泰研究發表報告", ["huatai"], id="huatai-research"),
        pytest.param("花旗及摩通均看淡", ["citi", "jpmorgan"], id="two-short-names"),
        pytest.param("星展唯高達指", ["dbs-vickers"], id="longest-name-wins"),
        pytest.param("匯豐控股(00005)股價", [], id="broker-as-company"),
        pytest.param("Per Macquarie and HSBC,", ["macquarie", "hsbc"], id="english"),
    ],
)
def test_brokers_in(text, ids):
    assert [h.broker.id for h in brokers_in(normalise(text))] == ids


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "將金蝶國際(00268.HK)評級", [("0268.HK", "金蝶国际", None)], id="verb-dropped"
        ),
        pytest.param("金蝶（０２６８）", [("0268.HK", "金蝶", None)], id="full-width-code"),
        pytest.param("Kingdee (268 HK)", [("0268.HK", "Kingdee", None)], id="hk-suffix"),
        pytest.param("京東(JD.US)", [("9618.HK", "京东", "ADR")], id="us-line-of-hk-company"),
        pytest.param("拼多多(PDD.US)", [(None, "拼多多", None)], id="us-only"),
        pytest.param("相關股票: 81810", [], id="unknown-code"),
    ],
)
def test_companies_in(registry, text, expected):
    hits = companies_in(normalise(text), registry)
    assert [(h.ticker, h.name, h.listing) for h in hits] == expected


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "lines, expected",
    [
        pytest.param(["某某財經", "2024-03-05", "標題"], date(2024, 3, 5), id="iso-alone"),
        pytest.param(["04/11/2025 11:24", "標題"], date(2025, 11, 4), id="dmy-time-hk-order"),
        pytest.param(["12/31/2025 09:00"], date(2025, 12, 31), id="mdy-when-day-first-fails"),
        pytest.param(["2025 年 4 月 17 日"], date(2025, 4, 17), id="zh-spaced"),
        pytest.param(["2025年4月17日"], date(2025, 4, 17), id="zh"),
        pytest.param(["[Some Wire, 3 February 2026] UBS said"], date(2026, 2, 3), id="dateline"),
        pytest.param(["Research Report", "9 Sep 2024"], date(2024, 9, 9), id="en-short"),
        pytest.param(["某網·2025-06-01 08:30"], date(2025, 6, 1), id="source-stamp"),
        pytest.param(["標題 (2024-05-06 10:11:12)"], date(2024, 5, 6), id="headline-stamp"),
        pytest.param(["November 2, 2025"], date(2025, 11, 2), id="en-month-first"),
    ],
)
def test_publication_dates(lines, expected):
    hit = publication_date([normalise(x) for x in lines])
    assert hit is not None and hit.value == expected


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(["沽空資料截至 2025-07-11 16:25"], id="quote-timestamp"),
        pytest.param(["Short Selling Data as at 2025-07-16 16:25."], id="as-at"),
        pytest.param(["除息日2024年6月28日"], id="ex-dividend"),
        pytest.param(["業績公佈日2024年8月20日 - 2024年8月26日"], id="results-window"),
        pytest.param(["某社7月22日|某行指"], id="no-year"),
        pytest.param(
            ["公司將於2025年8月21日開市前公布業績，以2025年7月25日收市價計算。"], id="prose"
        ),
    ],
)
def test_dates_that_are_not_the_publication_date(lines):
    assert publication_date([normalise(x) for x in lines]) is None


def test_numeric_cell_dates_are_day_first():
    assert numeric_date("05/07/2024") == date(2024, 7, 5)
    assert numeric_date("2024-07-05") == date(2024, 7, 5)


def test_day_without_year_takes_the_notes_year_or_the_one_before():
    assert day_in("3月4日，某行", date(2026, 3, 5)) == date(2026, 3, 4)
    # 12月30日 seen in a note of 2 January: last year's
    assert day_in("12月30日，某行", date(2026, 1, 2)) == date(2025, 12, 30)
    assert day_in("3月4日，某行", None) is None


# --------------------------------------------------------------------------- attribution


def _calls(registry, text, day=None):
    calls, _ = note_calls(text, registry, day)
    return {
        (c.broker.id, c.ticker, c.listing): (
            c.rating,
            c.action,
            c.previous_rating,
            c.target,
            c.currency,
            c.previous_target,
            c.dated,
        )
        for c in calls
    }


def test_two_brokers_joined_share_a_fact(registry):
    text = "花旗及瑞銀均把金蝶國際(00268.HK)評級降至「中性」。"
    got = _calls(registry, text)
    want = ("neutral", "downgrade", None, None, None, None, None)
    assert got == {("citi", "0268.HK", "HK"): want, ("ubs", "0268.HK", "HK"): want}


def test_the_broker_carries_over_to_the_next_sentence(registry):
    text = (
        "野村發表報告指，金蝶(00268)盈利勝預期。"
        "該行把目標價由10港元上調至12港元，維持「買入」評級。"
    )
    assert _calls(registry, text) == {
        ("nomura", "0268.HK", "HK"): ("buy", "maintain", None, 12.0, "HKD", 10.0, None)
    }


def test_a_sub_heading_starts_another_brokers_call(registry):
    text = (
        "摩通：上調金蝶目標價至15港元\n\n該行維持「增持」評級，目標價由13港元上調至15港元。\n\n"
        "麥格理：下調金蝶目標價至9港元\n\n該行把目標價由11港元下調至9港元，評級「中性」。"
    )
    assert _calls(registry, text) == {
        ("jpmorgan", "0268.HK", "HK"): ("overweight", "maintain", None, 15.0, "HKD", 13.0, None),
        ("macquarie", "0268.HK", "HK"): ("neutral", None, None, 9.0, "HKD", 11.0, None),
    }


def test_a_dated_sentence_dates_its_call_only(registry):
    text = (
        "某報 2026-03-10 09:00\n\n3月9日，花旗將金蝶目標價由12港元降至11港元，維持「買入」評級。"
        "另外，瑞銀把金蝶目標價由9港元升至10港元，評級「中性」。"
    )
    got = _calls(registry, text, date(2026, 3, 10))
    assert got[("citi", "0268.HK", "HK")][-1] == date(2026, 3, 9)
    assert got[("ubs", "0268.HK", "HK")][-1] is None


def test_usd_target_on_an_hk_company_is_its_adr_line(registry):
    text = (
        "高盛把阿里巴巴(09988)港股目標價由150港元升至160港元，"
        "美股目標價由150美元升至165美元，維持「買入」評級。"
    )
    got = _calls(registry, text)
    assert got[("goldman", "9988.HK", "HK")][:6] == ("buy", "maintain", None, 160.0, "HKD", 150.0)
    assert got[("goldman", "9988.HK", "ADR")][:6] == ("buy", "maintain", None, 165.0, "USD", 150.0)


def test_table_rows_with_us_only_lines(registry):
    text = (
        "瑞銀對中概股的評級及目標價如下：\n股份│評級│目標價\n"
        "京東(JD.US)│買入│30美元→35美元\n拼多多(PDD.US)│買入│120美元→140美元\n"
        "金蝶(00268.HK)│中性->買入│8港元→11港元\n"
    )
    assert _calls(registry, text) == {
        ("ubs", "9618.HK", "ADR"): ("buy", None, None, 35.0, "USD", 30.0, None),
        ("ubs", "0268.HK", "HK"): ("buy", "upgrade", "neutral", 11.0, "HKD", 8.0, None),
    }


def test_a_broker_column_gives_one_call_per_row_with_its_date(registry):
    text = (
        "00268\n\n證券商 | 評級 | 目標價 (港元) | 更新日期 |\n"
        "花旗 | 買入 | 12.50 | 03/09/2024 |\n大和 | 持有 | 9.00 | 21/10/2024 |\n"
        "富瑞 | -- | -- | 01/01/2024 |\n"
    )
    assert _calls(registry, text) == {
        ("citi", "0268.HK", "HK"): ("buy", None, None, 12.5, "HKD", None, date(2024, 9, 3)),
        ("daiwa", "0268.HK", "HK"): ("neutral", None, None, 9.0, "HKD", None, date(2024, 10, 21)),
    }


def test_a_target_before_any_broker_on_a_multi_broker_page_is_nobodys(registry):
    text = (
        "金蝶 (0268.HK)\n目標價 12.00港元\n\n花旗升金蝶(00268.HK)目標價至13元\n\n"
        "瑞銀降金蝶(00268.HK)評級至「中性」"
    )
    got = _calls(registry, text)
    assert set(got) == {("citi", "0268.HK", "HK"), ("ubs", "0268.HK", "HK")}
    assert got[("citi", "0268.HK", "HK")][3] == 13.0


def test_a_short_alias_is_a_company_only_when_named_firmly(registry):
    # 理想 (an alias of Li Auto) is also the word "ideal".
    text = "雖然業績理想，麥格理仍把金蝶國際(00268.HK)評級下調至「中性」。"
    assert set(_calls(registry, text)) == {("macquarie", "0268.HK", "HK")}


def test_broker_named_only_by_analyst_email(registry):
    text = (
        "Jane Doe | Analyst | jane.doe@jefferies.com\n\n"
        "Kingdee\nWe rate the stock Buy with an HKD12 PT."
    )
    calls, only = note_calls(text, registry)
    assert only is not None and only.id == "jefferies"
    assert [(c.ticker, c.rating, c.target) for c in calls] == [("0268.HK", "buy", 12.0)]


# --------------------------------------------------------------------------- drafts


def test_round_up_gives_one_draft_per_broker(registry):
    text = (
        "某報\n2025-02-03\n\n花旗把金蝶國際(00268.HK)目標價由10港元降至9港元，維持「買入」評級。\n"
        "瑞銀則將金蝶國際評級由買入下調至中性，目標價8港元。\n"
    )
    drafts = extract_drafts(text, registry, today=TODAY, source="x.txt")
    got = {
        d.broker.value: [
            (c.ticker, c.rating, c.action, c.previous_rating, c.target.value, c.previous_target)
            for c in d.calls
        ]
        for d in drafts
    }
    assert got == {
        "Citi": [("0268.HK", "buy", "maintain", None, 9.0, 10.0)],
        "UBS": [("0268.HK", "neutral", "downgrade", "buy", 8.0, None)],
    }
    assert {d.published.value for d in drafts} == {date(2025, 2, 3)}
    assert [d.source for d in drafts] == ["x.txt, line 4", "x.txt, line 5"]


def test_no_date_in_the_text_is_reported_missing(registry):
    text = (
        "花旗把金蝶國際(00268.HK)目標價降至9港元，維持「買入」評級。"
        "(沽空資料截至 2025-07-11 16:25。)"
    )
    (draft,) = extract_drafts(text, registry, today=TODAY, source="x.txt")
    assert draft.published.assumed
    assert any(r.field == "published" for r in draft.review)


def test_adr_call_is_flagged_for_review(registry):
    text = "2025-02-03\n\n滙豐把阿里巴巴美股ADR目標價由150美元降至140美元；維持買入評級。"
    (draft,) = extract_drafts(text, registry, today=TODAY, source="x.txt")
    (call,) = draft.calls
    assert (call.ticker, call.listing, call.target.currency) == ("9988.HK", "ADR", "USD")
    assert any("ADR" in r.message for r in draft.review)
