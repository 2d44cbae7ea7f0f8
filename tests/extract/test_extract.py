"""`tracker recs extract` on the two shared reports: calls, fields, scale, and a draft that
validates."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.extract import extract_draft
from tracker.extract.writer import draft_yaml
from tracker.recs.book import load_report, load_scales
from tracker.recs.yamlio import load_yaml
from tracker.registry.resolve import Registry

ROOT = Path(__file__).resolve().parents[2]
RECS = ROOT / "recs"
TODAY = date(2026, 11, 22)

# The 15 companies of the 相关公司 paragraph of the Huaan report, in the order written,
# with the HKEX codes a reader finds for them (HKEX list: 00700 TENCENT, 09988 BABA-W, ...).
HUAAN = [
    ("腾讯控股", "0700.HK"),
    ("阿里巴巴", "9988.HK"),
    ("小米集团-W", "1810.HK"),
    ("快手-W", "1024.HK"),
    ("美团-W", "3690.HK"),
    ("携程集团-S", "9961.HK"),
    ("同程旅行", "0780.HK"),
    ("网易-S", "9999.HK"),
    ("腾讯音乐", "1698.HK"),
    ("阅文集团", "0772.HK"),
    ("网易云音乐", "9899.HK"),
    ("阿里健康", "0241.HK"),
    ("金蝶集团", "0268.HK"),
    ("迈富时集团", "2556.HK"),
    ("联想集团", "0992.HK"),
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.curated()


def _report(shared_dir: Path, name: str) -> str:
    return (shared_dir / "reports" / name).read_text(encoding="utf-8")


def _draft(shared_dir: Path, registry: Registry, name: str, scales=None):
    return extract_draft(
        _report(shared_dir, name), registry, today=TODAY, scales=scales, source=name
    )


# --------------------------------------------------------------------------- Huaan


def test_huaan_yields_all_15_companies_as_attention_calls(shared_dir, registry):
    draft = _draft(shared_dir, registry, "huaan-hk-internet-ai.txt")
    assert [(c.name, c.ticker) for c in draft.calls] == HUAAN
    assert {c.rating for c in draft.calls} == {"attention"}
    assert all(c.confidence == "high" for c in draft.calls)
    # Source lines: 腾讯控股 closes line 135 of the file, 联想集团 starts on line 143 ("联想集").
    assert draft.calls[0].line == 135
    assert draft.calls[-1].line == 143
    # The thesis before "的" is each company's note, in the report's words.
    assert draft.calls[0].note == "坐拥 AI 产品入口形态且具备海量用户规模，生态逻辑再次加强"
    assert draft.calls[1].note == "AI 有望拉动云业务增长且国内电商主业边际改善"
    assert draft.calls[3].note == "具有全球 Tier1 视频模型可灵"
    assert {"".join(c.note.split()) for c in draft.calls[4:]} == {"具备AI应用场景"}


def test_huaan_report_fields(shared_dir, registry):
    draft = _draft(shared_dir, registry, "huaan-hk-internet-ai.txt")
    assert (draft.broker.value, draft.broker_local) == ("Huaan Securities", "华安证券")
    assert draft.title.value == "海内外 AI 发展势头强劲，关注港股互联网反弹机会"
    assert [(a.name, a.registration) for a in draft.analysts] == [("金荣", "S0010521080002")]
    assert draft.language == "zh-Hans"
    # The text carries no date: it is flagged, and the draft will say TODO.
    assert draft.published.assumed
    assert [r.field for r in draft.review] == ["published"]


def test_huaan_scale_equals_the_transcribed_one_band_by_band(shared_dir, registry):
    draft = _draft(shared_dir, registry, "huaan-hk-internet-ai.txt", scales={})
    assert draft.scale.status == "new" and draft.scale.id == "huaan"
    got = draft.scale.scale
    want = load_scales(RECS / "scales")["huaan"]
    for system in ("company", "industry"):
        g, w = getattr(got, system), getattr(want, system)
        assert g.horizon_months == w.horizon_months
        assert len(g.bands) == len(w.bands)
        for gb, wb in zip(g.bands, w.bands, strict=True):
            fields = (
                "rating",
                "lower_pp",
                "upper_pp",
                "lower_inclusive",
                "upper_inclusive",
                "aliases",
                "source",
            )
            assert {f: getattr(gb, f) for f in fields} == {f: getattr(wb, f) for f in fields}
    assert got.benchmark("HK") == "^HSI" and got.benchmarks["A"] == "000300.SS"
    # The report's own numbers, written out: company 6-12 months >15, 5..15, -5..5, -15..-5, <-15.
    company = {b.rating: (b.lower_pp, b.upper_pp) for b in got.company.bands}
    assert company == {
        "buy": (15, None),
        "overweight": (5, 15),
        "neutral": (-5, 5),
        "underweight": (-15, -5),
        "sell": (None, -15),
    }
    h = got.company.horizon_months
    assert (h.min_months, h.max_months) == (6, 12)
    industry = {b.rating: (b.lower_pp, b.upper_pp) for b in got.industry.bands}
    assert industry == {"overweight": (5, None), "neutral": (-5, 5), "underweight": (None, -5)}
    assert got.industry.horizon_months.max_months == 6


def test_huaan_references_the_existing_equal_scale(shared_dir, registry):
    draft = _draft(
        shared_dir, registry, "huaan-hk-internet-ai.txt", scales=load_scales(RECS / "scales")
    )
    assert (draft.scale.id, draft.scale.status) == ("huaan", "existing")
    assert draft.scale.line == 194  # "[Table_RankIntroduction] 投资评级说明"


# --------------------------------------------------------------------------- Caitong


def test_caitong_traditional_article(shared_dir, registry):
    draft = _draft(
        shared_dir, registry, "caitong-ai-race-usmart.txt", scales=load_scales(RECS / "scales")
    )
    assert [(c.name, c.ticker, c.rating) for c in draft.calls] == [
        ("美團", "3690.HK", "attention"),
        ("金蝶國際", "0268.HK", "attention"),
        ("聯想集團", "0992.HK", "attention"),
        ("騰訊控股", "0700.HK", "attention"),
    ]
    notes = [c.note for c in draft.calls]
    assert notes[0] == "估值回調後具備修復空間"
    assert notes[1].startswith("雲業務持續高增") and "AI+ERP" in notes[1]
    assert notes[2].startswith("有望走出慢牛趨勢") and notes[2].endswith("算力需求提升")
    assert notes[3] == "長期優選"
    assert [c.line for c in draft.calls] == [6, 7, 8, 9]
    assert (draft.broker.value, draft.broker_local) == ("Caitong Securities", "财通证券")
    assert [a.name for a in draft.analysts] == ["郝彥輝"]
    assert draft.language == "zh-Hant"
    assert (draft.scale.id, draft.scale.status) == ("default-hk", "fallback")
    assert "no rating definitions" in draft.scale.message
    scale_items = [r.message for r in draft.review if r.field == "scale"]
    assert (
        len(scale_items) == 1
        and "default-hk" in scale_items[0]
        and "caitong.yaml" in scale_items[0]
    )


# --------------------------------------------------------------------------- the command


@pytest.fixture
def recs_dir(tmp_path, monkeypatch) -> Path:
    """A recs folder with the project's scales, as `tracker recs validate` reads it."""
    recs = tmp_path / "recs"
    shutil.copytree(RECS / "scales", recs / "scales")
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs))
    return recs


def test_cli_huaan_draft_validates_as_is(shared_dir, recs_dir):
    out = recs_dir / "2025-05-06-huaan-draft.yaml"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "huaan-hk-internet-ai.txt"),
            "--date",
            "2025-05-06",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    assert "the draft validates as it is" in result.stderr
    assert "15 call(s), 0 unresolved; scale huaan (existing)" in result.stderr
    data = load_yaml(out)
    assert data["scale"] == "huaan" and len(data["recommendations"]) == 15
    assert not (
        recs_dir / "scales" / "huaan-2026.yaml"
    ).exists()  # the existing scale is referenced
    check = runner.invoke(app, ["recs", "validate", str(out)])
    assert check.exit_code == 0, check.output
    assert "ok: 1 report(s), 15 call(s)" in check.stderr
    loaded = load_report(out, load_scales(recs_dir / "scales"), Registry.curated())
    assert [r.ticker for r in loaded.report.recommendations] == [t for _, t in HUAAN]


def test_cli_writes_a_new_scale_beside_the_draft(shared_dir, tmp_path, monkeypatch):
    recs = tmp_path / "elsewhere"
    (recs / "scales").mkdir(parents=True)
    monkeypatch.setenv("TRACKER_RECS_DIR", str(recs))
    out = recs / "draft.yaml"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "huaan-hk-internet-ai.txt"),
            "--date",
            "2025-05-06",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = recs / "scales" / "huaan.yaml"
    assert f"wrote {written}" in result.stderr
    scale = load_scales(recs / "scales")["huaan"]
    assert [b.lower_pp for b in scale.company.bands] == [15, 5, -5, -15, None]
    assert runner.invoke(app, ["recs", "validate", str(out)]).exit_code == 0
    # Run again: the draft is not overwritten without --force.
    again = runner.invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "huaan-hk-internet-ai.txt"),
            "--date",
            "2025-05-06",
            "-o",
            str(out),
        ],
    )
    assert again.exit_code == 1
    assert "already exists: choose another -o FILE or pass --force" in again.stderr
    forced = runner.invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "huaan-hk-internet-ai.txt"),
            "--date",
            "2025-05-06",
            "-o",
            str(out),
            "--force",
        ],
    )
    assert forced.exit_code == 0, forced.output
    assert f"wrote {written}" not in forced.stderr  # the scale now exists and is referenced
    assert "scale huaan (existing)" in forced.stderr


def test_cli_caitong_draft_validates_with_the_fallback_scale(shared_dir, recs_dir):
    out = recs_dir / "caitong-draft.yaml"
    result = CliRunner().invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "caitong-ai-race-usmart.txt"),
            "--date",
            "2025-09-15",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "the draft validates as it is" in result.stderr
    assert "review: scale: the report gives no rating definitions" in result.stderr
    assert load_yaml(out)["scale"] == "default-hk"


def test_cli_prints_the_draft_on_stdout_without_output(shared_dir, recs_dir, registry, monkeypatch):
    # The clock is pinned: an expected value built from the real date breaks across midnight.
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 3, 2))
    report = shared_dir / "reports" / "caitong-ai-race-usmart.txt"
    result = CliRunner().invoke(
        app, ["recs", "extract", str(report), "--date", "2025-09-15", "--broker", "財通證券"]
    )
    assert result.exit_code == 0, result.output
    expected = extract_draft(
        report.read_text(encoding="utf-8"),
        registry,
        today=date(2026, 3, 2),
        scales=load_scales(recs_dir / "scales"),
        source=report.name,
        published=date(2025, 9, 15),
        broker="財通證券",
    )
    assert result.stdout == draft_yaml(expected)
    assert "published: 2025-09-15" in result.stdout


def test_cli_missing_report(tmp_path, recs_dir):
    missing = tmp_path / "nope.txt"
    result = CliRunner().invoke(app, ["recs", "extract", str(missing)])
    assert result.exit_code == 1
    assert f"{missing}: cannot read file" in result.stderr


def test_cli_rejects_a_bad_date(shared_dir, recs_dir):
    report = shared_dir / "reports" / "caitong-ai-race-usmart.txt"
    result = CliRunner().invoke(app, ["recs", "extract", str(report), "--date", "15/09/2025"])
    assert result.exit_code == 2
    assert "'15/09/2025' is not a date in YYYY-MM-DD form" in result.stderr


def test_cli_draft_without_a_date_does_not_validate(shared_dir, recs_dir):
    """A date the text does not give is never guessed: the reviewer must write it."""
    out = recs_dir / "huaan-draft.yaml"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "recs",
            "extract",
            str(shared_dir / "reports" / "huaan-hk-internet-ai.txt"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "the draft does not validate yet" in result.stderr
    assert (
        "review: published: the text gives no date: write the report's publication date"
        " (or pass --date)" in result.stderr
    )
    text = out.read_text(encoding="utf-8")
    assert (
        "published: TODO # NOT IN THE TEXT: write the report's publication date (YYYY-MM-DD)"
        in text
    )
    check = runner.invoke(app, ["recs", "validate", str(out)])
    assert check.exit_code == 1
    assert (
        f"{out}:" in check.stderr and ": published: expected a date as YYYY-MM-DD" in check.stderr
    )
