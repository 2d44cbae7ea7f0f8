"""A sweep's ``report.html``: the variants table, a heatmap of excess return over two
fields, and the information-decay curve (excess return against entry delay).

Self-contained like the run report (inline CSS, inline SVG charts from
:mod:`tracker.render.svg`, no script): no plotting library is imported. The page
is a template of :mod:`tracker.render` (``sweep_report.html.j2``); jinja2 is
imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tracker.render.formats import is_missing, number, pct

DELAY = "entry_delay_sessions"

_PCT = ("total_return", "excess_return", "cagr", "max_drawdown")


def heatmap_fields(fields: Sequence[str], chosen: Sequence[str] | None = None) -> tuple[str, ...]:
    """The two fields of the heatmap: ``chosen``, else the first two varied fields other
    than the entry delay (which has its own chart), else the first two varied; () when
    fewer than two fields vary."""
    if chosen:
        return tuple(chosen)
    others = [f for f in fields if f != DELAY]
    pick = others[:2] if len(others) >= 2 else list(fields[:2])
    return tuple(pick) if len(pick) == 2 else ()


def excess_table(frame: pd.DataFrame, rows: str, cols: str) -> pd.DataFrame:
    """Mean excess return of the variants for each pair of values of two fields (the
    mean over the other varied fields; NaN when no variant of the pair ran)."""
    ok = frame[frame["error"].fillna("") == ""]
    key = ok[[rows, cols]].astype(str)
    table = ok.assign(_r=key[rows], _c=key[cols]).pivot_table(
        index="_r", columns="_c", values="excess_return", aggfunc="mean", sort=False
    )
    order_r = list(dict.fromkeys(frame[rows].astype(str)))
    order_c = list(dict.fromkeys(frame[cols].astype(str)))
    return table.reindex(index=order_r, columns=order_c)


def decay_curve(frame: pd.DataFrame) -> pd.DataFrame:
    """Excess return by entry delay: ``mean``, ``min`` and ``max`` over the other fields."""
    ok = frame[frame["error"].fillna("") == ""]
    g = ok.groupby(DELAY)["excess_return"]
    return pd.DataFrame({"mean": g.mean(), "min": g.min(), "max": g.max()}).sort_index()


def heatmap_svg(table: pd.DataFrame, rows: str, cols: str) -> str:
    """The heatmap of :func:`excess_table` as inline SVG: excess return in pp per cell,
    ``rows`` down and ``cols`` across (:func:`tracker.render.heatmap.heatmap`)."""
    from tracker.render.heatmap import heatmap

    return heatmap(
        100 * table,
        title=f"excess return by {rows} and {cols}",
        x_label=cols,
        y_label=rows,
        value_format=lambda v: f"{v:+.1f}",
        legend_label="excess return, pp",
    )


def decay_svg(curve: pd.DataFrame) -> str:
    """The decay curve of :func:`decay_curve` as inline SVG: the mean excess return in pp
    against the delay, a dot per delay, the min–max band and a line at zero."""
    from tracker.render.svg import Band, Series, xy_chart

    blue = "#1f5fbf"
    return xy_chart(
        curve.index.to_numpy(dtype=float),
        [
            Series(
                100 * curve["mean"].to_numpy(),
                "mean over the other fields",
                blue,
                1.6,
                markers=True,
            )
        ],
        bands=[
            Band(
                100 * curve["min"].to_numpy(),
                100 * curve["max"].to_numpy(),
                "min–max over the other fields",
                blue,
            )
        ],
        title="excess return against entry delay",
        x_label="entry delay, sessions after the usual entry",
        y_label="excess return, pp",
        zero_line=True,
        height=320,
    )


def _cell(col: str, v: Any) -> str:
    if is_missing(v):
        return ""
    if col in _PCT:
        return pct(v)
    if col.endswith("_hkd"):
        return number(v, 0)
    if col == "sharpe":
        return number(v, 2)
    return str(v)


def render_sweep_report(
    spec,
    frame: pd.DataFrame,
    fields: Sequence[str],
    manifest: dict,
    *,
    heatmap: Sequence[str] | None = None,
    warnings: Sequence[str] = (),
    banner: str | None = None,
) -> str:
    """The HTML text of a sweep's report (:func:`tracker.backtest.sweep.variants_frame`).

    The page is ``tracker/render/templates/sweep_report.html.j2``: the heatmap
    (:func:`heatmap_svg`) when two fields vary, the decay curve (:func:`decay_svg`)
    when the entry delay takes several values, the variants and the manifest.
    """
    from tracker.backtest.runs import jsonable
    from tracker.redact import public, without_local_paths
    from tracker.render.html import render_page

    # A field given one value (``--vary exit.rule=fixed`` to allow ``exit.months``) does
    # not vary: it is no axis of the default heatmap.
    pair = heatmap_fields([f for f in fields if frame[f].nunique() > 1], heatmap)
    hm = ""
    if pair:
        hm = heatmap_svg(excess_table(frame, pair[0], pair[1]), pair[0], pair[1])
    decay = ""
    if DELAY in fields and frame[DELAY].nunique() > 1:
        decay = decay_svg(decay_curve(frame))
    columns = list(frame.columns)
    rows = [
        [_cell(c, v) for c, v in zip(columns, rec, strict=True)]
        for rec in frame.itertuples(index=False)
    ]
    keys = ("spec_file", "spec_sha256", "calls_sha256", "price_fingerprint", "as_of", "command")
    return render_page(
        "sweep_report.html.j2",
        banner=banner,
        spec=spec,
        n=len(frame),
        varied=", ".join(fields),
        # The report is shared: no local path (spec file, a csv: source in the command).
        warnings=[without_local_paths(w) for w in warnings],
        heatmap_svg=hm,
        heatmap_title=f"{pair[0]} × {pair[1]}" if pair else "",
        decay_svg=decay,
        columns=columns,
        rows=rows,
        manifest_rows=[(k, public(jsonable(manifest.get(k)))) for k in keys],
    )
