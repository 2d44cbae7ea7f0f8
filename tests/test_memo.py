"""tracker.memo: entries kept under a digest, read back equal, and every fault a miss."""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker import memo


@pytest.fixture
def cache(tmp_path):
    memo.use(tmp_path / "cache")
    return tmp_path / "cache"


def test_off_by_default_keeps_and_reads_nothing(tmp_path):
    assert memo.folder() is None
    memo.put_json("k", "a", {"x": 1})
    memo.put_array("k", "a", np.arange(3))
    assert memo.get_json("k", "a") is None
    assert memo.get_array("k", "a") is None
    assert list(tmp_path.iterdir()) == []


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=plain_values)
def test_json_entries_read_back_equal_with_their_types(tmp_path_factory, value):
    memo.use(tmp_path_factory.mktemp("cache"))
    memo.put_json("yaml", "key", value)
    got = memo.get_json("yaml", "key")
    assert got == value

    def types(v):
        if isinstance(v, dict):
            return {k: types(x) for k, x in v.items()}
        if isinstance(v, list):
            return [types(x) for x in v]
        return type(v)

    assert types(got) == types(value)  # True stays a bool, a date a date, 1 an int


def test_non_finite_floats_read_back(cache):
    memo.put_json("k", "f", [float("inf"), float("-inf"), -0.0])
    got = memo.get_json("k", "f")
    assert got[:2] == [float("inf"), float("-inf")] and str(got[2]) == "-0.0"
    memo.put_json("k", "n", float("nan"))
    assert np.isnan(memo.get_json("k", "n"))


def test_values_json_cannot_keep_are_not_kept(cache):
    memo.put_json("k", "set", {1, 2})
    memo.put_json("k", "bytes", b"x")
    assert memo.get_json("k", "set") is None and memo.get_json("k", "bytes") is None


def test_arrays_read_back_equal(cache):
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    memo.put_array("cal", "k", a)
    got = memo.get_array("cal", "k")
    assert got.dtype == np.int64 and np.array_equal(got, a)


def test_object_arrays_are_neither_kept_nor_read(cache):
    memo.put_array("cal", "obj", np.array([{"a": 1}], dtype=object))
    assert memo.get_array("cal", "obj") is None
    # A pickled array planted by someone else is not unpickled (allow_pickle=False).
    (cache / "cal").mkdir(parents=True, exist_ok=True)
    np.save(cache / "cal" / "planted.npy", np.array([object()], dtype=object), allow_pickle=True)
    assert memo.get_array("cal", "planted") is None


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"\xff\xfe", b'{"\\u0000date": "2025-13-45"}'],
    ids=["empty", "truncated", "not-utf8", "bad-date"],
)
def test_a_damaged_json_entry_is_a_miss(cache, damage):
    memo.put_json("k", "x", {"a": 1})
    (cache / "k" / "x.json").write_bytes(damage)
    assert memo.get_json("k", "x") is None


def test_a_damaged_array_entry_is_a_miss(cache):
    memo.put_array("k", "x", np.arange(4))
    path = cache / "k" / "x.npy"
    path.write_bytes(path.read_bytes()[:20])
    assert memo.get_array("k", "x") is None


def test_writes_that_fail_are_ignored(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    memo.use(blocker / "cache")
    memo.put_json("k", "x", {"a": 1})  # no error
    memo.put_array("k", "x", np.arange(2))
    assert memo.get_json("k", "x") is None


def test_no_temporary_file_is_left_behind(cache):
    for i in range(5):
        memo.put_json("k", str(i), i)
    assert sorted(p.name for p in (cache / "k").iterdir()) == [f"{i}.json" for i in range(5)]


def test_past_the_limit_the_oldest_half_is_removed(cache, monkeypatch):
    monkeypatch.setattr(memo, "MAX_ENTRIES", 4)
    for i in range(5):
        memo.put_json("k", f"e{i}", i)
        os.utime(cache / "k" / f"e{i}.json", (1_000_000 + i, 1_000_000 + i))
    # The fifth write found 5 > 4 entries and removed the 2 oldest (e0, e1) before its
    # own utime; a sixth entry then makes 4.
    memo.put_json("k", "e5", 5)
    assert sorted(p.name for p in (cache / "k").iterdir()) == [
        "e2.json",
        "e3.json",
        "e4.json",
        "e5.json",
    ]


def test_digest_separates_its_parts():
    assert memo.digest("ab", "c") != memo.digest("a", "bc")
    assert memo.digest("a") == memo.digest(b"a")
    assert len(memo.digest("x")) == 64


def test_dates_read_back_as_dates(cache):
    memo.put_json("k", "d", {"published": date(2025, 5, 6)})
    assert memo.get_json("k", "d") == {"published": date(2025, 5, 6)}


def test_text_that_utf8_cannot_hold_is_not_kept(cache):
    # YAML's "\ud800" escape makes a lone surrogate: no UTF-8 file can hold it.
    memo.put_json("k", "s", {"broker": "\ud800"})
    assert memo.get_json("k", "s") is None
