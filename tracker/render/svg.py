"""Small charts as inline SVG text: crisp at any zoom, a few kilobytes, no import cost.

- :func:`line_chart`: lines (and areas filled down to zero) over dates, a y axis
  with round ticks, a date axis, a legend (the backtest report's equity and
  drawdown);
- :func:`xy_chart`: the same over a numeric x (unevenly spaced values), with
  markers on the points, shaded bands and a zero line (a sweep's decay curve).

Heatmaps are in :mod:`tracker.render.heatmap`.

The SVG is meant to sit inside an HTML page (no ``xmlns``, no script, no
external reference, no ``id``), and every text in it is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from tracker.render.formats import display_width

#: Margins of the plot area inside the chart, px: left (y labels), right, top, bottom.
MARGIN = (92, 12, 12, 28)
#: Extra bottom margin, px, for the x-axis label of :func:`xy_chart`.
X_LABEL_SPACE = 18
FONT = "font-family:sans-serif;font-size:12px"
#: Width of one character column of ``FONT``, px, to size boxes around text (CJK: two).
CHAR_PX = 7.2


@dataclass(frozen=True)
class Series:
    """One line of a chart: values aligned with the chart's dates (NaN: no point)."""

    values: Sequence[float]
    label: str
    color: str
    width: float = 1.5
    fill_to_zero: bool = False  # an area between the line and 0 instead of a line
    opacity: float = 1.0
    markers: bool = False  # a dot on each point


@dataclass(frozen=True)
class Band:
    """A shaded area between ``low`` and ``high``, aligned with the chart's x (a point
    where either is NaN is left out)."""

    low: Sequence[float]
    high: Sequence[float]
    label: str
    color: str
    opacity: float = 0.15


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Round tick values covering ``[lo, hi]``: a step of 1, 2, 2.5 or 5 times a power of
    ten, about ``n`` steps over the range."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.array([0.0])
    if hi <= lo:
        pad = abs(lo) * 0.01 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-12))
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    return first + step * np.arange(round((last - first) / step) + 1)


def date_ticks(start: pd.Timestamp, end: pd.Timestamp, most: int = 8) -> list[pd.Timestamp]:
    """Month starts (or year starts over a long span) between ``start`` and ``end``,
    thinned to at most ``most``."""
    years = end.year - start.year
    if years >= 3:
        marks = [pd.Timestamp(y, 1, 1) for y in range(start.year, end.year + 1)]
    else:
        marks = list(pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS"))
    marks = [m for m in marks if start <= m <= end]
    every = max(1, math.ceil(len(marks) / most))
    return marks[::every]


def _fmt_date(d: pd.Timestamp, yearly: bool) -> str:
    return f"{d.year}" if yearly else f"{d.year}-{d.month:02d}"


def line_chart(
    dates: pd.DatetimeIndex,
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    y_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    width: int = 1000,
    height: int = 400,
    legend: str = "upper left",
) -> str:
    """An SVG chart of ``series`` over ``dates`` (x by calendar date, like matplotlib).

    Parameters
    ----------
    dates
        The x values, ascending.
    series
        Lines or filled areas, each aligned with ``dates``.
    title
        Accessible name of the chart (its ``<title>``).
    y_label, y_format
        Label of the y axis and format of its tick values.
    width, height
        Size in px (the chart scales to the page width).
    legend
        ``"upper left"``, ``"lower left"``, ``"upper right"`` or ``"lower right"``.

    Returns
    -------
    str
        ``<svg ...>...</svg>``.
    """
    days = (pd.DatetimeIndex(dates) - dates[0]).days.to_numpy(dtype=float)
    x_ticks: list[tuple[float, str]] = []
    if len(dates):
        yearly = dates[-1].year - dates[0].year >= 3
        x_ticks = [
            (float((d - dates[0]).days), _fmt_date(d, yearly))
            for d in date_ticks(dates[0], dates[-1])
        ]
    return _chart(
        days,
        x_ticks,
        series,
        (),
        title=title,
        x_label="",
        y_label=y_label,
        y_format=y_format,
        size=(width, height),
        legend=legend,
        zero_line=False,
    )


def xy_chart(
    x: Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    bands: Sequence[Band] = (),
    x_format: Callable[[float], str] = lambda v: f"{v:g}",
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    zero_line: bool = False,
    width: int = 1000,
    height: int = 360,
    legend: str = "best",
) -> str:
    """An SVG chart of ``series`` (and shaded ``bands``) over a numeric ``x``.

    A point's x position is proportional to its value, so unevenly spaced values
    (0, 1, 2, 5, 10, 20) keep their distances; the plot spans ``x[0]`` to ``x[-1]``
    and the x ticks are round values inside it (:func:`nice_ticks`).

    Parameters
    ----------
    x
        The x values, ascending.
    series
        Lines (``markers=True`` puts a dot on each point) or filled areas, each
        aligned with ``x``.
    title
        Accessible name of the chart (its ``<title>``).
    x_label, y_label
        Labels of the axes.
    bands
        Shaded areas between two lines aligned with ``x`` (drawn under the lines).
    x_format, y_format
        Formats of the tick values.
    zero_line
        A horizontal line at 0 (the y range then includes 0).
    width, height
        Size in px (the chart scales to the page width). The plot area is the
        chart less :data:`MARGIN`, and less :data:`X_LABEL_SPACE` at the bottom.
    legend
        ``"upper left"``, ``"lower left"``, ``"upper right"``, ``"lower right"``, or
        ``"best"``: the corner where the legend hides least of the lines and bands.

    Returns
    -------
    str
        ``<svg ...>...</svg>``.
    """
    xs = np.asarray(x, dtype=float)
    x_ticks: list[tuple[float, str]] = []
    if len(xs):
        lo, hi = float(xs[0]), float(xs[-1])
        eps = 1e-9 * max(1.0, abs(hi - lo))
        x_ticks = [
            (float(t), x_format(float(t))) for t in nice_ticks(lo, hi) if lo - eps <= t <= hi + eps
        ]
    return _chart(
        xs - (xs[0] if len(xs) else 0.0),
        [(t - (xs[0] if len(xs) else 0.0), label) for t, label in x_ticks],
        series,
        bands,
        title=title,
        x_label=x_label,
        y_label=y_label,
        y_format=y_format,
        size=(width, height),
        legend=legend,
        zero_line=zero_line,
    )


def _chart(
    x: np.ndarray,
    x_ticks: Sequence[tuple[float, str]],
    series: Sequence[Series],
    bands: Sequence[Band],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_format: Callable[[float], str],
    size: tuple[int, int],
    legend: str,
    zero_line: bool,
) -> str:
    """The chart both :func:`line_chart` and :func:`xy_chart` draw: ``x`` ascending from
    0, ``x_ticks`` as (x, label) pairs."""
    width, height = size
    left, right, top, bottom = MARGIN
    bottom += X_LABEL_SPACE if x_label else 0
    pw, ph = width - left - right, height - top - bottom
    span = x[-1] if len(x) and x[-1] > 0 else 1.0
    values = [np.asarray(s.values, dtype=float) for s in series]
    lows = [np.asarray(b.low, dtype=float) for b in bands]
    highs = [np.asarray(b.high, dtype=float) for b in bands]
    every = np.concatenate([*values, *lows, *highs, np.array([])])
    finite = every[np.isfinite(every)]
    lo = float(finite.min()) if len(finite) else 0.0
    hi = float(finite.max()) if len(finite) else 1.0
    if zero_line or any(s.fill_to_zero for s in series):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi)
    y0, y1 = float(ticks[0]), float(ticks[-1])

    def x_of(d: np.ndarray) -> np.ndarray:
        return left + pw * d / span

    def y_of(v: np.ndarray) -> np.ndarray:
        return top + ph * (y1 - v) / (y1 - y0)

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" style="max-width:100%;height:auto;{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for t in ticks:
        y = y_of(np.array(t))
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}"'
            ' stroke="#000" stroke-opacity="0.12"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(y_format(t))}</text>'
        )
    for d, label in x_ticks:
        x_px = x_of(np.array(d, dtype=float))
        out.append(
            f'<line x1="{x_px:.1f}" x2="{x_px:.1f}" y1="{top}" y2="{top + ph}"'
            ' stroke="#000" stroke-opacity="0.12"/>'
            f'<text x="{x_px:.1f}" y="{top + ph + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    out.append(
        f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)"'
        f' text-anchor="middle">{escape(y_label)}</text>'
    )
    if x_label:
        out.append(
            f'<text x="{left + pw / 2:.1f}" y="{top + ph + 36}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
        )
    drawn = []  # (x, top y, bottom y) in px of what is drawn, to keep the legend off it
    for b, low, high in zip(bands, lows, highs, strict=True):
        ok = np.isfinite(low) & np.isfinite(high)
        xs, ys_high, ys_low = x_of(x[ok]), y_of(high[ok]), y_of(low[ok])
        upper = zip(xs, ys_high, strict=True)
        lower = zip(xs[::-1], ys_low[::-1], strict=True)
        pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in [*upper, *lower])
        out.append(f'<polygon points="{pts}" fill="{b.color}" fill-opacity="{b.opacity}"/>')
        drawn.append((xs, np.minimum(ys_high, ys_low), np.maximum(ys_high, ys_low)))
    if zero_line:
        y = y_of(np.array(0.0))
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#888"/>')
    for s, v in zip(series, values, strict=True):
        xs, ys = x_of(x[np.isfinite(v)]), y_of(v[np.isfinite(v)])
        out.extend(_series(s, xs, ys, y_of))
        base = y_of(np.zeros_like(ys)) if s.fill_to_zero else ys
        drawn.append((xs, np.minimum(ys, base), np.maximum(ys, base)))
    out.extend(_legend([*series, *bands], (left, top, pw, ph), legend, drawn))
    out.append("</svg>")
    return "".join(out)


def _series(s: Series, xs: np.ndarray, ys: np.ndarray, y_of: Callable) -> list[str]:
    """One series' line (or area down to zero) and its markers, at px coordinates."""
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    if s.fill_to_zero and len(xs):
        base = y_of(np.array(0.0))
        pts = f"{xs[0]:.1f},{base:.1f} {pts} {xs[-1]:.1f},{base:.1f}"
        out = [f'<polygon points="{pts}" fill="{s.color}" fill-opacity="{s.opacity}"/>']
    else:
        out = [
            f'<polyline points="{pts}" fill="none" stroke="{s.color}"'
            f' stroke-width="{s.width}" stroke-opacity="{s.opacity}"/>'
        ]
    if s.markers:
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>' for x, y in zip(xs, ys, strict=True)
        )
        out.append(f'<g class="points" fill="{s.color}">{dots}</g>')
    return out


_CORNERS = ("upper left", "upper right", "lower left", "lower right")


def _corner(
    where: str, plot: tuple[int, int, int, int], box: tuple[float, int]
) -> tuple[float, float]:
    """Top-left point of a legend box of size ``box`` in the corner ``where`` of the plot."""
    left, top, pw, ph = plot
    x = left + 10 if where.endswith("left") else left + pw - 10 - round(box[0])
    y = top + 10 if where.startswith("upper") else top + ph - 10 - box[1]
    return x, y


def _emptiest_corner(plot: tuple[int, int, int, int], box: tuple[float, int], drawn) -> str:
    """The corner whose legend box would hide least of ``drawn`` ((x, top y, bottom y)
    px arrays), sampled at 200 x positions; the first of :data:`_CORNERS` on a tie."""
    left, _, pw, _ = plot
    grid = np.linspace(left, left + pw, 200)

    def hidden(where: str) -> int:
        x, y = _corner(where, plot, box)
        n = 0
        for xs, y_top, y_bottom in drawn:
            if len(xs) == 0:
                continue
            on = grid[(grid >= max(x, xs[0])) & (grid <= min(x + box[0], xs[-1]))]
            hi, lo = np.interp(on, xs, y_top), np.interp(on, xs, y_bottom)
            n += int(np.sum((hi <= y + box[1]) & (lo >= y)))
        return n

    return min(_CORNERS, key=hidden)


def _legend(
    entries: Sequence[Series | Band], plot: tuple[int, int, int, int], where: str, drawn
) -> list[str]:
    rows = len(entries)
    box_w = 24 + CHAR_PX * max(display_width(s.label) for s in entries) + 14
    box_h = 18 * rows + 8
    if where == "best":
        where = _emptiest_corner(plot, (box_w, box_h), drawn)
    x, y = _corner(where, plot, (box_w, box_h))
    out = [
        f'<rect x="{x}" y="{y}" width="{box_w:.0f}" height="{box_h}" fill="#fff"'
        ' fill-opacity="0.85" stroke="#ccc"/>'
    ]
    for k, s in enumerate(entries):
        cy = y + 13 + 18 * k
        if isinstance(s, Band) or s.fill_to_zero:
            mark = (
                f'<rect x="{x + 6}" y="{cy - 5}" width="18" height="10" fill="{s.color}"'
                f' fill-opacity="{s.opacity}"/>'
            )
        else:
            mark = (
                f'<line x1="{x + 6}" x2="{x + 24}" y1="{cy}" y2="{cy}" stroke="{s.color}"'
                f' stroke-width="{max(s.width, 2)}"/>'
            )
            if s.markers:
                mark += f'<circle cx="{x + 15}" cy="{cy}" r="3.5" fill="{s.color}"/>'
        out.append(mark + f'<text x="{x + 30}" y="{cy + 4}">{escape(s.label)}</text>')
    return out
