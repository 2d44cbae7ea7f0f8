"""Rules found by notes the extractor was not built on, each on sentences written for the test."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.extract.clean import clean_lines, normalise
from tracker.extract.dates import publication_date
from tracker.extract.facts import brokers_in, ratings_in, table_target, targets_in
from tracker.extract.names import codes_in, is_year
from tracker.extract.notes import note_calls
from tracker.extract.roundup import extract_drafts
from tracker.registry.resolve import Registry

TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.curated()


def _calls(text: str, registry: Registry) -> set[tuple[str, str, str | None, float | None]]:
    found, _ = note_calls(text, registry)
    return {(c.broker.id, c.ticker, c.rating, c.target) for c in found}


# --------------------------------------------------------------------------- sections


def test_a_rating_definitions_section_gives_no_call(registry):
    # The table's last company (美团) must not take the band "优于大市" of the definitions.
    text = (
        "某某证券研究报告\n"
        "公司代码 | 公司名称 | 投资评级\n"
        "0700.HK | 腾讯控股 | 中性\n"
        "3690.HK | 美团-W | 中性\n"
        "\n"
        "投资评级说明\n"
        "股票投资评级：优于大市 — 股价表现优于市场代表性指数10%以上。\n"
    )
    found, _ = note_calls("华泰证券 " + text, registry)
    assert {(c.ticker, c.rating) for c in found} == {("0700.HK", "neutral"), ("3690.HK", "neutral")}


def test_a_disclaimer_section_gives_no_call(registry):
    text = "花旗维持腾讯控股(00700)「买入」评级。\n\n免责声明\n花旗对美团(03690)评级为「沽售」。\n"
    assert _calls(text, registry) == {("citi", "0700.HK", "buy", None)}


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    "text, year",
    [
        pytest.param("Equity 17 Apr 2025 HK Company Update", True, id="en-day-month-year"),
        pytest.param("Nov. 2025 HK", True, id="en-month-year"),
        pytest.param("2025年11月 2025 HK", False, id="month-then-space-is-no-date"),
        pytest.param("ANTA Sports 2020 HK", False, id="a-code-like-a-year"),
        pytest.param("Li Auto (2015 HK)", False, id="a-code-in-brackets"),
    ],
)
def test_a_year_after_a_month_is_not_a_code(text, year):
    i = text.index("20", text.index(" "))
    assert is_year(text, i, text[i : i + 4]) is year


def test_codes_skip_a_date_year_and_keep_the_code():
    text = "DBS Research 17 Apr 2025 HK Company Update Galaxy Entertainment (27 HK)"
    assert [m.group(0) for m in codes_in(text)] == ["27 HK"]


def test_a_code_does_not_run_across_a_line_break():
    assert [m.group(0) for m in codes_in("Page 2025\nHK Company Update")] == []


def test_a_cover_with_a_date_before_hk_takes_the_coded_company(registry):
    text = (
        "Some Research . Equity     17 Apr 2025\n\nHK Company Update\n\n"
        "Galaxy Entertainment Group (27 HK)\n\nBUY\n\nWe upgrade to BUY. DBS\n"
    )
    (draft,) = extract_drafts(text, registry, today=TODAY)
    assert {c.ticker for c in draft.calls} == {"0027.HK"}


# --------------------------------------------------------------------------- targets


def _targets(text: str) -> list[tuple[float, str, float | None]]:
    return [(t.value, t.currency, t.previous) for t in targets_in(normalise(text))]


def test_a_target_for_a_coded_listing_reads_past_the_period_of_the_code():
    text = "The broker raised its price target on the shares (02015.HK) to HK$120 from HK$95."
    assert _targets(text) == [(120.0, "HKD", 95.0)]


def test_a_second_target_joined_by_and_on():
    # Two listings in one construction: the HK shares, then the ADS.
    text = (
        "It cut its target price on the Hong Kong shares to HK$35 from HK$37.5 "
        "and on the Nasdaq-listed ADS (HTHT.US) to US$45 from US$48."
    )
    assert _targets(text) == [(35.0, "HKD", 37.5), (45.0, "USD", 48.0)]


def test_and_on_without_a_first_target_is_not_a_target():
    assert _targets("Volumes rose, and on the new line to 560,000 units from 480,000.") == []


def test_the_adr_line_of_a_wire_story_is_its_own_call(registry):
    text = (
        "Citi upgraded Li Auto to Buy from Neutral. The broker raised its price target on "
        "the Hong Kong-listed shares (02015.HK) to HK$130 from HK$100, and on the ADR "
        "(LI.US) to US$33 from US$26."
    )
    found, _ = note_calls(text, registry)
    got = {(c.ticker, c.listing, c.rating, c.target, c.currency) for c in found}
    assert got == {
        ("2015.HK", "HK", "buy", 130.0, "HKD"),
        ("2015.HK", "ADR", "buy", 33.0, "USD"),
    }
    # A lower-case word before the code is no name: the registry's is used.
    assert all(c.name != "shares" for c in found)


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    "cell, expected",
    [
        pytest.param("140(维持)", (140.0, "HKD", True, None), id="zh-note"),
        pytest.param("１４０（維持）", (140.0, "HKD", True, None), id="full-width"),
        pytest.param("48 -> 52 (unchanged rating)", (52.0, "HKD", True, 48.0), id="en-note"),
        pytest.param("7.5 (US$)", (7.5, "USD", False, None), id="currency-in-brackets"),
    ],
)
def test_a_target_cell_with_a_note_in_brackets(cell, expected):
    t = table_target(normalise(cell))
    assert t is not None
    assert (t.value, t.currency, t.assumed, t.previous) == expected


def test_a_rating_cell_with_a_note_in_brackets():
    (hit,) = ratings_in(normalise("增持（維持）"), bare=True)
    assert hit.rating == "overweight"


def test_a_tab_separated_table_with_a_broker_column(registry):
    text = (
        "各行最新评级如下：\n"
        "券商\t股份\t评级\t目标价\n"
        "花旗\t华润置地(01109)\t买入\t38.5港元\n"
        "摩根大通\t龙湖集团(00960)\t中性 -> 减持\t8.2港元 -> 7.5港元\n"
        "大华继显\t华润万象生活(01209)\t买入\t52港元\n"
    )
    found, _ = note_calls(text, registry)
    got = {
        (c.broker.id, c.ticker, c.rating, c.previous_rating, c.target, c.previous_target)
        for c in found
    }
    assert got == {
        ("citi", "1109.HK", "buy", None, 38.5, None),
        ("jpmorgan", "0960.HK", "underweight", "neutral", 7.5, 8.2),
        ("uobkh", "1209.HK", "buy", None, 52.0, None),
    }


@pytest.mark.parametrize(
    "text, broker",
    [
        pytest.param("大華繼顯指", "uobkh", id="uob-zh-hant"),
        pytest.param("UOB Kay Hian said", "uobkh", id="uob-en"),
        pytest.param("法巴認為", "bnp", id="bnp"),
        pytest.param("輝立證券指", "phillip", id="phillip"),
    ],
)
def test_more_houses_are_known(text, broker):
    assert [b.broker.id for b in brokers_in(normalise(text))] == [broker]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "某某财经APP · 2025年11月26日(星期三) 08:15\n正文。",
            date(2025, 11, 26),
            id="zh-weekday",
        ),
        pytest.param("Wire | 3 Dec 2025 (Wed) 15:02\nBody.", date(2025, 12, 3), id="en-weekday"),
        pytest.param(
            "SHANGHAI, Mar 3, 2025 - A broker upgraded the stock.", date(2025, 3, 3), id="wire"
        ),
        pytest.param(
            "HONG KONG, 26 November 2025 (Agency) — The bank cut its target.",
            date(2025, 11, 26),
            id="wire-agency",
        ),
        pytest.param(
            "Some Research . Equity        17 Apr 2025\n\nCompany Update",
            date(2025, 4, 17),
            id="header-gap",
        ),
        pytest.param("公司研究 | 2025年4月17日\n正文。", date(2025, 4, 17), id="header-bar"),
    ],
)
def test_publication_dates_in_more_layouts(text, expected):
    hit = publication_date(clean_lines(text))
    assert hit is not None and hit.value == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The results, due 26 Nov 2025 - 30 Nov 2025, matter.", id="range-in-prose"),
        pytest.param(
            "Title\nSub\nMore\nThe fourth line of the cover page        17 Apr 2025",
            id="gap-below-the-top",
        ),
        pytest.param("行情 | 更新日期     19/08/2024", id="gap-after-an-update-label"),
        pytest.param("He said, Nov 26, 2025 - was a bad day.", id="lower-case-before"),
    ],
)
def test_no_publication_date_from_these(text):
    assert publication_date(clean_lines(text)) is None


# --------------------------------------------------------------------------- names


def test_a_code_right_after_the_rated_name_resolves_it(registry):
    # "H World Group" is no registry name; its code in brackets right after it is.
    text = "Some Broker kept its Buy rating on H World Group (01179.HK), citing margins. Citi\n"
    (draft,) = extract_drafts(text, registry, today=TODAY)
    assert [(c.ticker, c.rating) for c in draft.calls] == [("1179.HK", "buy")]


def test_a_code_further_on_is_not_the_rated_names(registry):
    # The code belongs to another company named after the rated one: the name stays unresolved.
    text = "Citi kept its Buy rating on Acme Widgets, ahead of Tencent (00700.HK) results.\n"
    (draft,) = extract_drafts(text, registry, today=TODAY)
    assert ("Acme Widgets", None) in {(c.name, c.ticker) for c in draft.calls}


# --------------------------------------------------------------------------- ratings


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("UBS: Geely (175 HK) - Buy, TP HK$25.", ["buy"], id="en-dash"),
        pytest.param("ZTO Express (2057 HK) – Overweight.", ["overweight"], id="en-dash-end"),
        pytest.param("花旗:腾讯(00700):买入;目标价700港元", ["buy"], id="zh-colon"),
        pytest.param("Tencent (00700) - Buy the dip, some say.", [], id="a-verb-not-a-rating"),
        pytest.param("Tencent (00700) - 5.2%, a record.", [], id="a-figure"),
    ],
)
def test_a_rating_right_after_a_code(text, expected):
    assert [r.rating for r in ratings_in(normalise(text))] == expected


def test_a_digest_line_per_broker_and_stock(registry):
    text = (
        "Morgan Stanley: ZTO Express (2057 HK) - Overweight, TP HK$190 (from HK$175). Fine.\n\n"
        "Jefferies: Yum China (9987 HK) - Buy, TP HK$480. Sales turned.\n"
    )
    found, _ = note_calls(text, registry)
    got = {(c.broker.id, c.ticker, c.rating, c.target) for c in found}
    assert got == {
        ("morgan-stanley", "2057.HK", "overweight", 190.0),
        ("jefferies", "9987.HK", "buy", 480.0),
    }
