"""Small line charts as inline SVG text: crisp at any zoom, a few kilobytes, no import cost.

The backtest report draws its equity and drawdown charts with
:func:`line_chart`: lines (and areas filled down to zero) over dates, a
y axis with round ticks, a date axis, a legend. The SVG is meant to sit
inside an HTML page (no ``xmlns``, no script, no external reference), and
every text in it is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

#: Margins of the plot area inside the chart, px: left (y labels), right, top, bottom.
MARGIN = (92, 12, 12, 28)
FONT = "font-family:sans-serif;font-size:12px"


@dataclass(frozen=True)
class Series:
    """One line of a chart: values aligned with the chart's dates (NaN: no point)."""

    values: Sequence[float]
    label: str
    color: str
    width: float = 1.5
    fill_to_zero: bool = False  # an area between the line and 0 instead of a line
    opacity: float = 1.0


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
        ``"upper left"`` or ``"lower left"``.

    Returns
    -------
    str
        ``<svg ...>...</svg>``.
    """
    left, right, top, bottom = MARGIN
    pw, ph = width - left - right, height - top - bottom
    days = (pd.DatetimeIndex(dates) - dates[0]).days.to_numpy(dtype=float)
    span = days[-1] if len(days) and days[-1] > 0 else 1.0
    values = [np.asarray(s.values, dtype=float) for s in series]
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.array([])])
    lo = float(finite.min()) if len(finite) else 0.0
    hi = float(finite.max()) if len(finite) else 1.0
    if any(s.fill_to_zero for s in series):
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
    if len(dates):
        yearly = dates[-1].year - dates[0].year >= 3
        for d in date_ticks(dates[0], dates[-1]):
            x = x_of(np.array((d - dates[0]).days, dtype=float))
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}"'
                ' stroke="#000" stroke-opacity="0.12"/>'
                f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">'
                f"{_fmt_date(d, yearly)}</text>"
            )
    out.append(
        f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)"'
        f' text-anchor="middle">{escape(y_label)}</text>'
    )
    for s, v in zip(series, values, strict=True):
        ok = np.isfinite(v)
        xs, ys = x_of(days[ok]), y_of(v[ok])
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        if s.fill_to_zero and ok.any():
            base = y_of(np.array(0.0))
            pts = f"{xs[0]:.1f},{base:.1f} {pts} {xs[-1]:.1f},{base:.1f}"
            out.append(f'<polygon points="{pts}" fill="{s.color}" fill-opacity="{s.opacity}"/>')
        else:
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{s.color}"'
                f' stroke-width="{s.width}" stroke-opacity="{s.opacity}"/>'
            )
    out.extend(_legend(series, left, top, ph, legend))
    out.append("</svg>")
    return "".join(out)


def _legend(series: Sequence[Series], left: int, top: int, ph: int, where: str) -> list[str]:
    rows = len(series)
    box_w = 24 + 7.2 * max(len(s.label) for s in series) + 14
    box_h = 18 * rows + 8
    x = left + 10
    y = top + 10 if where == "upper left" else top + ph - 10 - box_h
    out = [
        f'<rect x="{x}" y="{y}" width="{box_w:.0f}" height="{box_h}" fill="#fff"'
        ' fill-opacity="0.85" stroke="#ccc"/>'
    ]
    for k, s in enumerate(series):
        cy = y + 13 + 18 * k
        if s.fill_to_zero:
            mark = (
                f'<rect x="{x + 6}" y="{cy - 5}" width="18" height="10" fill="{s.color}"'
                f' fill-opacity="{s.opacity}"/>'
            )
        else:
            mark = (
                f'<line x1="{x + 6}" x2="{x + 24}" y1="{cy}" y2="{cy}" stroke="{s.color}"'
                f' stroke-width="{max(s.width, 2)}"/>'
            )
        out.append(mark + f'<text x="{x + 30}" y="{cy + 4}">{escape(s.label)}</text>')
    return out
