"""Loading the call files: the bundled ones, and every kind of bad input."""

from __future__ import annotations

import io
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tracker.errors import InvalidInput
from tracker.recs.book import load_book, load_report, load_scales
from tracker.recs.yamlio import dump_yaml, load_yaml

ROOT = Path(__file__).resolve().parents[2]
RECS = ROOT / "recs"
TODAY = date(2026, 11, 22)


def test_bundled_calls_load():
    book = load_book(RECS, today=TODAY)
    calls = book.calls()
    by_report = calls.groupby("report")["ticker"].apply(list).to_dict()
    assert by_report["2025-05-06-huaan-hk-internet-ai"] == [
        "0700.HK",
        "9988.HK",
        "1810.HK",
        "1024.HK",
        "3690.HK",
        "9961.HK",
        "0780.HK",
        "9999.HK",
        "1698.HK",
        "0772.HK",
        "9899.HK",
        "0241.HK",
        "0268.HK",
        "2556.HK",
        "0992.HK",
    ]
    assert by_report["2025-09-15-caitong-ai-race"] == ["3690.HK", "0268.HK", "0992.HK", "0700.HK"]
    two = calls[
        calls["report"].isin(["2025-05-06-huaan-hk-internet-ai", "2025-09-15-caitong-ai-race"])
    ]
    assert set(two["rating"]) == {"attention"}
    caitong = calls[calls["report"] == "2025-09-15-caitong-ai-race"].iloc[0]
    # The article appeared three days after the report: scoring starts from `seen`.
    assert caitong["start_date"].date() == date(2025, 9, 18)
    assert caitong["published"].date() == date(2025, 9, 15)
    assert caitong["horizon_max_months"] == 6
    huaan = next(r.report for r in book.reports if r.path.name.startswith("2025-05-06-huaan"))
    assert huaan.analysts[0].registration == "S0010521080002"
    assert huaan.industry_rating is None


@pytest.mark.parametrize("path", sorted(RECS.rglob("*.yaml")), ids=lambda p: p.name)
def test_bundled_files_round_trip(path: Path):
    """Dumping a bundled file keeps its text, comments and key order exactly."""
    text = path.read_text(encoding="utf-8")
    assert dump_yaml(load_yaml(path)) == text


def test_huaan_scale_matches_the_report():
    scale = load_scales(RECS / "scales")["huaan"]
    company = {b.rating: (b.lower_pp, b.upper_pp) for b in scale.company.bands}
    assert company == {
        "buy": (15, None),
        "overweight": (5, 15),
        "neutral": (-5, 5),
        "underweight": (-15, -5),
        "sell": (None, -15),
    }
    assert (scale.company.horizon_months.min_months, scale.company.horizon_months.max_months) == (
        6,
        12,
    )
    industry = {b.rating: (b.lower_pp, b.upper_pp) for b in scale.industry.bands}
    assert industry == {"overweight": (5, None), "neutral": (-5, 5), "underweight": (None, -5)}
    assert scale.industry.horizon_months.max_months == 6
    assert scale.benchmark("HK") == "^HSI"


GOOD = textwrap.dedent(
    """\
    # a comment
    broker: Huaan Securities
    title: Test report
    published: 2025-05-06
    source: test
    scale: huaan
    recommendations:
      - name: 腾讯控股
        ticker: 0700.HK
        rating: attention
      - name: 阿里巴巴
        ticker: 9988.HK
        rating: 买入
    """
)


@pytest.fixture
def recs_dir(tmp_path: Path) -> Path:
    shutil.copytree(RECS / "scales", tmp_path / "scales")
    return tmp_path


def write(recs_dir: Path, text: str, name: str = "2025-05-06-test.yaml") -> Path:
    path = recs_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(recs_dir: Path, path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as err:
        load_book(recs_dir, [path], today=TODAY)
    return [str(p) for p in err.value.problems]


def test_good_file_loads_and_alias_becomes_canonical(recs_dir):
    path = write(recs_dir, GOOD)
    report = load_report(path, load_scales(recs_dir / "scales"), today=TODAY).report
    assert [r.rating for r in report.recommendations] == ["attention", "buy"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "title: Test report",
            "titel: Test report",
            [
                "{f}:2: title: required field is missing",
                "{f}:3: titel: unknown field 'titel': check the spelling",
            ],
            id="unknown-field",
        ),
        pytest.param(
            "    rating: 买入",
            "    rating: 强烈买入",
            [
                "{f}:13: recommendations.1.rating: unknown rating '强烈买入' for scale 'huaan';"
                " use one of buy, overweight, neutral, underweight, sell, attention,"
                " 买入, 增持, 中性, 减持, 卖出, 关注, 建议关注, 相关公司, 重点关注"
            ],
            id="unknown-rating",
        ),
        pytest.param(
            "    ticker: 9988.HK",
            "    ticker: 0700.HK",
            [
                "{f}:12: recommendations.1.ticker: 0700.HK appears twice in one report"
                " (also recommendations.0)"
            ],
            id="duplicate-ticker",
        ),
        pytest.param(
            "published: 2025-05-06",
            "published: 2027-01-04",
            [
                "{f}:4: published: publication date 2027-01-04 is in the future"
                " (today is 2026-11-22)"
            ],
            id="future-date",
        ),
        pytest.param(
            "    ticker: 9988.HK",
            "    ticker: 09988.HK",
            [
                "{f}:12: recommendations.1.ticker: '09988.HK' is not an HKEX ticker"
                " in canonical form: four digits (five for codes from 10000) and '.HK',"
                " e.g. '0700.HK'"
            ],
            id="non-canonical-ticker",
        ),
        pytest.param(
            "scale: huaan",
            "scale: haitong",
            [
                "{f}:6: scale: unknown scale 'haitong'; known scales: caitong, default-hk, huaan"
                " (recs/scales/*.yaml)"
            ],
            id="unknown-scale",
        ),
        pytest.param(
            "published: 2025-05-06",
            "published: 6 May 2025",
            ["{f}:4: published: expected a date as YYYY-MM-DD, e.g. 2025-09-15; got '6 May 2025'"],
            id="bad-date",
        ),
    ],
)
def test_bad_fields_name_file_line_and_field(recs_dir, old, new, expected):
    assert old in GOOD
    path = write(recs_dir, GOOD.replace(old, new))
    assert problems_of(recs_dir, path) == [e.format(f=path) for e in expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "broker: [unclosed\n",
            "{f}:2: YAML: expected ',' or ']', but got '<stream end>'",
            id="malformed",
        ),
        pytest.param(
            "broker: a\nbroker: b\n",
            '{f}:2: YAML: found duplicate key "broker" with value "b" (original value: "a")',
            id="duplicate-key",
        ),
        pytest.param(
            "broker: !!python/object/apply:os.system ['echo hacked']\n",
            "{f}:1: YAML: tag not allowed: 'tag:yaml.org,2002:python/object/apply:os.system'",
            id="python-tag",
        ),
        pytest.param(
            "- a\n- b\n", "{f}:1: expected a mapping of fields at the top level", id="not-a-mapping"
        ),
    ],
)
def test_malformed_yaml_is_one_clean_problem(recs_dir, text, expected):
    path = write(recs_dir, text)
    assert problems_of(recs_dir, path) == [expected.format(f=path)]


def test_not_utf8_names_the_line(recs_dir):
    path = recs_dir / "2025-05-06-gbk.yaml"
    path.write_bytes(
        GOOD.replace("腾讯控股", "TENCENT").encode("utf-8") + "name: 腾讯\n".encode("gbk")
    )
    assert problems_of(recs_dir, path) == [
        f"{path}:14: not UTF-8 (byte 0xcc): save the file as UTF-8"
    ]


def test_billion_laughs_is_refused(recs_dir):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write(recs_dir, "\n".join(lines) + "\n")
    (problem,) = problems_of(recs_dir, path)
    assert "document expands to more than 100,000 values" in problem


def test_all_problems_of_all_files_in_one_run(recs_dir):
    a = write(recs_dir, GOOD.replace("title: Test report", "titel: x"), "2025-05-06-a.yaml")
    b = write(recs_dir, GOOD.replace("    rating: 买入", "    rating: hold"), "2025-05-06-b.yaml")
    problems = problems_of(recs_dir, recs_dir)
    assert [p.split(":")[0] for p in problems] == [str(a), str(a), str(b)]


def test_scale_with_overlapping_bands_names_the_file(recs_dir):
    path = recs_dir / "scales" / "huaan.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "lower_pp: 5\n      upper_pp: 15", "lower_pp: 4\n      upper_pp: 15", 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as err:
        load_scales(recs_dir / "scales")
    (problem,) = [str(p) for p in err.value.problems]
    assert problem.startswith(f"{path}:")
    assert problem.endswith("company: bands neutral (up to 5.0) and overweight (from 4.0) overlap")


def test_round_trip_of_a_loaded_report_through_the_model(recs_dir):
    """Model -> YAML -> model gives the same record (hypothesis round-trips live elsewhere)."""
    path = write(recs_dir, GOOD)
    scales = load_scales(recs_dir / "scales")
    report = load_report(path, scales, today=TODAY).report
    data = report.model_dump(mode="json", exclude_none=True)
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    again = write(recs_dir, out.getvalue(), "2025-05-06-again.yaml")
    assert load_report(again, scales, today=TODAY).report == report
