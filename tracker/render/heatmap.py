"""A table of numbers as an inline SVG heatmap: coloured cells on a diverging scale around
0 (:func:`diverging_color`), values written in the cells (a sweep's excess return over two
fields), row and column labels, a colour bar.

Like :mod:`tracker.render.svg`: no ``xmlns``, no script, no external reference, no ``id``,
and every text escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

import numpy as np
import pandas as pd

from tracker.render.formats import display_width
from tracker.render.svg import CHAR_PX, FONT

#: The diverging scale from red (-limit) through yellow (0) to green (+limit): the five
#: classes of ColorBrewer's RdYlGn, interpolated linearly in RGB between them.
DIVERGING = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
#: Fill of a cell without a value (hatched over).
EMPTY = "#eeeeee"


def diverging_color(value: float, limit: float) -> str:
    """The colour of ``value`` on the :data:`DIVERGING` scale symmetric around 0.

    Parameters
    ----------
    value
        The number to colour; NaN gives :data:`EMPTY`.
    limit
        The magnitude at the ends: ``-limit`` is red, 0 yellow, ``+limit`` green;
        values beyond are clipped. 0 (nothing to scale by) gives the middle colour.

    Returns
    -------
    str
        ``#rrggbb``. Along the scale, green minus red grows with the value.
    """
    if not math.isfinite(value):
        return EMPTY
    t = max(-1.0, min(1.0, value / limit)) if limit > 0 and math.isfinite(limit) else 0.0
    pos = (t + 1) / 2 * (len(DIVERGING) - 1)
    k = min(int(pos), len(DIVERGING) - 2)
    frac = pos - k
    a, b = _rgb(DIVERGING[k]), _rgb(DIVERGING[k + 1])
    return "#" + "".join(f"{round(p + (q - p) * frac):02x}" for p, q in zip(a, b, strict=True))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _text_px(text: str) -> float:
    return CHAR_PX * display_width(text)


def _fit(text: str, px: float) -> str:
    """``text``, cut and ended with … if wider than ``px``."""
    if _text_px(text) <= px:
        return text
    while text and _text_px(text + "…") > px:
        text = text[:-1]
    return text + "…"


def _label(text: str, px: float, attrs: str) -> str:
    """A ``<text>`` fitted to ``px``; when cut, the full text is its ``<title>``."""
    shown = _fit(text, px)
    full = f"<title>{escape(text)}</title>" if shown != text else ""
    return f"<text {attrs}>{escape(shown)}{full}</text>"


def _hatch(x: float, y: float, w: float, h: float, step: float = 6.0) -> str:
    """Path data of diagonal lines (``u + v = c``) across a rectangle, ``step`` px apart."""
    parts = []
    c = x + y + step
    while c < x + w + y + h:
        u0, u1 = max(x, c - (y + h)), min(x + w, c - y)
        parts.append(f"M{u0:.1f},{c - u0:.1f}L{u1:.1f},{c - u1:.1f}")
        c += step
    return "".join(parts)


def heatmap(
    table: pd.DataFrame,
    *,
    title: str,
    x_label: str,
    y_label: str,
    value_format: Callable[[float], str] = lambda v: f"{v:+.1f}",
    legend_label: str = "",
    cell_height: int = 30,
    max_label_px: int = 180,
) -> str:
    """An SVG heatmap of a table of numbers: one cell per row and column.

    Each cell is coloured by :func:`diverging_color` with the largest magnitude in the
    table as the limit (so 0 is yellow whatever the signs) and shows its value; a NaN
    cell is grey, hatched, without a number. Row labels are on the left, column labels
    below, then the axis labels and a colour bar from ``-limit`` through 0 to
    ``+limit``. Cells are as wide as their values and column labels need (within
    bounds); a longer label is cut with … and keeps its full text in a ``<title>``.

    Parameters
    ----------
    table
        Floats; its index gives the rows, its columns the columns (any labels, shown
        as text).
    title
        Accessible name of the chart (its ``<title>``).
    x_label, y_label
        What the columns and the rows are.
    value_format
        Text of a value, in the cells and on the colour bar.
    legend_label
        What the values are, beside the colour bar.
    cell_height, max_label_px
        Height of a row, px; widest row label before it is cut, px.

    Returns
    -------
    str
        ``<svg ...>...</svg>``.
    """
    values = table.to_numpy(dtype=float)
    rows = [str(r) for r in table.index]
    cols = [str(c) for c in table.columns]
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else 0.0
    texts = [[value_format(v) if math.isfinite(v) else "" for v in row] for row in values]
    widest = max([_text_px(t) for row in texts for t in row] + [0.0])
    cw = math.ceil(min(max(60.0, widest + 16, max(map(_text_px, cols), default=0) + 12), 140))
    ch = cell_height
    row_px = min(max(map(_text_px, rows), default=0.0), max_label_px)
    gw, gh = cw * len(cols), ch * len(rows)
    # Room for the axis labels when the grid is smaller than they are long.
    left = math.ceil(24 + row_px + 10)
    top = math.ceil(8 + max(0.0, (_text_px(y_label) - gh) / 2))
    x_mid = left + max(gw, _text_px(x_label)) / 2
    bar_w, bar_y = 200, top + gh + 58
    legend_w = bar_w + 10 + _text_px(legend_label) + _text_px(value_format(limit)) / 2
    width = math.ceil(left + max(gw, 2 * (x_mid - left), legend_w if limit > 0 else 0) + 16)
    height = bar_y + (40 if limit > 0 else 0)
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" style="max-width:100%;height:auto;{FONT}">',
        f"<title>{escape(title)}</title>",
    ]
    out.extend(_cells(table, texts, (left, top, cw, ch), limit, (x_label, y_label)))
    for i, r in enumerate(rows):
        attrs = f'x="{left - 8}" y="{top + i * ch + ch / 2 + 4}" text-anchor="end"'
        out.append(_label(r, max_label_px, attrs))
    for j, c in enumerate(cols):
        attrs = f'x="{left + j * cw + cw / 2}" y="{top + gh + 16}" text-anchor="middle"'
        out.append(_label(c, cw - 6, attrs))
    out.append(
        f'<text x="{x_mid}" y="{top + gh + 38}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(14 {top + gh / 2}) rotate(-90)"'
        f' text-anchor="middle">{escape(y_label)}</text>'
    )
    if limit > 0:
        out.extend(_color_bar(left, bar_y, bar_w, limit, value_format, legend_label))
    out.append("</svg>")
    return "".join(out)


def _cells(
    table: pd.DataFrame,
    texts: list[list[str]],
    grid: tuple[int, int, int, int],
    limit: float,
    labels: tuple[str, str],
) -> list[str]:
    """The heatmap's cells, each a ``<g class="cell">``: a tooltip naming the row, column
    and value, the coloured rectangle, and the value's text (hatching when NaN)."""
    left, top, cw, ch = grid
    x_label, y_label = labels
    values = table.to_numpy(dtype=float)
    out = []
    for i, r in enumerate(table.index):
        for j, c in enumerate(table.columns):
            x, y, text = left + j * cw, top + i * ch, texts[i][j]
            tip = f"{y_label} = {r}, {x_label} = {c}: {text or 'no value'}"
            cell = (
                f'<g class="cell"><title>{escape(tip)}</title><rect x="{x}" y="{y}"'
                f' width="{cw}" height="{ch}" fill="{diverging_color(values[i, j], limit)}"'
                ' stroke="#fff"/>'
            )
            if text:
                cell += (
                    f'<text x="{x + cw / 2}" y="{y + ch / 2 + 4}" text-anchor="middle">'
                    f"{escape(text)}</text>"
                )
            else:
                cell += f'<path d="{_hatch(x, y, cw, ch)}" stroke="#bbb"/>'
            out.append(cell + "</g>")
    return out


def _color_bar(
    x: float, y: float, w: float, limit: float, fmt: Callable[[float], str], label: str
) -> list[str]:
    """The heatmap's legend: the scale from ``-limit`` to ``+limit`` in 40 steps, with the
    ends and 0 written under it and ``label`` beside it."""
    steps = 40
    out = [
        f'<rect x="{x + w * k / steps:.1f}" y="{y}" width="{w / steps + 0.3:.1f}" height="12"'
        f' fill="{diverging_color(limit * (2 * k + 1 - steps) / steps, limit)}"/>'
        for k in range(steps)
    ]
    for v, at in ((-limit, 0.0), (0.0, 0.5), (limit, 1.0)):
        out.append(
            f'<text x="{x + w * at:.1f}" y="{y + 28}" text-anchor="middle">{escape(fmt(v))}</text>'
        )
    out.append(f'<text x="{x + w + 10}" y="{y + 10}">{escape(label)}</text>')
    return out
