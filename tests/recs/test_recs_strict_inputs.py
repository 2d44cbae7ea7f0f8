"""Strict inputs: no boolean numbers, finite band edges, dates as YYYY-MM-DD, clean names.

Each rule is tried on every field it covers: calls, scales, backtest specs and
tracker.toml, so a sibling field cannot slip through.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mailer.test_mailer import VALID as MAIL_TOML
from mailer.test_mailer import write_toml
from recs.test_recs import GOOD, RECS, TODAY

from tracker.backtest.spec import load_spec
from tracker.errors import InvalidInput
from tracker.fields import normalise_name
from tracker.mailer.settings import load_mail_config
from tracker.recs.book import call_matcher, load_book, load_scales

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"]
CONTROLS = ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\x1b[31m"]


@pytest.fixture
def recs_dir(tmp_path: Path) -> Path:
    shutil.copytree(RECS / "scales", tmp_path / "scales")
    return tmp_path


def problems(recs_dir: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (recs_dir / name).write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_book(recs_dir, today=TODAY)
    return [str(p).replace(str(recs_dir) + "/", "") for p in err.value.problems]


def one_call(extra: str) -> str:
    """GOOD with ``extra`` lines added to its first call."""
    return GOOD.replace("    rating: attention\n", "    rating: attention\n" + extra, 1)


# --------------------------------------------------------------------------- booleans


@pytest.mark.parametrize("value", ["true", "false", "True"])
@pytest.mark.parametrize(
    "field",
    [
        "    horizon_months: {v}\n",
        "    horizon_months: [{v}, 12]\n",
        "    horizon_months: {{min_months: {v}, max_months: 12}}\n",
        "    target: {{value: {v}}}\n",
    ],
    ids=["horizon", "horizon-list", "horizon-map", "target"],
)
def test_booleans_are_not_numbers_in_calls(recs_dir, field, value):
    found = problems(recs_dir, {"2025-05-06-test.yaml": one_call(field.format(v=value))})
    assert len(found) == 1 and "2025-05-06-test.yaml:" in found[0], found
    assert "boolean" in found[0] or "valid integer" in found[0] or "number" in found[0], found


SCALE_NUMBERS = [
    ("{rating: buy, lower_pp: 15,", "{rating: buy, lower_pp: {v},"),
    (
        "{rating: overweight, lower_pp: 5, upper_pp: 15,",
        "{rating: overweight, lower_pp: 5, upper_pp: {v},",
    ),
    ("  lower_pp: 0\n  lower_inclusive: false", "  lower_pp: {v}\n  lower_inclusive: false"),
    ("company:\n  horizon_months: 6-12", "company:\n  horizon_months: {v}"),
    ("industry:\n  horizon_months: 6", "industry:\n  horizon_months: {v}"),
]


BOOLS = ["true", "false"]
NON_FINITE = [".nan", ".inf", "-.inf", ".NaN", "1e999"]
#: Every field with every value that must fail: whole numbers (horizons) only the booleans.
SCALE_CASES = [
    pytest.param(old, new, v, id=f"{name}-{v}")
    for (old, new), name in zip(
        SCALE_NUMBERS, ["buy-lower", "overweight-upper", "attention", "h-co", "h-in"], strict=True
    )
    for v in (BOOLS if name.startswith("h-") else BOOLS + NON_FINITE)
]


@pytest.mark.parametrize("old, new, value", SCALE_CASES)
def test_scale_numbers_are_finite_and_not_booleans(recs_dir, old, new, value):
    path = recs_dir / "scales" / "default-hk.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new.replace("{v}", value)), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_scales(recs_dir / "scales")
    (problem,) = err.value.problems
    assert problem.file == str(path) and problem.line is not None
    assert any(w in problem.message for w in ("boolean", "finite", "number")), problem


def test_scale_band_edges_read_before():
    """The band edges of a valid scale are kept as numbers (the control case)."""
    scale = load_scales(RECS / "scales")["default-hk"]
    assert [b.lower_pp for b in scale.company.bands] == [15, 5, -5, -15, None]


SPEC_NUMBERS = [
    "capital_hkd: {v}\n",
    "sizing:\n  method: equal\n  max_positions: {v}\n",
    "sizing:\n  method: fixed\n  amount_hkd: {v}\n",
    "sizing:\n  method: rating\n  rating_weights: {{buy: {v}}}\n",
    "costs:\n  commission_rate: {v}\n",
    "costs:\n  commission_min_hkd: {v}\n",
    "costs:\n  stamp_duty_rate: {v}\n",
    "costs:\n  settlement_fee_max_hkd: {v}\n",
    "exit:\n  rule: fixed\n  months: {v}\n",
]


SPEC_CASES = [
    pytest.param(f, v, id=f"{f.split(':')[-2].split()[-1]}-{v}")
    for f in SPEC_NUMBERS
    for v in (BOOLS if "months" in f or "positions" in f else BOOLS + NON_FINITE)
]


@pytest.mark.parametrize("field, value", SPEC_CASES)
def test_spec_numbers_are_finite_and_not_booleans(tmp_path, field, value):
    path = tmp_path / "spec.yaml"
    path.write_text("name: x\n" + field.format(v=value), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_spec(path)
    (problem,) = err.value.problems
    assert problem.line is not None and problem.line > 1, problem


TOML_CASES = [
    pytest.param(k, v, id=f"{k}-{v}")
    for k in ["port", "timeout_s", "max_attempts", "backoff_s", "backoff_max_s"]
    for v in (BOOLS if k in ("port", "max_attempts") else BOOLS + ["nan", "inf", "-inf"])
]


@pytest.mark.parametrize("key, value", TOML_CASES)
def test_tracker_toml_numbers_are_finite_and_not_booleans(tmp_path, key, value):
    text = MAIL_TOML + f"{key} = {value}\n"
    with pytest.raises(InvalidInput) as err:
        load_mail_config(write_toml(tmp_path / "tracker.toml", text))
    (problem,) = err.value.problems
    assert problem.field == f"smtp.{key}", problem


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "value, message",
    [
        ("20250915", "expected a date as YYYY-MM-DD, e.g. 2025-09-15; got 20250915"),
        ("'2025-5-6'", "expected a date as YYYY-MM-DD, e.g. 2025-09-15; got '2025-5-6'"),
        ("2025-05-06 10:30:00", "expected a date without a time (YYYY-MM-DD), got 2025-05-06"),
        ("1900-01-02", "1900-01-02 is before 2000-01-01, where the HKEX calendar of tracker"),
        ("1999-12-31", "1999-12-31 is before 2000-01-01, where the HKEX calendar of tracker"),
        ("true", "expected a date as YYYY-MM-DD, e.g. 2025-09-15; got True"),
        ("1.5", "expected a date as YYYY-MM-DD, e.g. 2025-09-15; got 1.5"),
    ],
    ids=["int", "short", "datetime", "1900", "1999", "bool", "float"],
)
@pytest.mark.parametrize("field", ["published", "seen"])
def test_dates_are_calendar_dates_in_our_words(recs_dir, field, value, message):
    text = GOOD if field == "published" else GOOD.replace("source: test", "seen: X\nsource: test")
    if field == "published":
        text = text.replace("published: 2025-05-06", f"published: {value}")
    else:
        text = text.replace("seen: X", f"seen: {value}")
    found = problems(recs_dir, {"2025-05-06-test.yaml": text})
    assert len(found) == 1 and f": {field}: {message}" in found[0], found


@pytest.mark.parametrize("value", ["20250101", "'2025-1-1'", "1990-06-01"])
@pytest.mark.parametrize("field", ["published_from", "published_to"])
def test_spec_dates_are_checked_alike(tmp_path, field, value):
    path = tmp_path / "spec.yaml"
    path.write_text(f"name: x\nselect:\n  {field}: {value}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_spec(path)
    (problem,) = err.value.problems
    assert problem.field == f"select.{field}" and problem.line == 3, problem


def test_earliest_date_itself_is_accepted(recs_dir):
    (recs_dir / "2000-01-03-test.yaml").write_text(
        GOOD.replace("published: 2025-05-06", "published: 2000-01-03"), encoding="utf-8"
    )
    book = load_book(recs_dir, today=TODAY)
    assert str(book.reports[0].report.published) == "2000-01-03"


# --------------------------------------------------------------------------- names


def named(broker: str, analyst: str = "陈大文", company: str = "腾讯控股") -> str:
    return GOOD.replace(
        "broker: Huaan Securities",
        f'broker: "{broker}"\nbroker_local: 华安证券\nanalysts:\n  - name: "{analyst}"',
    ).replace("  - name: 腾讯控股", f'  - name: "{company}"')


def _escape(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


@pytest.mark.parametrize("mark", ZERO_WIDTH + BIDI, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_invisible_characters_are_removed_from_every_name(recs_dir, mark, where):
    def put(name: str) -> str:
        cut = {"start": 0, "middle": len(name) // 2, "end": len(name)}[where]
        return _escape(name[:cut] + mark + name[cut:])

    (recs_dir / "2025-05-06-test.yaml").write_text(
        named(put("Huaan Securities"), put("陈大文"), put("腾讯控股")), encoding="utf-8"
    )
    report = load_book(recs_dir, today=TODAY).reports[0].report
    assert report.broker == "Huaan Securities"
    assert report.analysts[0].name == "陈大文"
    assert report.recommendations[0].name == "腾讯控股"


@pytest.mark.parametrize(
    "written, stored",
    [
        ("Ｈｕａａｎ Securities", "Huaan Securities"),  # full-width letters
        ("Huaan\u00a0Securities", "Huaan Securities"),  # no-break space
        ("Huaan\u3000Securities", "Huaan Securities"),  # ideographic space
        ("Huaan   Securities ", "Huaan Securities"),  # runs of spaces
        ("ﬁnance Co", "finance Co"),  # a ligature
    ],
)
def test_names_are_nfkc_normalised(recs_dir, written, stored):
    (recs_dir / "2025-05-06-test.yaml").write_text(named(_escape(written)), encoding="utf-8")
    assert load_book(recs_dir, today=TODAY).reports[0].report.broker == stored


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: repr(c))
@pytest.mark.parametrize("where", ["broker", "analyst", "company", "title", "note", "source"])
def test_control_characters_are_refused_everywhere(recs_dir, where, control):
    bad = _escape("Huaan" + control + "x")
    text = {
        "broker": lambda: named(bad),
        "analyst": lambda: named("Huaan Securities", analyst=bad),
        "company": lambda: named("Huaan Securities", company=bad),
        "title": lambda: GOOD.replace("title: Test report", f'title: "{bad}"'),
        "note": lambda: one_call(f'    note: "{bad}"\n'),
        "source": lambda: GOOD.replace("source: test", f'source: "{bad}"'),
    }[where]()
    found = problems(recs_dir, {"2025-05-06-test.yaml": text})
    assert len(found) == 1, found
    assert f"control character U+{ord(control[0]):04X}" in found[0], found


def test_a_zero_width_space_no_longer_splits_a_broker(recs_dir):
    (recs_dir / "2025-05-06-a.yaml").write_text(named("Caitong"), encoding="utf-8")
    other = named("Cai\\u200btong").replace("title: Test report", "title: Another report")
    other = other.replace("9988.HK", "1810.HK")
    (recs_dir / "2025-05-07-b.yaml").write_text(
        other.replace("published: 2025-05-06", "published: 2025-05-07"), encoding="utf-8"
    )
    calls = load_book(recs_dir, today=TODAY).call_records()
    assert {c["broker"] for c in calls} == {"Caitong"}
    # A filter typed with an invisible character, or without, finds all four calls.
    for typed in ("Caitong", "cai\u200btong", "\u202aCAITONG\u202c", "Ｃａｉｔｏｎｇ"):
        assert sum(call_matcher(brokers=[typed])(c) for c in calls) == 4, typed


def test_rating_alias_with_an_invisible_character_still_matches(recs_dir):
    text = GOOD.replace("rating: 买入", 'rating: "买\\u200b入"')
    (recs_dir / "2025-05-06-test.yaml").write_text(text, encoding="utf-8")
    report = load_book(recs_dir, today=TODAY).reports[0].report
    assert [r.rating for r in report.recommendations] == ["attention", "buy"]


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("a\u200bb", "ab"),
        ("Ａ", "A"),
        (" x  y ", "x y"),
        ("\u202eabc\u202c", "abc"),
        ("x\x1b", "x\x1b"),
    ],
)
def test_normalise_name(raw, clean):
    assert normalise_name(raw) == clean


# --------------------------------------------------------------------------- duplicates


def test_the_same_report_under_two_names_is_refused_naming_both(recs_dir):
    found = problems(recs_dir, {"2025-05-06-a.yaml": GOOD, "2025-05-06-b.yaml": GOOD})
    assert found == [
        "2025-05-06-b.yaml: the same report as 2025-05-06-a.yaml"
        " (Huaan Securities, published 2025-05-06): its calls would count twice;"
        " keep one of the two files"
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("# a comment\n", ""),  # comments differ
        lambda t: t.replace("title: Test report", "title: TEST   report"),  # case and spaces
        lambda t: t.replace("title: Test report", "title: 另一个标题"),  # same calls, new title
        lambda t: t.replace("broker: Huaan Securities", "broker: Huaan\\u200b Securities").replace(
            "broker: Huaan\\u200b Securities", 'broker: "Huaan\\u200b Securities"'
        ),
        lambda t: t.replace("source: test", "source: another copy"),
    ],
    ids=["comments", "title-case", "same-calls", "invisible-broker", "source"],
)
def test_near_copies_of_a_report_are_refused(recs_dir, change):
    found = problems(recs_dir, {"2025-05-06-a.yaml": GOOD, "2025-05-06-b.yaml": change(GOOD)})
    assert len(found) == 1 and found[0].startswith("2025-05-06-b.yaml: the same report as")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("published: 2025-05-06", "published: 2025-05-07").replace(
            "title: Test report", "title: Other"
        ),
        lambda t: (
            t.replace("broker: Huaan Securities", "broker: Caitong Securities")
            .replace("scale: huaan", "scale: caitong")
            .replace("rating: 买入", "rating: attention")
        ),
        lambda t: t.replace("title: Test report", "title: Other").replace("9988.HK", "1810.HK"),
    ],
    ids=["other-day", "other-broker", "other-title-and-calls"],
)
def test_distinct_reports_are_kept(recs_dir, change):
    (recs_dir / "2025-05-06-a.yaml").write_text(GOOD, encoding="utf-8")
    (recs_dir / "2025-05-06-b.yaml").write_text(change(GOOD), encoding="utf-8")
    assert len(load_book(recs_dir, today=TODAY).reports) == 2


def test_bundled_reports_are_not_duplicates():
    # Every bundled file loads as a report of its own: none is refused as another's copy.
    assert len(load_book(RECS, today=TODAY).reports) == len(list(RECS.glob("*.yaml")))
