"""A backtest's key statistics as rows of text: built once, shown by the CLI and the report."""

from __future__ import annotations

from typing import Any

from tracker.render.formats import iso_date, number, pct

#: One row: label, the portfolio's value, the benchmark's value ("" when not compared).
KeyStatRow = tuple[str, str, str]


def key_stat_rows(stats: dict[str, Any]) -> list[KeyStatRow]:
    """The portfolio's statistics beside the benchmark's, formatted.

    Parameters
    ----------
    stats
        As :func:`tracker.backtest.stats.run_stats` returns (``benchmark`` holds
        the benchmark's own figures).

    Returns
    -------
    list of (label, portfolio, benchmark)
        :func:`compared_rows`, then :func:`portfolio_rows` with an empty
        benchmark cell.
    """
    return [*compared_rows(stats), *((label, v, "") for label, v in portfolio_rows(stats))]


def compared_rows(stats: dict[str, Any]) -> list[KeyStatRow]:
    """The figures the portfolio and the benchmark both have: (label, portfolio, benchmark)."""
    b = stats["benchmark"]

    def both(label: str, key: str, fmt) -> KeyStatRow:
        return (label, fmt(stats[key]), fmt(b[key]))

    def drawdown_span(s: dict) -> str:
        return f"{iso_date(s['max_drawdown_peak'])} → {iso_date(s['max_drawdown_trough'])}"

    return [
        both("final equity (HKD)", "final_equity_hkd", lambda v: number(v, 0)),
        both("total return", "total_return", pct),
        both("CAGR", "cagr", pct),
        both("annual volatility", "annual_volatility", pct),
        both("Sharpe", "sharpe", number),
        both("Sortino", "sortino", number),
        both("max drawdown", "max_drawdown", pct),
        ("  peak → trough", drawdown_span(stats), drawdown_span(b)),
        (
            "  recovered",
            iso_date(stats["max_drawdown_recovery"]) or "not yet",
            iso_date(b["max_drawdown_recovery"]) or "not yet",
        ),
        both("Calmar", "calmar", number),
    ]


def portfolio_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures only the portfolio has (against the benchmark, trading, costs)."""
    return [
        ("excess return over the benchmark", pct(stats["excess_return"])),
        ("beta", number(stats["beta"])),
        ("alpha (annualised)", pct(stats["alpha"])),
        ("tracking error", pct(stats["tracking_error"])),
        ("information ratio", number(stats["information_ratio"])),
        ("trades (open at end)", f"{stats['trades']} ({stats['trades_open_at_end']})"),
        ("calls skipped", str(stats["calls_skipped"])),
        ("win rate", pct(stats["win_rate"])),
        ("turnover (per year)", number(stats["turnover"], 2, "×")),
        ("average exposure", pct(stats["average_exposure"])),
        ("costs paid (HKD)", number(stats["costs_paid_hkd"])),
    ]
