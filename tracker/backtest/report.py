"""The run's ``report.html``: one self-contained file (inline CSS, PNG charts in base64).

It opens in a browser from disk with no server, no script and no request to
the internet. Charts are drawn by matplotlib's Agg backend without pyplot (no
GUI, no global state); matplotlib and jinja2 are imported inside the functions.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import pandas as pd

from tracker.backtest.stats import drawdown

_TEMPLATE = """{% if banner %}<!-- {{ banner }} -->
{% endif %}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backtest {{ spec.name }}</title>
<style>
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #1d1d1f; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; font-size: 1.2em; }
.muted { color: #666; } .banner { background: #fff3cd; border: 1px solid #e0b400;
       padding: .6em 1em; font-weight: bold; margin: 1em 0; }
.warn { background: #f6f6f6; border-left: 4px solid #999; padding: .3em .8em; margin: .2em 0; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #fafafa; } td.l, th.l { text-align: left; }
tr.skipped td { color: #888; } .pos { color: #0a7d32; } .neg { color: #b3261e; }
img { max-width: 100%; } code { font-size: 90%; }
.trades { font-size: 12px; }
</style>
</head>
<body>
{% if banner %}<div class="banner">{{ banner }}</div>{% endif %}
<h1>{{ spec.name }}</h1>
<p class="muted">{{ spec.description }}</p>
<p>{{ stats.start }} → {{ stats.end }} ({{ stats.sessions }} sessions) ·
capital HKD {{ "{:,.0f}".format(spec.capital_hkd) }} · benchmark {{ spec.benchmark }} ·
entry {{ spec.entry }} · exit {{ exit_text }} · sizing {{ sizing_text }} ·
board lots {{ "on" if spec.board_lots else "off" }} · costs {{ "on" if spec.costs.enabled else "off" }}</p>
{% for w in warnings %}<div class="warn">{{ w }}</div>{% endfor %}

<h2>Key statistics</h2>
<table>
<tr><th class="l"></th><th>Portfolio</th><th>Benchmark</th></tr>
{% for label, a, b in key_rows %}<tr><td class="l">{{ label }}</td><td>{{ a }}</td><td>{{ b }}</td></tr>
{% endfor %}</table>
<table>
{% for label, a in other_rows %}<tr><td class="l">{{ label }}</td><td>{{ a }}</td></tr>
{% endfor %}</table>

<h2>Equity versus benchmark</h2>
<img alt="equity versus benchmark" src="data:image/png;base64,{{ equity_png }}">
<h2>Drawdown</h2>
<img alt="drawdown" src="data:image/png;base64,{{ drawdown_png }}">

<h2>Costs paid</h2>
<table>
{% for name, v in costs %}<tr><td class="l">{{ name }}</td><td>HKD {{ "{:,.2f}".format(v) }}</td></tr>
{% endfor %}</table>

<h2>Trades ({{ n_traded }} traded, {{ n_skipped }} skipped)</h2>
<table class="trades">
<tr>{% for c in trade_cols %}<th class="l">{{ c }}</th>{% endfor %}</tr>
{% for row in trade_rows %}<tr class="{{ row.status }}">{% for c in trade_cols %}<td class="l">{{ row[c] }}</td>{% endfor %}</tr>
{% endfor %}</table>

<h2>Reproduce</h2>
<table>
{% for k, v in manifest_rows %}<tr><td class="l">{{ k }}</td><td class="l"><code>{{ v }}</code></td></tr>
{% endfor %}</table>
</body>
</html>
"""

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


def _pct(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:,.2f}%"


def _num(x: Any, fmt: str = "{:,.2f}") -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _date(x: Any) -> str:
    if x is None or x is pd.NaT or (isinstance(x, float) and math.isnan(x)):
        return ""
    return pd.Timestamp(x).date().isoformat()


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
    """The HTML text of the report (first line is an HTML comment with ``banner`` if given)."""
    import jinja2

    b = stats["benchmark"]
    key_rows = [
        (
            "Final equity (HKD)",
            _num(stats["final_equity_hkd"], "{:,.0f}"),
            _num(b["final_equity_hkd"], "{:,.0f}"),
        ),
        ("Total return", _pct(stats["total_return"]), _pct(b["total_return"])),
        ("CAGR", _pct(stats["cagr"]), _pct(b["cagr"])),
        ("Annual volatility", _pct(stats["annual_volatility"]), _pct(b["annual_volatility"])),
        ("Sharpe", _num(stats["sharpe"]), _num(b["sharpe"])),
        ("Sortino", _num(stats["sortino"]), _num(b["sortino"])),
        ("Max drawdown", _pct(stats["max_drawdown"]), _pct(b["max_drawdown"])),
        (
            "  peak → trough",
            f"{_date(stats['max_drawdown_peak'])} → {_date(stats['max_drawdown_trough'])}",
            f"{_date(b['max_drawdown_peak'])} → {_date(b['max_drawdown_trough'])}",
        ),
        (
            "  recovered",
            _date(stats["max_drawdown_recovery"]) or "not yet",
            _date(b["max_drawdown_recovery"]) or "not yet",
        ),
        ("Calmar", _num(stats["calmar"]), _num(b["calmar"])),
    ]
    other_rows = [
        ("Excess return over the benchmark", _pct(stats["excess_return"])),
        ("Beta", _num(stats["beta"])),
        ("Alpha (annualised)", _pct(stats["alpha"])),
        ("Tracking error", _pct(stats["tracking_error"])),
        ("Information ratio", _num(stats["information_ratio"])),
        ("Trades (open at end)", f"{stats['trades']} ({stats['trades_open_at_end']})"),
        ("Calls skipped", str(stats["calls_skipped"])),
        ("Win rate", _pct(stats["win_rate"])),
        ("Turnover (per year)", _num(stats["turnover"], "{:,.2f}×")),
        ("Average exposure", _pct(stats["average_exposure"])),
        ("Costs paid (HKD)", _num(stats["costs_paid_hkd"])),
    ]
    equity_png, drawdown_png = charts(equity, spec.benchmark)
    rows = []
    for rec in trades.to_dict(orient="records"):
        row = {}
        for c in _TRADE_COLS:
            v = rec.get(c)
            if c in ("entry_session", "exit_session"):
                v = _date(v)
            elif c in ("entry_price", "exit_price"):
                v = _num(v, "{:,.3f}")
            elif c == "shares":
                v = _num(v, "{:,.0f}") if rec["status"] != "skipped" else ""
            elif c in ("pnl_hkd",):
                v = _num(v)
            elif c == "return_pct":
                v = _num(v, "{:,.2f}%")
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                v = ""
            row[c] = v
        rows.append(row)
    ex = spec.exit
    exit_text = ex.rule + (f" {ex.months}M" if ex.months else "")
    sz = spec.sizing
    sizing_text = (
        f"{sz.method}"
        + (f" HKD {sz.amount_hkd:,.0f}" if sz.amount_hkd else "")
        + f", at most {sz.max_positions} open"
    )
    from tracker.backtest.runs import jsonable
    from tracker.redact import without_local_paths

    # The report is shared: no local path (spec file, a csv: source in the command).
    warnings = tuple(without_local_paths(w) for w in warnings)
    manifest_rows = [
        (k, _public(jsonable(manifest.get(k)), without_local_paths))
        for k in (
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
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE).render(
        banner=banner,
        spec=spec,
        stats={**stats, "start": _date(stats["start"]), "end": _date(stats["end"])},
        warnings=warnings,
        key_rows=key_rows,
        other_rows=other_rows,
        equity_png=equity_png,
        drawdown_png=drawdown_png,
        costs=[(k, v) for k, v in costs.items() if k != "total"]
        + [("total", costs.get("total", 0.0))],
        n_traded=int((trades["status"] != "skipped").sum()),
        n_skipped=int((trades["status"] == "skipped").sum()),
        trade_cols=_TRADE_COLS,
        trade_rows=rows,
        exit_text=exit_text,
        sizing_text=sizing_text,
        manifest_rows=manifest_rows,
    )


def _public(value, redact):
    """A manifest value for the shared report: strings without local paths."""
    return redact(value) if isinstance(value, str) else value
