"""A sweep's ``report.html``: the variants table, a heatmap of excess return over two
fields, and the information-decay curve (excess return against entry delay).

Self-contained like the run report (inline CSS, PNG charts in base64, no
script). Charts are small Agg figures drawn only here; matplotlib and jinja2
are imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

DELAY = "entry_delay_sessions"

_TEMPLATE = """{% if banner %}<!-- {{ banner }} -->
{% endif %}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sweep {{ spec.name }}</title>
<style>
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #1d1d1f; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; font-size: 1.2em; }
.muted { color: #666; } .banner { background: #fff3cd; border: 1px solid #e0b400;
       padding: .6em 1em; font-weight: bold; margin: 1em 0; }
.warn { background: #f6f6f6; border-left: 4px solid #999; padding: .3em .8em; margin: .2em 0; }
table { border-collapse: collapse; margin: .5em 0; font-size: 12px; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #fafafa; } img { max-width: 100%; } code { font-size: 90%; }
</style>
</head>
<body>
{% if banner %}<div class="banner">{{ banner }}</div>{% endif %}
<h1>{{ spec.name }}: sweep of {{ n }} variants</h1>
<p class="muted">{{ spec.description }}</p>
<p>varied: {{ varied }} · benchmark {{ spec.benchmark }} ·
capital HKD {{ "{:,.0f}".format(spec.capital_hkd) }}</p>
{% for w in warnings %}<div class="warn">{{ w }}</div>{% endfor %}
{% if heatmap_png %}<h2>Excess return: {{ heatmap_title }}</h2>
<img alt="heatmap of excess return" src="data:image/png;base64,{{ heatmap_png }}">{% endif %}
{% if decay_png %}<h2>Information decay: excess return against entry delay</h2>
<img alt="excess return against entry delay" src="data:image/png;base64,{{ decay_png }}">{% endif %}
<h2>Variants</h2>
<table>
<tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Reproduce</h2>
<table>
{% for k, v in manifest_rows %}<tr><td>{{ k }}</td><td><code>{{ v }}</code></td></tr>
{% endfor %}</table>
</body>
</html>
"""

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


def _png(fig) -> str:
    """A matplotlib figure as base64 PNG (Agg canvas, no pyplot)."""
    import base64
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def heatmap_png(table: pd.DataFrame, rows: str, cols: str) -> str:
    from matplotlib.figure import Figure

    values = 100 * table.to_numpy(dtype=float)
    fig = Figure(figsize=(1.2 + 0.9 * max(3, values.shape[1]), 1.0 + 0.45 * max(3, len(table))))
    ax = fig.add_subplot()
    lim = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    im = ax.imshow(values, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(len(table)), [str(r) for r in table.index])
    ax.set_xlabel(cols)
    ax.set_ylabel(rows)
    for (i, j), v in np.ndenumerate(values):
        if math.isfinite(v):
            ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="excess return, pp")
    fig.tight_layout()
    return _png(fig)


def decay_png(curve: pd.DataFrame) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    x = curve.index.to_numpy(dtype=float)
    ax.fill_between(x, 100 * curve["min"], 100 * curve["max"], color="#1f5fbf", alpha=0.15)
    ax.plot(x, 100 * curve["mean"], marker="o", color="#1f5fbf", lw=1.6)
    ax.axhline(0, color="#888", lw=0.8)
    ax.set_xlabel("entry delay, sessions after the usual entry")
    ax.set_ylabel("excess return, pp")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _cell(col: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if col in _PCT:
        return f"{100 * v:,.2f}%"
    if col.endswith("_hkd"):
        return f"{v:,.0f}"
    if col == "sharpe":
        return f"{v:.2f}"
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
    """The HTML text of a sweep's report (:func:`tracker.backtest.sweep.variants_frame`)."""
    import jinja2

    from tracker.backtest.runs import jsonable

    pair = heatmap_fields(fields, heatmap)
    hm = ""
    if pair:
        hm = heatmap_png(excess_table(frame, pair[0], pair[1]), pair[0], pair[1])
    decay = ""
    if DELAY in fields and frame[DELAY].nunique() > 1:
        decay = decay_png(decay_curve(frame))
    columns = list(frame.columns)
    rows = [
        [_cell(c, v) for c, v in zip(columns, rec, strict=True)]
        for rec in frame.itertuples(index=False)
    ]
    keys = ("spec_file", "spec_sha256", "calls_sha256", "price_fingerprint", "as_of", "command")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        banner=banner,
        spec=spec,
        n=len(frame),
        varied=", ".join(fields),
        warnings=list(warnings),
        heatmap_png=hm,
        heatmap_title=f"{pair[0]} × {pair[1]}" if pair else "",
        decay_png=decay,
        columns=columns,
        rows=rows,
        manifest_rows=[(k, jsonable(manifest.get(k))) for k in keys],
    )
