"""The run's ``report.html``: one self-contained file (inline CSS, PNG charts in base64).

It opens in a browser from disk with no server, no script and no request to
the internet. Charts are drawn by matplotlib's Agg backend without pyplot (no
GUI, no global state); matplotlib and jinja2 are imported inside the functions.
The page is a template of :mod:`tracker.render` (``backtest_report.html.j2``).
"""

from __future__ import annotations

import base64
import io

import pandas as pd

from tracker.backtest.stats import drawdown
from tracker.render.formats import is_missing, iso_date, jsonable, number

_TRADE_COLS = [
    "call_id",
    "ticker",
    "name",
    "rating",
    "status",
    "entry_session",
    "entry_price",
    "exit_session",
    "exit_price",
    "shares",
    "pnl_hkd",
    "return_pct",
    "exit_rule",
    "reason",
]


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(equity: pd.DataFrame, benchmark_name: str) -> tuple[str, str]:
    """The equity and drawdown charts as base64 PNG."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    idx = equity.index
    fig = Figure(figsize=(10, 4))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.96, bottom=0.08)
    ax = fig.add_subplot()
    ax.plot(idx, equity["portfolio"], label="portfolio", color="#1f5fbf", lw=1.6)
    ax.plot(idx, equity["benchmark"], label=f"{benchmark_name} buy and hold", color="#888", lw=1.2)
    ax.set_ylabel("HKD")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    equity_png = _png(fig)

    fig = Figure(figsize=(10, 2.8))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.11)
    ax = fig.add_subplot()
    dd_p = 100 * drawdown(equity["portfolio"])
    dd_b = 100 * drawdown(equity["benchmark"])
    ax.fill_between(idx, dd_p.to_numpy(), 0, color="#b3261e", alpha=0.35, label="portfolio")
    ax.plot(idx, dd_b, color="#555", lw=1, label=benchmark_name)
    ax.set_ylabel("drawdown, %")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return equity_png, _png(fig)


def render_report(
    spec,
    stats: dict,
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    costs: dict[str, float],
    manifest: dict,
    warnings: tuple[str, ...] = (),
    banner: str | None = None,
) -> str:
    """The HTML text of the report (first line is an HTML comment with ``banner`` if given).

    The page is ``tracker/render/templates/backtest_report.html.j2``; the key
    statistics are the rows ``tracker backtest run`` prints
    (:mod:`tracker.render.keystats`).
    """
    from tracker.render.html import render_page
    from tracker.render.keystats import compared_rows, portfolio_rows

    equity_png, drawdown_png = charts(equity, spec.benchmark)
    from tracker.redact import without_local_paths

    # The report is shared: no local path (spec file, a csv: source in the command).
    warnings = tuple(without_local_paths(w) for w in warnings)
    return render_page(
        "backtest_report.html.j2",
        banner=banner,
        spec=spec,
        stats={**stats, "start": iso_date(stats["start"]), "end": iso_date(stats["end"])},
        warnings=warnings,
        key_rows=compared_rows(stats),
        other_rows=portfolio_rows(stats),
        equity_png=equity_png,
        drawdown_png=drawdown_png,
        costs=[(k, v) for k, v in costs.items() if k != "total"]
        + [("total", costs.get("total", 0.0))],
        n_traded=int((trades["status"] != "skipped").sum()),
        n_skipped=int((trades["status"] == "skipped").sum()),
        trade_cols=_TRADE_COLS,
        trade_rows=trade_rows(trades),
        exit_text=_exit_text(spec.exit),
        sizing_text=_sizing_text(spec.sizing),
        manifest_rows=[
            (k, _public(jsonable(manifest.get(k), keep_time=True), without_local_paths))
            for k in _MANIFEST_SHOWN
        ],
    )


#: The manifest entries the report's "Reproduce" table shows, in order.
_MANIFEST_SHOWN = (
    "spec_file",
    "spec_sha256",
    "calls_sha256",
    "price_fingerprint",
    "as_of",
    "data_end",
    "simulated",
    "tracker_version",
    "vectorbt_version",
    "command",
    "created_utc",
)


def trade_rows(trades: pd.DataFrame) -> list[dict[str, str]]:
    """The trades of a run as text cells for the report's table, one dict per trade."""
    rows = []
    for rec in trades.to_dict(orient="records"):
        row = {}
        for c in _TRADE_COLS:
            v = rec.get(c)
            if c in ("entry_session", "exit_session"):
                v = iso_date(v)
            elif c in ("entry_price", "exit_price"):
                v = number(v, 3)
            elif c == "shares":
                v = number(v, 0) if rec["status"] != "skipped" else ""
            elif c == "pnl_hkd":
                v = number(v)
            elif c == "return_pct":
                v = number(v, 2, "%")
            elif is_missing(v):
                v = ""
            row[c] = v
        rows.append(row)
    return rows


def _exit_text(ex) -> str:
    text = ex.rule + (f" {ex.months}M" if ex.months else "")
    return text + (f", stop {ex.stop_pct:.0%}" if ex.stop_pct else "")


def _sizing_text(sz) -> str:
    return (
        f"{sz.method}"
        + (f" HKD {sz.amount_hkd:,.0f}" if sz.amount_hkd else "")
        + f", at most {sz.max_positions} open"
    )


def _public(value, redact):
    """A manifest value for the shared report: strings without local paths."""
    return redact(value) if isinstance(value, str) else value
