"""One spelling per number, date and missing value (tracker.render.formats)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.render import formats as f
from tracker.render.formats import HIDDEN, json_dumps


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        pytest.param(0.0123, {}, "1.23%", id="two-digits"),
        pytest.param(-0.0105, {"digits": 1, "signed": True}, "-1.1%", id="signed-negative"),
        pytest.param(0.05, {"digits": 1, "signed": True}, "+5.0%", id="signed-positive"),
        pytest.param(12.345, {}, "1,234.50%", id="thousands"),  # 12.345 × 100 = 1234.5
        pytest.param(None, {}, "", id="none"),
        pytest.param(float("nan"), {}, "", id="nan"),
    ],
)
def test_pct(value, kwargs, text):
    assert f.pct(value, **kwargs) == text


def test_pp_number_rate_and_dates():
    assert f.pp(0.0321) == "+3.2 pp"  # 0.0321 × 100 = 3.21
    assert f.pp(-0.1) == "-10.0 pp"
    assert f.pp(np.nan) == ""
    assert f.number(1234.5) == "1,234.50"
    assert f.number(1_000_000, 0) == "1,000,000"
    assert f.number(2.049, 2, "×") == "2.05×"
    assert f.number(pd.NA) == ""
    assert f.rate(2, 3) == "67% (2/3)"  # 2/3 = 66.7 % → 67 %
    assert f.rate(0, 0) == ""
    assert f.iso_date(pd.Timestamp("2025-06-30 15:00")) == "2025-06-30"
    assert f.iso_date(date(2025, 1, 2)) == "2025-01-02"
    assert f.iso_date(np.datetime64("2025-03-04")) == "2025-03-04"
    assert f.iso_date(pd.NaT) == ""


def test_pad_counts_cjk_as_two_columns():
    assert f.display_width("腾讯ab") == 6
    assert f.pad("腾讯", 6) == "腾讯  "
    assert f.pad(7, 3, right=True) == "  7"


def test_jsonable_nulls_and_numpy():
    value = {
        "nan": float("nan"),
        "inf": float("inf"),
        "nat": pd.NaT,
        "na": pd.NA,
        "i": np.int64(3),
        "x": np.float64(0.5),
        "b": np.bool_(True),
        "arr": np.array([1.0, np.nan]),
        "nested": [(date(2025, 1, 2),)],
        1: "key",
    }
    out = f.jsonable(value)
    assert out == {
        "nan": None,
        "inf": None,
        "nat": None,
        "na": None,
        "i": 3,
        "x": 0.5,
        "b": True,
        "arr": [1.0, None],
        "nested": [["2025-01-02"]],
        "1": "key",
    }
    json.dumps(out, allow_nan=False)  # strictly valid JSON
    assert type(out["i"]) is int and type(out["b"]) is bool


@pytest.mark.parametrize(
    ("moment", "keep_time", "text"),
    [
        pytest.param(pd.Timestamp("2025-06-30"), False, "2025-06-30", id="session"),
        pytest.param(pd.Timestamp("2025-06-30"), True, "2025-06-30", id="session-keep"),
        pytest.param(pd.Timestamp("2025-06-30 08:15"), False, "2025-06-30", id="moment-date"),
        pytest.param(pd.Timestamp("2025-06-30 08:15"), True, "2025-06-30T08:15:00", id="moment"),
        pytest.param(datetime(2025, 6, 30, 8, 15), True, "2025-06-30T08:15:00", id="datetime"),
    ],
)
def test_jsonable_moments(moment, keep_time, text):
    assert f.jsonable(moment, keep_time=keep_time) == text


def test_is_missing():
    assert all(f.is_missing(v) for v in (None, math.nan, pd.NaT, pd.NA, np.float64("nan")))
    assert not any(f.is_missing(v) for v in (0, "", "x", 0.0, [1]))


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, tracker.render.formats; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- json_dumps


#: What a terminal obeys or hides, by code point, written out here (not taken from HIDDEN).
_OBEYED = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
_BIDI_AND_ZERO_WIDTH = ["\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\ufeff", "\u2028"]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_json_reads_back_equal_and_shows_no_control_or_hidden_character(value):
    text = json_dumps(value)
    assert json.loads(text) == value
    shown = set(text) - {"\n"}  # the indentation's own line breaks
    assert not shown & set(_OBEYED)
    assert not shown & HIDDEN


def test_json_escapes_c1_bidi_and_keeps_letters():
    text = json_dumps({"name": "騰訊\u202eKH\x85\x7f\u2066x"}, indent=None)
    assert text == '{"name": "騰訊\\u202eKH\\u0085\\u007f\\u2066x"}'
    for c in _BIDI_AND_ZERO_WIDTH:
        assert c in HIDDEN


def test_json_with_a_lone_surrogate_is_still_utf8():
    text = json_dumps({"broker": "\ud800x"}, indent=None)
    assert text == '{"broker": "\\ud800x"}'
    text.encode("utf-8")  # no UnicodeEncodeError
    assert json.loads(text) == {"broker": "\ud800x"}
