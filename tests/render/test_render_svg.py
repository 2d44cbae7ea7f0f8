"""Inline SVG line charts (tracker.render.svg): ticks, scaling, escaping, well-formed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from tracker.render.svg import MARGIN, Series, date_ticks, line_chart, nice_ticks


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        # span 100 / 5 = 20 -> step 2 x 10 = 20
        pytest.param(0, 100, [0, 20, 40, 60, 80, 100], id="0-100"),
        # span 193,000 / 5 = 38,600 -> step 5 x 10,000; floor 950k .. ceil 1.2M
        pytest.param(
            987_000,
            1_180_000,
            [950_000, 1_000_000, 1_050_000, 1_100_000, 1_150_000, 1_200_000],
            id="equity",
        ),
        # span 12.95 / 5 = 2.59 -> step 5; -15 .. 0
        pytest.param(-12.95, 0, [-15, -10, -5, 0], id="drawdown"),
        # flat: 1% (0.5) either side of 50 -> span 1 / 5 = 0.2 -> step 0.2; 49.4 .. 50.6
        pytest.param(50, 50, [49.4, 49.6, 49.8, 50.0, 50.2, 50.4, 50.6], id="flat"),
    ],
)
def test_nice_ticks(lo, hi, expected):
    np.testing.assert_allclose(nice_ticks(lo, hi), expected, atol=1e-9)


def test_date_ticks_months_and_years():
    months = date_ticks(pd.Timestamp("2025-05-06"), pd.Timestamp("2025-11-12"))
    assert [d.strftime("%Y-%m-%d") for d in months] == [
        "2025-06-01",
        "2025-07-01",
        "2025-08-01",
        "2025-09-01",
        "2025-10-01",
        "2025-11-01",
    ]
    years = date_ticks(pd.Timestamp("2014-03-03"), pd.Timestamp("2024-06-28"))
    # 2015 .. 2024 is ten year starts: every second one keeps at most 8.
    assert [d.year for d in years] == [2015, 2017, 2019, 2021, 2023]


def chart(values, labels=("a", "b"), **kw):
    dates = pd.DatetimeIndex(["2025-01-02", "2025-01-03", "2025-01-06"])
    series = [Series(v, lab, "#123456") for v, lab in zip(values, labels, strict=True)]
    return ET.fromstring(line_chart(dates, series, title="t", y_label="HKD", **kw))


def points(poly) -> np.ndarray:
    return np.array([[float(c) for c in p.split(",")] for p in poly.get("points").split()])


def test_points_are_placed_linearly_in_date_and_value():
    svg = chart([[0.0, 50.0, 100.0], [100.0, np.nan, 0.0]], width=1000, height=400)
    left, right, top, bottom = MARGIN
    a, b = (points(p) for p in svg.iter("polyline"))
    # x by calendar date: Jan 2, 3, 6 are days 0, 1, 4 of 4 over the plot width.
    pw = 1000 - left - right
    np.testing.assert_allclose(a[:, 0], [left, left + pw / 4, left + pw], atol=0.06)
    # y: ticks 0..100, so 100 is the top of the plot, 0 its bottom, 50 half way.
    ph = 400 - top - bottom
    np.testing.assert_allclose(a[:, 1], [top + ph, top + ph / 2, top], atol=0.06)
    assert len(b) == 2  # the NaN has no point


def test_filled_area_closes_on_zero():
    dates = pd.DatetimeIndex(["2025-01-02", "2025-01-03"])
    svg = ET.fromstring(
        line_chart(
            dates,
            [Series([-10.0, -5.0], "dd", "#f00", fill_to_zero=True)],
            title="t",
            y_label="%",
            height=300,
        )
    )
    poly = points(next(svg.iter("polygon")))
    # Ticks -10..0: zero is the top of the plot, so the area starts and ends there.
    assert poly[0, 1] == poly[-1, 1] == pytest.approx(MARGIN[2], abs=0.06)
    assert len(poly) == 4


def test_texts_are_escaped_and_nothing_external():
    text = line_chart(
        pd.DatetimeIndex(["2025-01-02", "2025-01-03"]),
        [Series([1.0, 2.0], '<b onclick="x">', "#000")],
        title="a & b",
        y_label="HKD",
    )
    assert "<b onclick" not in text and "&lt;b onclick=&quot;x&quot;&gt;" in text
    assert "a &amp; b" in text
    assert "http" not in text and "<script" not in text and "href" not in text
    ET.fromstring(text)  # well-formed
