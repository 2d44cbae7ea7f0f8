"""The ticker registry: code forms, name resolution, the bundled file, importing HKEX's list.

Expected tickers are written by hand from the HKEX list; counts come from
reading the HKEX files here with plain ``csv`` / ``openpyxl``, never from
``tracker.registry.resolve``.
"""

from __future__ import annotations

import csv
import functools
import http.server
import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import AmbiguousTicker, InputFileError, InvalidInput, TickerNotFound
from tracker.registry.hkex import DownloadFailed, import_hkex, update_registry
from tracker.registry.resolve import (
    CURATED_PATH,
    STORE_NAME,
    Registry,
    parse_code,
    ticker_from_code,
)

ROOT = Path(__file__).resolve().parents[2]
ZH_ONLY = "securities_zh_only_2026-08-22.csv"
HKEX_HEADER = [
    "Stock Code",
    "Name of Securities",
    "Category",
    "Sub-Category",
    "Board Lot",
    "ISIN",
    "Expiry Date",
    "Subject to Stamp Duty",
]
EQUITY = ("Equity", "Equity Securities (Main Board)")


def write_xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ListOfSecurities")
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("code", "ticker"),
    [
        pytest.param(700, "0700.HK", id="700"),
        pytest.param(5, "0005.HK", id="5"),
        pytest.param(9988, "9988.HK", id="9988"),
        pytest.param(9999, "9999.HK", id="9999-last-4-digit"),
        pytest.param(10000, "10000.HK", id="10000-first-5-digit"),
        pytest.param(80700, "80700.HK", id="80700-rmb-counter"),
    ],
)
def test_ticker_from_code(code, ticker):
    assert ticker_from_code(code) == ticker


@pytest.mark.parametrize("code", [0, -1, 100_000])
def test_ticker_from_code_refuses_out_of_range(code):
    with pytest.raises(ValueError, match="from 1 to 99999"):
        ticker_from_code(code)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("700", 700, id="bare"),
        pytest.param("00700", 700, id="five-digit"),
        pytest.param("0700.HK", 700, id="yahoo"),
        pytest.param("0700.hk", 700, id="yahoo-lower"),
        pytest.param("HK.00700", 700, id="futu"),
        pytest.param("HK:700", 700, id="colon"),
        pytest.param("700 HK", 700, id="bloomberg-short"),
        pytest.param("0700 HK", 700, id="bloomberg"),
        pytest.param(" 0700.HK ", 700, id="padded"),
        pytest.param("０７００.ＨＫ", 700, id="full-width"),
        pytest.param("80700", 80700, id="counter"),
        pytest.param("HK.02800", 2800, id="etf"),
        pytest.param("腾讯", None, id="chinese-name"),
        pytest.param("TENCENT", None, id="english-name"),
        pytest.param("123456", None, id="six-digits"),
        pytest.param("0", None, id="zero"),
        pytest.param("0700.SS", None, id="shanghai"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_code(text, code):
    assert parse_code(text) == code


@given(st.integers(min_value=1, max_value=99_999))
def test_every_code_form_parses_back(code):
    forms = [str(code), f"{code:05d}", ticker_from_code(code), f"HK.{code:05d}", f"{code} HK"]
    assert [parse_code(f) for f in forms] == [code] * len(forms)
    # Yahoo form: 4 digits below 10000, 5 from 10000, as the models' ticker type requires.
    assert re.fullmatch(r"(?:\d{4}|[1-9]\d{4})\.HK", ticker_from_code(code))


# --------------------------------------------------------------------------- resolving names


@pytest.fixture(scope="module")
def curated() -> Registry:
    return Registry.curated()


TENCENT_FORMS = [
    "騰訊控股",
    "腾讯控股",
    "腾讯",
    "騰訊",
    "Tencent",
    "TENCENT",
    "tencent holdings",
    "Ｔｅｎｃｅｎｔ",
    "700",
    "00700",
    "0700.HK",
    "HK.00700",
    "700 HK",
    "0700 HK",
]


@pytest.mark.parametrize("query", TENCENT_FORMS, ids=TENCENT_FORMS)
def test_resolve_tencent_in_every_form(curated, query):
    assert curated.resolve(query) == "0700.HK"


#: Every company named in the two reports, spelled as the reports spell them.
REPORT_NAMES = {
    # Huaan, simplified Chinese, with the suffixes and stray spaces of the PDF text.
    "腾讯控股": "0700.HK",
    "阿里巴巴": "9988.HK",
    "小米集团- W": "1810.HK",
    "快手-W": "1024.HK",
    "美团- W": "3690.HK",
    "携程集团- S": "9961.HK",
    "同程旅行": "0780.HK",
    "网易-S": "9999.HK",
    "腾讯音乐": "1698.HK",
    "阅文集团": "0772.HK",
    "网易云音乐": "9899.HK",
    "阿里健康": "0241.HK",
    "金蝶集团": "0268.HK",
    "迈富时集团": "2556.HK",
    "联想集团": "0992.HK",
    # Caitong via uSMART, traditional Chinese.
    "美團": "3690.HK",
    "金蝶國際": "0268.HK",
    "聯想集團": "0992.HK",
    "騰訊控股": "0700.HK",
}


@pytest.mark.parametrize(("name", "ticker"), REPORT_NAMES.items(), ids=list(REPORT_NAMES))
def test_resolve_report_names(curated, name, ticker):
    assert curated.resolve(name) == ticker


OTHER_NAMES = {
    "美團－Ｗ": "3690.HK",  # HKEX's own full-width spelling
    "美团-W": "3690.HK",
    "MEITUAN-W": "3690.HK",
    "meituan": "3690.HK",
    "小米集团-W": "1810.HK",
    "携程集团-S": "9961.HK",
    "Trip.com": "9961.HK",
    "NetEase": "9999.HK",
    "網易": "9999.HK",
    "Tencent Music": "1698.HK",
    "TME-SW": "1698.HK",
    "騰訊音樂-SW": "1698.HK",
    "Alibaba": "9988.HK",
    "BABA-W": "9988.HK",
    "Kingdee": "0268.HK",
    "迈富时": "2556.HK",
    "Marketingforce": "2556.HK",
    "Lenovo": "0992.HK",
    "China Literature": "0772.HK",
    "NetEase Cloud Music": "9899.HK",
    "Tongcheng Travel": "0780.HK",
    "香港交易所": "0388.HK",
    "港交所": "0388.HK",
    "HKEX": "0388.HK",
    "盈富基金": "2800.HK",
    "Tracker Fund": "2800.HK",
    "匯豐控股": "0005.HK",
    "滙豐控股": "0005.HK",  # the other 'hui' that HSBC also writes
    "中國平安": "2318.HK",
    "Ping An": "2318.HK",
    "友邦保險": "1299.HK",
    "建行": "0939.HK",
    "中國移動": "0941.HK",
    "比亞迪": "1211.HK",
    "理想汽車": "2015.HK",
    "京东": "9618.HK",
    "百度集团-SW": "9888.HK",
}


@pytest.mark.parametrize(("name", "ticker"), OTHER_NAMES.items(), ids=list(OTHER_NAMES))
def test_resolve_other_names(curated, name, ticker):
    assert curated.resolve(name) == ticker


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            "腾迅控股",
            "unknown company or ticker '腾迅控股'; closest: 0700.HK 腾讯控股 (TENCENT)",
            id="typo-zh",
        ),
        pytest.param(
            "12345",
            "unknown company or ticker '12345'; import the HKEX list with"
            " `tracker registry import`",
            id="unknown-code",
        ),
        pytest.param(
            "0701.HK",
            # one digit off 00701: 00001 (7->0) and 00700 (1->0)
            "unknown company or ticker '0701.HK'; closest: 0001.HK 长和 (CKH HOLDINGS),"
            " 0700.HK 腾讯控股 (TENCENT)",
            id="code-typo",
        ),
    ],
)
def test_unknown_lists_closest(curated, query, message):
    with pytest.raises(TickerNotFound) as info:
        curated.resolve(query)
    assert str(info.value) == message
    assert info.value.query == query


def test_prefix_of_a_name_is_a_candidate_not_a_match(curated):
    with pytest.raises(TickerNotFound) as info:
        curated.resolve("Tencen")
    assert info.value.candidates[0] == "0700.HK 腾讯控股 (TENCENT)"


CHINA_RESOURCES = (
    "0291.HK 华润啤酒 (CHINA RES BEER), 0836.HK 华润电力 (CHINA RES POWER),"
    " 1109.HK 华润置地 (CHINA RES LAND), 1209.HK 华润万象生活 (CHINA RES MIXC)"
)


@pytest.mark.parametrize("query", ["华润", "華潤", "China Resources", "CHINA RESOURCES"])
def test_ambiguous_lists_every_match(curated, query):
    with pytest.raises(AmbiguousTicker) as info:
        curated.resolve(query)
    assert str(info.value) == f"{query!r} is ambiguous: {CHINA_RESOURCES}; give the code instead"
    assert len(info.value.candidates) == 4


def test_get_knows_board_lot_and_len(curated):
    with open(CURATED_PATH, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(curated) == len(rows)
    assert curated.knows("0700.HK") and curated.knows("HK.00700")
    assert not curated.knows("0701.HK") and not curated.knows("腾讯")
    tencent = curated.get("0700.HK")
    assert (tencent.code, tencent.name_en, tencent.name_zh_hant) == (700, "TENCENT", "騰訊控股")
    assert curated.board_lot("0992.HK") == 2000
    assert curated.board_lot("2800.HK") == 500
    assert curated.get("2800.HK").stamp_duty is False
    assert curated.get("9961.HK").suffix == "S"
    with pytest.raises(TickerNotFound):
        curated.get("腾讯")  # get takes a ticker or code, not a name
    with pytest.raises(TickerNotFound):
        curated.board_lot("12345")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(REPORT_NAMES.items())),
    st.lists(st.sampled_from([" ", "\u3000", "\t"]), min_size=1, max_size=3),
    st.data(),
)
def test_spaces_anywhere_do_not_change_the_answer(item, spaces, data):
    name, ticker = item
    at = data.draw(st.integers(min_value=0, max_value=len(name)))
    assert Registry.curated().resolve(name[:at] + "".join(spaces) + name[at:]) == ticker


def test_load_is_fast_and_lazy_about_opencc(tmp_path):
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tracker.registry.resolve import Registry\n"
        "t = time.perf_counter()\n"
        f"r = Registry.load(Path({str(tmp_path)!r}))\n"
        "elapsed = time.perf_counter() - t\n"
        "assert r.resolve('0700 HK') == '0700.HK'\n"
        "before = 'opencc' in sys.modules\n"
        "assert r.resolve('騰訊控股') == '0700.HK'\n"
        "print(elapsed, before, 'opencc' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    elapsed, before, after = out.stdout.split()
    assert float(elapsed) < 0.3
    assert (before, after) == ("False", "True")


# --------------------------------------------------------------------------- the bundled file


@pytest.fixture(scope="module")
def hkex_dir(shared_dir) -> Path:
    return shared_dir / "data" / "hkex"


@pytest.fixture(scope="module")
def hkex_csv(hkex_dir) -> dict[str, dict[str, str]]:
    """HKEX's list (English columns from the xlsx) as plain rows by 5-digit code."""
    with open(hkex_dir / "securities.csv", encoding="utf-8", newline="") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def xlsx_rows(hkex_dir) -> list[tuple]:
    from openpyxl import load_workbook

    wb = load_workbook(hkex_dir / "ListOfSecurities.xlsx", read_only=True)
    rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def _curated_rows() -> list[dict[str, str]]:
    with open(CURATED_PATH, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_curated_covers_every_report_company():
    codes = {row["code"] for row in _curated_rows()}
    report = {
        "00700",
        "09988",
        "01810",
        "01024",
        "03690",
        "09961",
        "00780",
        "09999",
        "01698",
        "00772",
        "09899",
        "00241",
        "00268",
        "02556",
        "00992",
        "00388",
        "02800",
    }
    assert report <= codes
    # Small on purpose; it also holds the HK lines of the companies in us_lines.csv.
    assert 70 <= len(codes) <= 130


def test_curated_rows_agree_with_hkex(hkex_csv, xlsx_rows):
    """Code, board lot, category, suffix and stamp duty of every curated row, against HKEX."""
    duty = {r[0]: r[7] == "Y" for r in xlsx_rows[1:] if r[0]}
    categories = {
        "Equity": "Equity",
        "Exchange Traded Products": "ETF",
        "Real Estate Investment Trusts": "REIT",
    }
    wrong = []
    for row in _curated_rows():
        hk = hkex_csv.get(row["code"])
        if hk is None:
            wrong.append(f"{row['code']} {row['name_en']}: not listed on HKEX")
            continue
        m = re.search(r"-(SW|W|S|B)$", hk["name_en"])
        mine = (row["board_lot"], row["category"], row["suffix"], row["stamp_duty"] == "Y")
        theirs = (
            hk["board_lot"],
            categories[hk["category"]],
            m.group(1) if m else "",
            duty[row["code"]],
        )
        if mine != theirs:
            wrong.append(f"{row['code']} {row['name_en']}: {mine} but HKEX says {theirs}")
    assert wrong == []


def test_curated_names_resolve_to_their_own_code():
    deliberate = {"华润", "China Resources"}  # a group name shared by four companies
    registry = Registry.curated()
    wrong = []
    for row in _curated_rows():
        names = [
            row["name_en"],
            row["name_zh_hans"],
            row["name_zh_hant"],
            *row["aliases"].split("|"),
        ]
        for name in filter(None, names):
            if name in deliberate:
                continue
            got = registry.resolve(name)
            if got != ticker_from_code(int(row["code"])):
                wrong.append((name, got, row["code"]))
    assert wrong == []


# -------------------------------------------------------------------------- importing the real list


@pytest.fixture(scope="module")
def imported(tmp_path_factory, hkex_dir):
    """The real xlsx with both Chinese-name files, imported once into a temp home."""
    home = tmp_path_factory.mktemp("imported")
    names = [hkex_dir / "securities.csv", hkex_dir / ZH_ONLY]
    summary = import_hkex(hkex_dir / "ListOfSecurities.xlsx", names, home)
    return home, summary


def test_import_counts(imported, hkex_csv, xlsx_rows, hkex_dir):
    _, summary = imported
    data = [r for r in xlsx_rows[1:] if any(v not in (None, "") for v in r)]
    by_category = Counter(r[2] for r in data)
    with open(hkex_dir / ZH_ONLY, encoding="utf-8", newline="") as fh:
        zh_only = list(csv.DictReader(fh))
    assert summary.rows_read == len(data)  # 17,944 per the data's SOURCES.md
    assert summary.kept == {
        "Equity": by_category["Equity"],  # 2,744
        "ETF": by_category["Exchange Traded Products"],  # 393
        "REIT": by_category["Real Estate Investment Trusts"],  # 11
    }
    assert 2_600 <= summary.equities <= 2_800
    kept = {"Equity", "Exchange Traded Products", "Real Estate Investment Trusts"}
    assert summary.skipped == {c: n for c, n in by_category.items() if c not in kept}
    with_zh = [r for r in hkex_csv.values() if r["name_zh_hant"] or r["name_zh_hans"]]
    assert summary.names_merged == len(with_zh)  # 3,148 - 29
    new = [r for r in zh_only if r["code"] not in hkex_csv]
    assert summary.names_only == len(new) == 109
    assert summary.written == len(hkex_csv) + len(new)
    assert summary.without_chinese == len(hkex_csv) - len(with_zh)
    assert summary.as_of is None  # this copy has no title rows
    assert summary.store == imported[0] / STORE_NAME


def test_imported_store_matches_hkex(imported, hkex_csv):
    registry = Registry.load(imported[0])
    equities = [s for s in registry if s.category == "Equity"]
    assert len(equities) == sum(1 for r in hkex_csv.values() if r["category"] == "Equity")
    lots = {f"{s.code:05d}": s.board_lot for s in registry if s.board_lot is not None}
    assert lots == {code: int(r["board_lot"]) for code, r in hkex_csv.items()}


@pytest.mark.parametrize(
    ("name", "ticker"),
    [
        ("匯豐控股", "0005.HK"),
        ("汇丰控股", "0005.HK"),
        ("渣打集团", "2888.HK"),
        ("STANCHART", "2888.HK"),
        ("DAHSING BANKING", "2356.HK"),
        ("大新銀行集團", "2356.HK"),
        ("BANK OF E ASIA", "0023.HK"),
        ("美團-W", "3690.HK"),
        ("群核科技", "0068.HK"),  # only in the August Chinese list
        ("TENCENT", "0700.HK"),  # not ambiguous with 80700 TENCENT-R
        ("80700", "80700.HK"),
        ("TENCENT-R", None),
        ("CKH HOLDINGS", "0001.HK"),
        ("长和", "0001.HK"),
        ("LINK REIT", "0823.HK"),
        ("ISHARES AXJ", "3010.HK"),  # not ambiguous with 09010 -U and 83010 -R
        ("安碩亞洲除日", "3010.HK"),
        ("中國海洋石油", "0883.HK"),
        ("腾讯", "0700.HK"),  # curated alias kept
        ("金蝶集团", "0268.HK"),  # curated alias kept
        ("Tencent Holdings", "0700.HK"),
    ],
    ids=lambda v: str(v),
)
def test_resolve_across_the_exchange(imported, name, ticker):
    registry = Registry.load(imported[0])
    if ticker is None:
        with pytest.raises(TickerNotFound):
            registry.resolve(name)
    else:
        assert registry.resolve(name) == ticker


def test_counter_names_are_candidates_not_matches(imported):
    registry = Registry.load(imported[0])
    with pytest.raises(TickerNotFound) as info:
        registry.resolve("TENCENT-R")
    assert info.value.candidates[:2] == (
        "80700.HK 腾讯控股-R (TENCENT-R)",
        "0700.HK 腾讯控股 (TENCENT)",
    )


def test_curated_names_still_resolve_after_import(imported):
    registry = Registry.load(imported[0])
    deliberate = {"华润", "China Resources"}
    wrong = []
    for row in _curated_rows():
        names = [
            row["name_en"],
            row["name_zh_hans"],
            row["name_zh_hant"],
            *row["aliases"].split("|"),
        ]
        for name in filter(None, names):
            if name not in deliberate and registry.resolve(name) != ticker_from_code(
                int(row["code"])
            ):
                wrong.append(name)
    assert wrong == []
    assert registry.get("0700.HK").aliases[:2] == ("腾讯", "Tencent Holdings")


def test_xlsx_with_title_rows_imports_identically(imported, xlsx_rows, hkex_dir, tmp_path):
    titled = [["List of Securities"], ["Updated as at 20/03/2026"], *map(list, xlsx_rows)]
    path = write_xlsx(tmp_path / "ListOfSecurities.xlsx", titled)
    home = tmp_path / "home"
    names = [hkex_dir / "securities.csv", hkex_dir / ZH_ONLY]
    summary = import_hkex(path, names, home)
    assert summary.as_of == date(2026, 3, 20)
    assert (home / STORE_NAME).read_bytes() == (imported[0] / STORE_NAME).read_bytes()
    first = imported[1].model_dump(exclude={"as_of", "source", "store"})
    assert summary.model_dump(exclude={"as_of", "source", "store"}) == first


def test_csv_main_list_matches_the_xlsx(imported, xlsx_rows, hkex_dir, tmp_path):
    """securities.csv as the main list: same store, except the stamp-duty flag it lacks."""
    import_hkex(hkex_dir / "securities.csv", hkex_dir / ZH_ONLY, tmp_path)
    with open(tmp_path / STORE_NAME, encoding="utf-8") as a, open(imported[0] / STORE_NAME) as b:
        mine, theirs = list(csv.reader(a)), list(csv.reader(b))
    differ = {x[0] for x, y in zip(mine, theirs, strict=True) if x != y}
    # Without HKEX's flag, equities other than "Trading Only Securities" are taken as dutiable.
    expected = {
        r[0]
        for r in xlsx_rows[1:]
        if r[0] and r[2] == "Equity" and r[3] != "Trading Only Securities" and r[7] != "Y"
    }
    assert differ == expected == {"04621"}


def test_zh_only_name_needs_its_file(tmp_path, hkex_dir):
    import_hkex(hkex_dir / "securities.csv", None, tmp_path)
    registry = Registry.load(tmp_path)
    with pytest.raises(TickerNotFound):
        registry.resolve("群核科技")
    assert registry.resolve("美團-W") == "3690.HK"  # securities.csv carries Chinese names


# --------------------------------------------------------------------------- bad inputs


def _store_bytes(home: Path) -> bytes | None:
    path = home / STORE_NAME
    return path.read_bytes() if path.exists() else None


@pytest.fixture
def good_home(tmp_path) -> Path:
    """A home with a small imported store, to check failures leave it alone."""
    path = write_xlsx(
        tmp_path / "good.xlsx", [HKEX_HEADER, ["00700", "TENCENT", *EQUITY, "100", "", "", "Y"]]
    )
    home = tmp_path / "home"
    import_hkex(path, None, home)
    return home


def test_xlsx_without_stock_code_header(tmp_path, good_home):
    before = _store_bytes(good_home)
    path = write_xlsx(tmp_path / "list.xlsx", [["Code", "Name"], ["00700", "TENCENT"]])
    with pytest.raises(InputFileError) as info:
        import_hkex(path, None, good_home)
    assert str(info.value) == (
        f'{path}: no header row starting "Stock Code" in the first 20 rows:'
        " is this HKEX's List of Securities workbook?"
    )
    assert _store_bytes(good_home) == before


def test_xlsx_missing_board_lot_column(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HKEX_HEADER[:4], ["00700", "TENCENT", *EQUITY]])
    with pytest.raises(InputFileError) as info:
        import_hkex(path, None, tmp_path)
    assert str(info.value) == (
        f"{path}: missing column(s) board_lot; expected HKEX's List of Securities (Stock Code,"
        " Name of Securities, Category, Board Lot, ...) (found: Stock Code, Name of Securities,"
        " Category, Sub-Category)"
    )


def test_csv_missing_a_column(tmp_path, good_home):
    before = _store_bytes(good_home)
    path = write_csv(
        tmp_path / "list.csv", [["code", "name_en", "category"], ["00700", "TENCENT", "Equity"]]
    )
    with pytest.raises(InputFileError) as info:
        import_hkex(path, None, good_home)
    assert str(info.value) == (
        f"{path}: missing column(s) board_lot; expected HKEX's List of Securities (Stock Code,"
        " Name of Securities, Category, Board Lot, ...) (found: code, name_en, category)"
    )
    assert _store_bytes(good_home) == before


def test_non_numeric_board_lot(tmp_path, good_home):
    before = _store_bytes(good_home)
    rows = [
        ["List of Securities"],
        HKEX_HEADER,
        ["00700", "TENCENT", *EQUITY, "1,000", "", "", "Y"],
        ["00005", "HSBC HOLDINGS", *EQUITY, "four hundred", "", "", "Y"],
        [
            "12345",
            "SOME WARRANT",
            "Derivative Warrants",
            "",
            "n/a",
            "",
            "",
            "",
        ],  # skipped, not parsed
        ["ABCDE", "BAD CODE", *EQUITY, "0", "", "", "Y"],
    ]
    path = write_xlsx(tmp_path / "list.xlsx", rows)
    with pytest.raises(InvalidInput) as info:
        import_hkex(path, None, good_home)
    assert str(info.value).splitlines() == [
        f"{path}:4: Board Lot: 'four hundred' is not a whole number of shares;"
        " fix the row or download the list again",
        f"{path}:6: Stock Code: 'ABCDE' is not a stock code (1 to 5 digits);"
        " fix the row or download the list again",
        f"{path}:6: Board Lot: '0' is not a whole number of shares;"
        " fix the row or download the list again",
    ]
    assert _store_bytes(good_home) == before


def test_duplicate_code(tmp_path):
    rows = [
        ["code", "name_en", "board_lot", "category"],
        ["700", "TENCENT", "100", "Equity"],
        ["00700", "TENCENT AGAIN", "100", "Equity"],
    ]
    path = write_csv(tmp_path / "list.csv", rows)
    with pytest.raises(InvalidInput) as info:
        import_hkex(path, None, tmp_path)
    assert str(info.value) == f"{path}:3: code: duplicate stock code 00700 (first on line 2)"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "list.xlsx",
            b"<html>not found</html>",
            "not an Excel workbook (.xlsx)",
            id="html-as-xlsx",
        ),
        pytest.param("list.txt", b"code\n", "unsupported file type '.txt'", id="txt"),
        pytest.param("list.csv", "code,名前\n".encode("utf-16"), "not UTF-8 text", id="utf16-csv"),
        pytest.param("list.csv", b"", "the file is empty", id="empty-csv"),
    ],
)
def test_unreadable_list(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        import_hkex(path, None, tmp_path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert not (tmp_path / STORE_NAME).exists()


def test_only_warrants_is_refused(tmp_path):
    rows = [HKEX_HEADER, ["12345", "SOME WARRANT", "Derivative Warrants", "", "10,000", "", "", ""]]
    path = write_xlsx(tmp_path / "list.xlsx", rows)
    with pytest.raises(InputFileError, match="no equities, ETFs or REITs found"):
        import_hkex(path, None, tmp_path)


def test_names_file_problems(tmp_path, good_home):
    before = _store_bytes(good_home)
    main = write_csv(
        tmp_path / "list.csv",
        [["code", "name_en", "board_lot", "category"], ["700", "TENCENT", "100", "Equity"]],
    )
    no_names = write_csv(tmp_path / "names.csv", [["code", "english"], ["00700", "TENCENT"]])
    with pytest.raises(InputFileError) as info:
        import_hkex(main, no_names, good_home)
    assert str(info.value) == (
        f"{no_names}: missing column(s) name_zh_hant or name_zh_hans; expected a header with"
        " code and name_zh_hant and/or name_zh_hans, e.g. code,name_zh_hant,name_zh_hans"
        " (found: code, english)"
    )
    bad_code = write_csv(tmp_path / "names2.csv", [["code", "name_zh_hant"], ["0070O", "騰訊控股"]])
    with pytest.raises(InvalidInput) as info:
        import_hkex(main, bad_code, good_home)
    assert (
        str(info.value)
        == f"{bad_code}:2: code: '0070O' is not a stock code (1 to 5 digits); fix the row"
    )
    assert _store_bytes(good_home) == before


def test_traditional_only_names_get_simplified(tmp_path):
    main = write_csv(
        tmp_path / "list.csv",
        [["code", "name_en", "board_lot", "category"], ["700", "TENCENT", "100", "Equity"]],
    )
    names = write_csv(tmp_path / "names.csv", [["股份代號", "name_zh_hant"], ["00700", "騰訊控股"]])
    summary = import_hkex(main, names, tmp_path)
    assert (summary.names_read, summary.names_merged, summary.names_only) == (1, 1, 0)
    sec = Registry.load(tmp_path).get("700")
    assert (sec.name_zh_hant, sec.name_zh_hans) == ("騰訊控股", "腾讯控股")


@pytest.mark.parametrize(
    ("suffix", "total"),
    [
        # openpyxl's write-only mode records no sheet dimension, so the total is unknown.
        pytest.param(".xlsx", None, id="xlsx-without-dimension"),
        pytest.param(".csv", 2500, id="csv"),
    ],
)
def test_progress_is_reported(tmp_path, suffix, total):
    rows = [HKEX_HEADER] + [
        [f"{c:05d}", f"CO {c}", *EQUITY, "1,000", "", "", "Y"] for c in range(1, 2501)
    ]
    write = write_xlsx if suffix == ".xlsx" else write_csv
    path = write(tmp_path / f"list{suffix}", rows)
    calls = []
    summary = import_hkex(
        path, None, tmp_path, progress=lambda done, total: calls.append((done, total))
    )
    # one call per 1,000 rows, then the end: 2,500 data rows under the header
    assert calls == [(1000, total), (2000, total), (2500, 2500)]
    assert summary.kept == {"Equity": 2500}
    assert Registry.load(tmp_path).board_lot("02500") == 1000


@pytest.mark.parametrize(
    ("lot", "message"),
    [
        pytest.param(
            "lots",
            "Input should be a valid integer, unable to parse string as an integer",
            id="text",
        ),
        pytest.param("0", "Input should be greater than 0", id="zero"),
    ],
)
def test_damaged_store_is_reported(tmp_path, lot, message):
    (tmp_path / STORE_NAME).write_text(
        "code,name_en,name_zh_hans,name_zh_hant,aliases,suffix,board_lot,category,stamp_duty\n"
        f"00700,TENCENT,,,,,{lot},Equity,Y\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as info:
        Registry.load(tmp_path)
    assert str(info.value) == f"{tmp_path / STORE_NAME}:2: board_lot: {message}"


# --------------------------------------------------------------------------- downloading


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the request log would land on captured stderr
        pass


@pytest.fixture
def http_dir(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a folder; yields (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_update_downloads_and_imports(http_dir, tmp_path):
    folder, base = http_dir
    rows = [
        ["List of Securities"],
        ["Updated as at 02/01/2026"],
        HKEX_HEADER,
        ["00700", "TENCENT", *EQUITY, "100", "", "", "Y"],
        [
            "02800",
            "TRACKER FUND",
            "Exchange Traded Products",
            "Exchange Traded Funds",
            "500",
            "",
            "",
            "",
        ],
    ]
    write_xlsx(folder / "ListOfSecurities.xlsx", rows)
    home = tmp_path / "home"
    summary = update_registry(home, f"{base}/ListOfSecurities.xlsx")
    assert summary.source == f"{base}/ListOfSecurities.xlsx"
    assert summary.as_of == date(2026, 1, 2)
    assert summary.kept == {"Equity": 1, "ETF": 1}
    registry = Registry.load(home)
    assert registry.get("2800.HK").stamp_duty is False
    assert registry.board_lot("2800.HK") == 500


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        pytest.param("missing.xlsx", "HTTP 404 File not found", id="404"),
        pytest.param("page.html", "the response is not an Excel workbook (.xlsx)", id="html"),
    ],
)
def test_update_failure_leaves_store_alone(http_dir, good_home, path, reason):
    folder, base = http_dir
    (folder / "page.html").write_text("<html>maintenance</html>")
    before = _store_bytes(good_home)
    url = f"{base}/{path}"
    with pytest.raises(DownloadFailed) as info:
        update_registry(good_home, url)
    assert str(info.value) == (
        f"cannot download the HKEX list from {url}: {reason}; check the connection or the --url,"
        " or download the file in a browser and run `tracker registry import FILE`"
        " (the registry was not changed)"
    )
    assert _store_bytes(good_home) == before


def test_update_connection_refused(good_home):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = _store_bytes(good_home)
    with pytest.raises(DownloadFailed) as info:
        update_registry(good_home, f"http://127.0.0.1:{port}/ListOfSecurities.xlsx", timeout_s=5)
    assert "refused" in info.value.reason.lower()
    assert _store_bytes(good_home) == before


def test_update_refuses_other_schemes(good_home):
    with pytest.raises(DownloadFailed) as info:
        update_registry(good_home, "file:///etc/passwd")
    assert info.value.reason == "only http:// and https:// addresses are supported"
