"""Parsed call files kept in the memo: the book read back is the book parsed, and a file
that fails validation on a memo hit is reported exactly as without the memo."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tracker import memo
from tracker.errors import InvalidInput
from tracker.recs import yamlio
from tracker.recs.book import load_book, load_report, load_scales

ROOT = Path(__file__).resolve().parents[2]
RECS = ROOT / "recs"
TODAY = date(2026, 11, 22)


@pytest.fixture
def cache(tmp_path):
    memo.use(tmp_path / "cache")
    return tmp_path / "cache" / "yaml"


def _same_calls(*books):
    import pandas as pd

    for book in books[1:]:
        pd.testing.assert_frame_equal(book.calls(), books[0].calls())


def test_the_book_read_from_the_memo_equals_the_book_parsed(cache):
    memo.use(None)
    parsed = load_book(RECS, today=TODAY)
    memo.use(cache.parent)
    first = load_book(RECS, today=TODAY)  # parses and keeps
    n_files = len(list(RECS.glob("*.yaml"))) + len(list((RECS / "scales").glob("*.yaml")))
    assert len(list(cache.glob("*.json"))) == n_files
    hits = load_book(RECS, today=TODAY)
    _same_calls(parsed, first, hits)
    assert [r.report for r in hits.reports] == [r.report for r in parsed.reports]
    assert hits.scales == parsed.scales


def test_a_hit_parses_nothing(cache, monkeypatch):
    load_book(RECS, today=TODAY)

    def no_parse(*_a, **_k):
        raise AssertionError("parsed although the memo holds the file")

    monkeypatch.setattr("tracker.recs.book.load_yaml", no_parse)
    assert len(load_book(RECS, today=TODAY).calls()) > 0


def test_a_file_valid_yesterday_and_not_today_is_reported_with_its_line(cache, tmp_path):
    # Validation depends on the day (a publication date after today is refused): the
    # memo keeps the parse, never the verdict.
    path = RECS / "2025-09-15-caitong-ai-race.yaml"
    scales = load_scales(RECS / "scales")
    load_report(path, scales, today=TODAY)  # valid, kept
    with pytest.raises(InvalidInput) as hit:
        load_report(path, scales, today=date(2025, 9, 1))
    memo.use(None)
    with pytest.raises(InvalidInput) as parsed:
        load_report(path, scales, today=date(2025, 9, 1))
    assert [str(p) for p in hit.value.problems] == [str(p) for p in parsed.value.problems]
    # The `published:` line of the file, counted here by hand from its text.
    line = path.read_text(encoding="utf-8").splitlines().index("published: 2025-09-15") + 1
    assert hit.value.problems[0].line == line


def test_an_edited_file_is_parsed_again(cache, tmp_path):
    path = tmp_path / "recs" / "2025-09-15-caitong-ai-race.yaml"
    path.parent.mkdir()
    text = (RECS / path.name).read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    scales = load_scales(RECS / "scales")
    assert load_report(path, scales, today=TODAY).report.recommendations[0].ticker == "3690.HK"
    path.write_text(text.replace("ticker: 3690.HK", "ticker: 9988.HK", 1), encoding="utf-8")
    assert load_report(path, scales, today=TODAY).report.recommendations[0].ticker == "9988.HK"


def _round_trip(text: str):
    y = YAML(typ="rt", pure=True)
    return y.load(io.StringIO(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: 0x1F\nb: 1_000\nc: 0o17", {"a": 31, "b": 1000, "c": 15}, id="ints"),
        pytest.param("a: 1.50\nb: .inf\nc: 1e3", {"a": 1.5, "b": float("inf"), "c": 1000.0}),
        pytest.param("a: &x yes\nb: *x\nc: true", {"a": "yes", "b": "yes", "c": True}),
        pytest.param("a: &t true\nb: *t", {"a": True, "b": True}, id="anchored-bool"),
        pytest.param("d: 2025-05-06", {"d": date(2025, 5, 6)}, id="date"),
        pytest.param("s: |\n  two\n  lines\n", {"s": "two\nlines\n"}, id="literal"),
        pytest.param("l: [1, 'x', null]", {"l": [1, "x", None]}, id="list"),
    ],
)
def test_plain_values_equal_the_round_trip_values(text, expected):
    data = _round_trip(text)
    got = yamlio.plain(data)
    assert got == data == expected
    for key, value in got.items():
        assert type(value) is type(expected[key])


@pytest.mark.parametrize(
    "text",
    [
        "t: 2025-05-06 10:00:00",  # a time stamp
        "s: !!set {a, b}",
        "o: !!omap [{a: 1}]",
        "1: a",  # a key that is not text
        "b: !!binary aGk=",
    ],
    ids=["timestamp", "set", "omap", "int-key", "binary"],
)
def test_values_the_memo_does_not_keep(cache, text):
    data = _round_trip(text)
    with pytest.raises(yamlio._NotPlain):
        yamlio.plain(data)
    yamlio.remember(text, data)
    assert yamlio.remembered(text) is None


keys = st.text(min_size=1, max_size=8).filter(lambda k: not k.startswith("\x00"))
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars | st.dates(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    ),
    max_size=5,
)


@given(doc=documents)
def test_any_document_read_back_equals_its_parse(tmp_path_factory, doc):
    memo.use(tmp_path_factory.mktemp("cache"))
    out = io.StringIO()
    YAML(typ="rt", pure=True).dump(doc, out)
    text = out.getvalue()
    parsed = yamlio.load_yaml(Path("doc.yaml"), text)
    yamlio.remember(text, parsed)
    kept = yamlio.remembered(text)
    assert kept == parsed
    assert _types(kept) == _types(parsed)


def _types(v):
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    # ruamel's scalar subclasses count as their base type (what validation sees)
    return next(t for t in (bool, int, float, str, date, type(None)) if isinstance(v, t))


def test_a_value_utf8_cannot_hold_loads_as_without_the_memo(cache, tmp_path):
    # YAML's "\ud800" escape is a lone surrogate: the memo cannot keep that parse, and the
    # file loads (or is refused) exactly as without the memo.
    recs = tmp_path / "recs"
    recs.mkdir()
    path = recs / "2025-09-15-caitong-ai-race.yaml"
    text = (RECS / path.name).read_text(encoding="utf-8")
    path.write_text(text.replace("broker: Caitong Securities", 'broker: "\\ud800"'), "utf-8")
    scales = load_scales(RECS / "scales")

    def outcome():
        try:
            return load_report(path, scales, today=TODAY).report.broker
        except InvalidInput as exc:
            return [str(p) for p in exc.problems]

    with_memo = outcome()
    # the scales are kept; the report is not
    assert len(list(cache.glob("*.json"))) == len(list((RECS / "scales").glob("*.yaml")))
    memo.use(None)
    assert with_memo == outcome()
