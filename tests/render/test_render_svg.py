"""Inline SVG charts (tracker.render.svg): ticks, scaling, escaping, well-formed; the
numeric-x chart (markers, band, zero line) and the heatmap (cells, values, colours)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.render.heatmap import diverging_color, heatmap
from tracker.render.svg import (
    MARGIN,
    X_LABEL_SPACE,
    Band,
    Series,
    date_ticks,
    line_chart,
    nice_ticks,
    xy_chart,
)


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


# --------------------------------------------------------------------------- numeric x

DELAYS = [0, 1, 2, 5, 10, 20]


def decay(**kw):
    mean = [1.0, -1.0, 2.0, 0.5, 0.0, 1.5]
    low = [0.0, -2.0, 1.0, -0.5, -1.0, 1.0]
    high = [2.0, 0.0, 3.0, 1.5, 1.0, 2.0]
    text = xy_chart(
        DELAYS,
        [Series(mean, "mean", "#1f5fbf", markers=True)],
        bands=[Band(low, high, "min-max", "#1f5fbf")],
        title="decay",
        x_label="delay, sessions",
        y_label="pp",
        zero_line=True,
        width=1000,
        height=360,
        **kw,
    )
    return text, mean


def test_xy_chart_one_marker_per_x_proportional_to_it():
    text, mean = decay()
    svg = ET.fromstring(text)
    left, right, top, bottom = MARGIN
    pw = 1000 - left - right  # 896
    ph = 360 - top - bottom - X_LABEL_SPACE  # 302
    (points_group,) = [g for g in svg.iter("g") if g.get("class") == "points"]
    cx = np.array([float(c.get("cx")) for c in points_group.iter("circle")])
    cy = np.array([float(c.get("cy")) for c in points_group.iter("circle")])
    assert len(cx) == len(DELAYS)
    # x: 0..20 over the plot width, so delay d sits at 92 + 896 * d / 20 (5 -> 316).
    np.testing.assert_allclose(cx, [left + pw * d / 20 for d in DELAYS], atol=0.06)
    assert np.all(np.diff(cx) > 0)
    # y: the band spans -2..3, ticks of 1 from -2 to 3: v at top + ph * (3 - v) / 5.
    np.testing.assert_allclose(cy, [top + ph * (3 - v) / 5 for v in mean], atol=0.06)


def test_xy_chart_band_zero_line_ticks_and_axis_label():
    text, _ = decay()
    svg = ET.fromstring(text)
    left, right, top, bottom = MARGIN
    ph = 360 - top - bottom - X_LABEL_SPACE
    (band,) = svg.iter("polygon")
    pts = points(band)
    # Upper edge forward then lower edge back: 2 x 6 points; first x at the left edge.
    assert len(pts) == 12 and pts[0, 0] == pytest.approx(left, abs=0.06)
    # high 2 at delay 0: top + ph * (3 - 2) / 5; low 0 at delay 0 is the last point.
    assert pts[0, 1] == pytest.approx(top + ph / 5, abs=0.06)
    assert pts[-1, 1] == pytest.approx(top + ph * 3 / 5, abs=0.06)
    zero = [
        ln for ln in svg.iter("line") if ln.get("stroke") == "#888" and ln.get("y1") == ln.get("y2")
    ]
    assert [float(ln.get("y1")) for ln in zero] == [pytest.approx(top + ph * 3 / 5, abs=0.06)]
    texts = [t.text for t in svg.iter("text")]
    # nice ticks of 0..20: a step of 5.
    for label in ("0", "5", "10", "15", "20", "delay, sessions", "mean", "min-max"):
        assert label in texts


def test_xy_chart_zero_line_brings_zero_into_range():
    text = xy_chart(
        [1, 2, 4],
        [Series([5.0, 6.0, 7.0], "m", "#000", markers=True)],
        title="t",
        x_label="x",
        y_label="y",
        zero_line=True,
        height=360,
    )
    svg = ET.fromstring(text)
    left, right, top, bottom = MARGIN
    ph = 360 - top - bottom - X_LABEL_SPACE
    # 0..7: span 7 / 5 = 1.4 -> step 2, ticks 0..8; the zero line is the plot's bottom.
    (zero,) = [ln for ln in svg.iter("line") if ln.get("stroke") == "#888"]
    assert float(zero.get("y1")) == pytest.approx(top + ph, abs=0.06)
    # x from 1 to 4: 2 is a third of the way.
    cx = [float(c.get("cx")) for c in svg.iter("circle")]
    pw = 1000 - left - right
    np.testing.assert_allclose(cx[:3], [left, left + pw / 3, left + pw], atol=0.06)


# --------------------------------------------------------------------------- heatmap

RED, YELLOW, GREEN = "#d7191c", "#ffffbf", "#1a9641"  # ColorBrewer RdYlGn, 5 classes


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def greenness(color: str) -> int:
    """Green minus red: rises from the red end through yellow to the green end."""
    r, g, _ = rgb(color)
    return g - r


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        pytest.param(0.0, 5.0, YELLOW, id="zero-middle"),
        pytest.param(5.0, 5.0, GREEN, id="max-green"),
        pytest.param(-5.0, 5.0, RED, id="min-red"),
        pytest.param(9.0, 5.0, GREEN, id="beyond-clipped"),
        # half way to each end is the next ColorBrewer class exactly
        pytest.param(2.5, 5.0, "#a6d96a", id="half-up"),
        pytest.param(-2.5, 5.0, "#fdae61", id="half-down"),
        pytest.param(0.0, 0.0, YELLOW, id="no-limit"),
        pytest.param(float("nan"), 5.0, "#eeeeee", id="nan-grey"),
    ],
)
def test_diverging_color(value, limit, expected):
    assert diverging_color(value, limit) == expected


@given(
    st.floats(-100, 100, allow_nan=False),
    st.floats(-100, 100, allow_nan=False),
    st.floats(0.01, 100),
)
def test_diverging_color_is_monotone(a, b, limit):
    lo, hi = sorted((a, b))
    assert greenness(diverging_color(lo, limit)) <= greenness(diverging_color(hi, limit))
    # the side of 0 shows: red above green below 0, green above red over 0
    if lo < 0:
        assert greenness(diverging_color(lo, limit)) <= 0
    if hi > 0:
        assert greenness(diverging_color(hi, limit)) >= 0


def cells(svg) -> list[ET.Element]:
    return [g for g in svg.iter("g") if g.get("class") == "cell"]


def cell_text(g: ET.Element) -> str | None:
    t = g.find("text")
    return None if t is None else t.text


def own_format(v: float) -> str | None:
    return None if math.isnan(v) else f"{v:+.1f}"


SAMPLE = pd.DataFrame(
    [[4.0, -1.25, np.nan], [0.0, -4.0, 2.5]],
    index=pd.Index(["3", "6"]),
    columns=pd.Index(["0", "1", "2"]),
)


def test_heatmap_cells_values_and_end_colours():
    svg = ET.fromstring(
        heatmap(SAMPLE, title="t", x_label="delay", y_label="months", legend_label="pp")
    )
    got = cells(svg)
    assert len(got) == 2 * 3
    values = SAMPLE.to_numpy().ravel()  # row by row, as the cells are drawn
    assert [cell_text(g) for g in got] == [own_format(v) for v in values]
    fills = [g.find("rect").get("fill") for g in got]
    # +4 is the largest magnitude: the green end; -4 the red end; 0 the middle; NaN grey.
    assert fills[0] == GREEN and fills[4] == RED and fills[3] == YELLOW
    assert fills[2] == "#eeeeee" and got[2].find("path") is not None
    texts = [t.text for t in svg.iter("text")]
    for label in ("3", "6", "0", "1", "2", "delay", "months", "pp"):
        assert label in texts
    # the colour bar: from -4 through 0 to +4
    assert {"-4.0", "+0.0", "+4.0"} <= set(texts)


tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 6).flatmap(
        lambda c: st.lists(
            st.one_of(st.floats(-500, 500, allow_nan=False), st.just(float("nan"))),
            min_size=r * c,
            max_size=r * c,
        ).map(lambda v: pd.DataFrame(np.array(v).reshape(r, c)))
    )
)


@given(tables)
def test_heatmap_property_cells_numbers_and_colour_order(table):
    table.index = [f"r{i}" for i in range(len(table))]
    table.columns = [f"c{j}" for j in range(table.shape[1])]
    text = heatmap(table, title="t", x_label="x", y_label="y")
    svg = ET.fromstring(text)
    got = cells(svg)
    values = table.to_numpy().ravel()
    assert len(got) == table.size
    assert [cell_text(g) for g in got] == [own_format(v) for v in values]
    fills = [g.find("rect").get("fill") for g in got]
    finite = [(v, f) for v, f in zip(values, fills, strict=True) if not math.isnan(v)]
    for (v1, f1), (v2, f2) in zip(sorted(finite), sorted(finite)[1:], strict=False):
        assert greenness(f1) <= greenness(f2), (v1, v2)
    assert all(f == "#eeeeee" for v, f in zip(values, fills, strict=True) if math.isnan(v))
    assert all(f == YELLOW for v, f in finite if v == 0)
    if finite:
        # the largest magnitude reaches its end of the scale
        v, f = max(finite, key=lambda p: abs(p[0]))
        if v != 0:
            assert f == (GREEN if v > 0 else RED)


def test_heatmap_labels_escaped_and_nothing_external():
    evil = '<b onclick="x">&\'q'
    short = "<&\"'c"  # a column label short enough not to be cut
    table = pd.DataFrame([[1.0, -1.0]], index=[evil], columns=[short, "ok"])
    text = heatmap(table, title=evil, x_label=evil, y_label=evil, legend_label=evil)
    assert "<b onclick" not in text
    svg = ET.fromstring(text)  # well-formed
    texts = {t.text for t in svg.iter("text")}
    # parsing undoes the escaping: the labels come back as given
    assert {evil, short} <= texts
    assert svg.find("title").text == evil
    for bad in ("http", "<script", "href", "xmlns", " id="):
        assert bad not in text


def test_heatmap_long_labels_cut_with_full_text_in_title():
    long_row = "sizing.max_positions=" + "9" * 60
    long_col = "column " * 30
    table = pd.DataFrame([[1.0]], index=[long_row], columns=[long_col])
    svg = ET.fromstring(heatmap(table, title="t", x_label="x", y_label="y"))
    cut = [t for t in svg.iter("text") if t.find("title") is not None]
    assert len(cut) == 2
    for t in cut:
        full = t.find("title").text
        assert t.text.endswith("…") and full.startswith(t.text[:-1])
        assert len(t.text) < len(full)
    assert {t.find("title").text for t in cut} == {long_row, long_col}


def test_heatmap_size_follows_rows_columns_and_labels():
    def size(table):
        svg = ET.fromstring(heatmap(table, title="t", x_label="x", y_label="y"))
        first = cells(svg)[0].find("rect")
        return float(svg.get("width")), float(svg.get("height")), float(first.get("x"))

    base = pd.DataFrame(np.ones((2, 8)), index=["a", "b"])
    wider = pd.DataFrame(np.ones((2, 16)), index=["a", "b"])
    taller = pd.DataFrame(np.ones((6, 8)), index=list("abcdef"))
    labelled = pd.DataFrame(np.ones((2, 8)), index=["a long row label", "b"])
    w, h, x = size(base)
    assert size(wider)[0] > w and size(taller)[1] > h
    assert size(labelled)[2] > x  # the grid moves right of longer row labels
    # a value wider than a cell widens the cells
    big = pd.DataFrame(np.full((2, 8), 123456789.0), index=["a", "b"])
    assert size(big)[0] > w


def test_heatmap_all_missing_has_no_numbers_and_no_colour_bar():
    table = pd.DataFrame([[np.nan, np.nan]], index=["r"], columns=["a", "b"])
    svg = ET.fromstring(heatmap(table, title="t", x_label="x", y_label="y"))
    assert [cell_text(g) for g in cells(svg)] == [None, None]
    # no colour bar: the only rects are the two cells
    assert len(list(svg.iter("rect"))) == 2


@pytest.mark.parametrize(
    ("values", "corner"),
    [
        # falling from the top left to the bottom right: the upper right is free
        pytest.param([10.0, 5.0, 0.0], ("right", "upper"), id="falling"),
        # rising: the upper left is free (and first)
        pytest.param([0.0, 5.0, 10.0], ("left", "upper"), id="rising"),
        # a V: both upper corners are crossed, the lower left is free
        pytest.param([10.0, 0.0, 10.0], ("left", "lower"), id="vee"),
    ],
)
def test_xy_chart_best_legend_avoids_the_lines(values, corner):
    svg = ET.fromstring(
        xy_chart([0, 1, 2], [Series(values, "line", "#000")], title="t", x_label="x", y_label="y")
    )
    left, right, top, bottom = MARGIN
    pw, ph = 1000 - left - right, 360 - top - bottom - X_LABEL_SPACE
    (box,) = [r for r in svg.iter("rect") if r.get("fill") == "#fff"]
    x, y = float(box.get("x")), float(box.get("y"))
    assert (x > left + pw / 2) == (corner[0] == "right")
    assert (y > top + ph / 2) == (corner[1] == "lower")
