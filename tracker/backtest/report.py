"""The run's ``report.html``: one self-contained file (inline CSS, inline SVG charts).

It opens in a browser from disk with no server, no script and no request to
the internet. Charts are SVG text built from the data (:mod:`tracker.render.svg`):
crisp at any zoom and no plotting library to import; jinja2 is imported inside
the functions.
The page is a template of :mod:`tracker.render` (``backtest_report.html.j2``).
"""

from __future__ import annotations

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


def charts(equity: pd.DataFrame, benchmark_name: str) -> tuple[str, str]:
    """The equity and drawdown charts as inline SVG (:func:`tracker.render.svg.line_chart`).

    Equity: the portfolio's value and the benchmark's buy and hold, HKD. Drawdown: the
    portfolio's as a filled area, the benchmark's as a line, in percent.
    """
    from tracker.render.svg import Series, line_chart

    idx = pd.DatetimeIndex(equity.index)
    equity_svg = line_chart(
        idx,
        [
            Series(equity["portfolio"].to_numpy(), "portfolio", "#1f5fbf", 1.6),
            Series(equity["benchmark"].to_numpy(), f"{benchmark_name} buy and hold", "#888", 1.2),
        ],
        title="equity versus benchmark",
        y_label="HKD",
        height=400,
    )
    dd_p = 100 * drawdown(equity["portfolio"])
    dd_b = 100 * drawdown(equity["benchmark"])
    drawdown_svg = line_chart(
        idx,
        [
            Series(dd_p.to_numpy(), "portfolio", "#b3261e", fill_to_zero=True, opacity=0.35),
            Series(dd_b.to_numpy(), benchmark_name, "#555", 1.0),
        ],
        title="drawdown",
        y_label="drawdown, %",
        y_format=lambda v: f"{v:g}",
        height=280,
        legend="lower left",
    )
    return equity_svg, drawdown_svg


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

    equity_svg, drawdown_svg = charts(equity, spec.benchmark)
    from tracker.redact import public, without_local_paths

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
        equity_svg=equity_svg,
        drawdown_svg=drawdown_svg,
        costs=[(k, v) for k, v in costs.items() if k != "total"]
        + [("total", costs.get("total", 0.0))],
        n_traded=int((trades["status"] != "skipped").sum()),
        n_skipped=int((trades["status"] == "skipped").sum()),
        trade_cols=_TRADE_COLS,
        trade_rows=trade_rows(trades),
        exit_text=_exit_text(spec.exit),
        sizing_text=_sizing_text(spec.sizing),
        manifest_rows=[
            (k, public(jsonable(manifest.get(k), keep_time=True))) for k in _MANIFEST_SHOWN
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
