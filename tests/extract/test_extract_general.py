"""Rules found by notes the extractor was not built on, each on sentences written for the test."""

from __future__ import annotations

from datetime import date

import pytest

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
