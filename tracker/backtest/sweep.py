"""Backtest sweeps: many variants of one spec in one process and one vectorbt simulation.

A sweep varies some fields of a spec (``--vary exit.months=3,6,12``) and runs
the product of their values. Every variant is planned on its own (entries,
exits, the order plan of :mod:`tracker.backtest.orders`), then the variants
that share prices — all of them: the selection, hence the tickers, is never
varied — are run as **column groups of one** ``vectorbt.Portfolio.from_orders``
call: one cash-sharing group per variant, on the union of their session grids.
A variant's columns hold no position outside its own grid, so its cash, value
and trades are those of the same spec run alone (the tests check final equity
to 1e-9 and the trades). A simulation is kept under :data:`MAX_CELLS` cells
(rows × columns); a sweep too large for one is split into as few as fit.

Pure: frames in, frames out; vectorbt is imported inside
:func:`tracker.backtest.portfolio.from_orders` only.
"""

from __future__ import annotations

import gc
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from tracker import sessions
from tracker.backtest.engine import BacktestResult, PlannedRun, finish_backtest, plan_backtest
from tracker.backtest.portfolio import (
    blank_order_arrays,
    check_fill_records,
    from_orders,
    n_columns,
    write_orders,
)
from tracker.backtest.spec import BacktestSpec
from tracker.backtest.stats import run_stats
from tracker.errors import DataUnavailable, TrackerError

#: The fields a sweep may vary (dotted names, as in the spec file; ``costs`` is
#: ``costs.enabled``, given as on/off).
SWEEP_FIELDS: tuple[str, ...] = (
    "exit.months",
    "exit.rule",
    "entry",
    "entry_delay_sessions",
    "sizing.max_positions",
    "sizing.method",
    "costs",
)
#: The most variants one sweep runs (the product of the values of every --vary).
MAX_VARIANTS = 500
#: The most cells (rows × columns) of one vectorbt simulation: about 4 arrays of
#: 32 MB; a larger sweep runs as several simulations of whole variants.
MAX_CELLS = 4_000_000
#: Statistics of each variant, under the names ``stats.json`` uses.
VARIANT_STATS: tuple[str, ...] = (
    "final_equity_hkd",
    "total_return",
    "excess_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "trades",
    "costs_paid_hkd",
)

_ON = {"on": True, "true": True, "yes": True, "1": True}
_OFF = {"off": False, "false": False, "no": False, "0": False}


class SweepError(TrackerError):
    """A sweep that cannot run: a bad --vary, too many variants, variants that are not valid."""


@dataclass(frozen=True)
class Variant:
    """One variant: the varied fields (dotted names; None where a field does not apply,
    such as ``exit.months`` under the horizon rule) and the full spec."""

    values: dict[str, Any]
    spec: BacktestSpec


@dataclass(frozen=True)
class SweepResult:
    """The variants in order, each one's result (None when it could not run: ``errors``)."""

    base: BacktestSpec
    fields: tuple[str, ...]
    variants: tuple[Variant, ...]
    results: tuple[BacktestResult | None, ...]
    stats: tuple[dict | None, ...]
    errors: tuple[str, ...]
    n_simulations: int


def parse_vary(texts: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``["exit.months=3,6", "costs=on,off"]`` -> ``{"exit.months": ("3", "6"), ...}``.

    Raises
    ------
    SweepError
        Not ``FIELD=V1,V2,...``, a field that cannot be varied or given twice, an
        empty or repeated value, or a grid over :data:`MAX_VARIANTS` variants.
    """
    out: dict[str, tuple[str, ...]] = {}
    for text in texts:
        field, sep, rest = text.partition("=")
        field = field.strip()
        if not sep or not field:
            raise SweepError(f"--vary {text!r}: expected FIELD=V1,V2,... e.g. exit.months=3,6,12")
        if field not in SWEEP_FIELDS:
            raise SweepError(
                f"--vary {text!r}: {field!r} cannot be varied; use one of {', '.join(SWEEP_FIELDS)}"
            )
        if field in out:
            raise SweepError(f"--vary {field} is given twice: list all its values in one --vary")
        values = tuple(v.strip() for v in rest.split(","))
        if any(not v for v in values):
            raise SweepError(f"--vary {text!r}: an empty value")
        if len(set(values)) != len(values):
            raise SweepError(f"--vary {text!r}: a value is repeated")
        out[field] = values
    n = math.prod(len(v) for v in out.values())
    if n > MAX_VARIANTS:
        sizes = " x ".join(str(len(v)) for v in out.values())
        raise SweepError(
            f"{sizes} = {n} variants is over the limit of {MAX_VARIANTS}: vary fewer values"
        )
    return out


def _switch(field: str, value: str) -> bool:
    key = value.lower()
    if key in _ON or key in _OFF:
        return _ON.get(key, False)
    raise SweepError(f"--vary {field}={value}: expected on or off")


def _set(data: dict, field: str, value: str) -> None:
    if field == "costs":
        data.setdefault("costs", {})["enabled"] = _switch(field, value)
        return
    head, _, tail = field.partition(".")
    if tail:
        data.setdefault(head, {})[tail] = value
    else:
        data[head] = value


def _shown(spec: BacktestSpec, field: str) -> Any:
    if field == "costs":
        return "on" if spec.costs.enabled else "off"
    head, _, tail = field.partition(".")
    value = getattr(spec, head)
    return getattr(value, tail) if tail else value


def expand(base: BacktestSpec, vary: Mapping[str, Sequence[str]]) -> list[Variant]:
    """Every variant of ``base`` over the product of ``vary``'s values, in order
    (the last field varies fastest), each validated like a spec file.

    A field that does not apply to a variant is dropped when the field that
    decides it is varied: ``exit.months`` under ``exit.rule: horizon``, the spec's
    ``sizing.amount_hkd`` under a method other than ``fixed``. Variants that
    become the same spec are run once.

    Raises
    ------
    SweepError
        Variants that are not valid specs, each named with its values and problem.
    """
    fields = list(vary)
    out: list[Variant] = []
    seen: set[str] = set()
    problems: list[str] = []
    for combo in itertools.product(*(vary[f] for f in fields)):
        data = base.model_dump(mode="json")
        for field, value in zip(fields, combo, strict=True):
            _set(data, field, value)
        if "exit.rule" in vary and data["exit"].get("rule") == "horizon":
            data["exit"]["months"] = None
        if "sizing.method" in vary and data["sizing"].get("method") != "fixed":
            data["sizing"]["amount_hkd"] = None
        label = ", ".join(f"{f}={v}" for f, v in zip(fields, combo, strict=True))
        try:
            spec = BacktestSpec.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(f"variant {label}: {loc + ': ' if loc else ''}{msg}")
            continue
        key = spec.digest()
        if key in seen:
            continue
        seen.add(key)
        out.append(Variant({f: _shown(spec, f) for f in fields}, spec))
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise SweepError("; ".join(problems[:5]) + more)
    return out


def run_sweep(
    calls: pd.DataFrame,
    closes: pd.DataFrame,
    benchmark: pd.Series,
    base: BacktestSpec,
    vary: Mapping[str, Sequence[str]],
    *,
    opens: pd.DataFrame | None = None,
    book: pd.DataFrame | None = None,
    lots: Mapping[str, int | None] | None = None,
    stamp_exempt: Mapping[str, bool] | None = None,
    as_of=None,
    max_cells: int = MAX_CELLS,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every variant of ``base`` that ``vary`` describes.

    Parameters are those of :func:`tracker.backtest.engine.run_backtest`, plus
    ``vary`` (field -> values, see :func:`parse_vary`) and ``max_cells`` (the size
    of one vectorbt simulation). A variant with nothing to trade (for example
    entries delayed past the data) is kept with its error; when no variant can
    run, the first error is raised.

    Returns
    -------
    SweepResult
    """
    say = progress or (lambda _msg: None)
    variants = expand(base, vary)
    say(f"planning {len(variants)} variants")
    planned: list[PlannedRun | None] = []
    errors: list[str] = []
    shared: dict = {}  # entries and exits, computed once per entry rule, delay and exit rule
    for v in variants:
        try:
            planned.append(
                plan_backtest(
                    calls,
                    closes,
                    benchmark,
                    v.spec,
                    opens=opens,
                    book=book,
                    lots=lots,
                    stamp_exempt=stamp_exempt,
                    as_of=as_of,
                    shared=shared,
                )
            )
            errors.append("")
        except DataUnavailable as exc:
            planned.append(None)
            errors.append(str(exc))
    ok = [i for i, p in enumerate(planned) if p is not None]
    if not ok:
        raise DataUnavailable(errors[0])
    batches = _batches([planned[i] for i in ok], ok, max_cells)
    say(f"simulating {len(ok)} variants in {len(batches)} vectorbt run(s)")
    results: list[BacktestResult | None] = [None] * len(variants)
    for batch in batches:
        for i, res in zip(batch, simulate_batch([planned[i] for i in batch]), strict=True):
            results[i] = res
            planned[i] = None  # its grid-sized arrays are no longer needed
    stats = tuple(
        None if r is None else run_stats(r.equity, r.trades, r.costs, r.spec.capital_hkd)
        for r in results
    )
    return SweepResult(
        base, tuple(vary), tuple(variants), tuple(results), stats, tuple(errors), len(batches)
    )


def _cells(p: PlannedRun) -> int:
    return len(p.grid) * max(1, int(p.column.max()) + 1 if len(p.column) else 1)


def _batches(planned: list[PlannedRun], index: list[int], max_cells: int) -> list[list[int]]:
    """Consecutive variants grouped so that each simulation stays under ``max_cells``
    (a variant larger than that runs alone)."""
    out: list[list[int]] = []
    lo = hi = None
    cols = 0
    for p, i in zip(planned, index, strict=True):
        start, end = p.grid[0], p.grid[-1]
        n_cols = max(1, int(p.column.max()) + 1 if len(p.column) else 1)
        if out and lo is not None:
            rows = sessions.count_sessions_between(min(lo, start), max(hi, end)) + 1
            if rows * (cols + n_cols) <= max_cells:
                out[-1].append(i)
                lo, hi, cols = min(lo, start), max(hi, end), cols + n_cols
                continue
        out.append([i])
        lo, hi, cols = start, end, n_cols
    return out


def simulate_batch(planned: Sequence[PlannedRun]) -> list[BacktestResult]:
    """Run planned variants as the column groups of one vectorbt simulation.

    Each variant is one cash-sharing group of its packed columns; rows are the
    union of the variants' grids (consecutive HKEX sessions), and a variant's
    columns hold nothing outside its own rows. Its value, cash and trade
    records are then cut back to its grid and checked against its plan.
    """
    grid = sessions.sessions_between(
        min(p.grid[0] for p in planned), max(p.grid[-1] for p in planned)
    )
    offsets = []
    for p in planned:
        off = int(grid.searchsorted(p.grid[0]))
        if not grid[off : off + len(p.grid)].equals(p.grid):
            raise TrackerError("a variant's sessions are not consecutive HKEX sessions")
        offsets.append(off)
    widths = [n_columns(p.column) for p in planned]
    col0 = np.concatenate([[0], np.cumsum(widths)])
    arrays = blank_order_arrays(len(grid), int(col0[-1]))
    close, size, price, fees, seq = arrays
    for g, (p, off) in enumerate(zip(planned, offsets, strict=True)):
        # Each variant writes its orders into its own block (its rows, its columns), whose
        # call sequence counts its columns from 0.
        block = (slice(off, off + len(p.grid)), slice(col0[g], col0[g + 1]))
        seq[:, block[1]] = np.arange(widths[g])
        write_orders(
            tuple(a[block] for a in arrays), p.column, *p.order_inputs(), p.value_m, p.ticker_col
        )
    group_by = np.repeat(np.arange(len(planned)), widths)
    capital = np.array([p.spec.capital_hkd for p in planned], dtype=float)
    pf = from_orders(close, size, price, fees, seq, capital, group_by, grid)
    value, cash = group_value_cash(pf, close, np.asarray(widths), capital)
    orders, trades = pf.orders.values, pf.trades.values
    del pf, arrays, close, size, price, fees, seq
    # vectorbt's portfolio objects hold reference cycles (and a copy of the closes): free
    # them now rather than when the collector next runs. They are young, so collecting
    # the two young generations finds them, in milliseconds (a full collection walks
    # every object of the process, about 0.15 s).
    gc.collect(1)
    out = []
    for g, (p, off) in enumerate(zip(planned, offsets, strict=True)):
        lo, hi = col0[g], col0[g + 1]
        o = orders[(orders["col"] >= lo) & (orders["col"] < hi)].copy()
        t = trades[(trades["col"] >= lo) & (trades["col"] < hi)].copy()
        o["col"] -= lo
        o["idx"] -= off
        t["col"] -= lo
        t["entry_idx"] -= off
        t["exit_idx"] -= off
        entry_row, exit_row = p.rows()
        rec = check_fill_records(o, t, p.column, entry_row, exit_row, p.plan, p.sel)
        rows = slice(off, off + len(p.grid))
        out.append(finish_backtest(p, value[rows, g], cash[rows, g], rec))
    return out


def group_value_cash(pf, close: np.ndarray, group_lens: np.ndarray, capital: np.ndarray):
    """Each group's value and cash at every row (rows × groups, HKD), from vectorbt's
    order records: the steps of ``pf.value()`` and ``pf.cash()`` (same functions, same
    order, so the same numbers) without wrapping each intermediate array in a frame.

    ``close`` is the simulation's close (no NaN, so vectorbt's filled close is itself);
    ``capital`` the initial cash of each group.
    """
    from vectorbt.portfolio import dispatch
    from vectorbt.portfolio.enums import Direction

    shape = close.shape
    records = pf.orders.values
    col_map = pf.orders.col_mapper.col_map
    group_lens = group_lens.astype(np.int64)
    cash_flow = dispatch.cash_flow(shape, records, col_map, False)
    cash_flow = dispatch.cash_flow_grouped(cash_flow, group_lens)
    init_cash = dispatch.init_cash_grouped(np.asarray(capital, dtype=float), group_lens, True)
    cash = dispatch.cash_grouped(shape, cash_flow, group_lens, init_cash)
    assets = dispatch.assets(dispatch.asset_flow(shape, records, col_map, Direction.Both))
    held_close = close.copy()
    held_close[assets == 0] = 0.0  # as vectorbt does (for a NaN price)
    asset_value = dispatch.asset_value_grouped(dispatch.asset_value(held_close, assets), group_lens)
    return dispatch.value(cash, asset_value), cash


def variants_frame(sweep: SweepResult) -> pd.DataFrame:
    """One row per variant: the varied fields (dotted names), :data:`VARIANT_STATS`
    and ``error`` (empty when the variant ran)."""
    rows = []
    for v, st, err in zip(sweep.variants, sweep.stats, sweep.errors, strict=True):
        row = dict(v.values)
        for k in VARIANT_STATS:
            row[k] = np.nan if st is None else st.get(k)
        row["error"] = err
        rows.append(row)
    return pd.DataFrame(rows, columns=[*sweep.fields, *VARIANT_STATS, "error"])


def compare_sweeps(a, b) -> dict[str, Any]:
    """Differences between two sweep folders (:class:`tracker.backtest.runs.RunInfo`).

    Variants are matched on their varied fields; each row gives the excess return
    of both and its change (None where a variant is in one sweep only).

    Returns
    -------
    dict
        ``kind: "sweep"``, ``fields`` (varied in either), ``variants``: rows of the
        fields, ``a``, ``b``, ``change`` (excess returns), and ``inputs`` (manifest
        fields that differ).

    Raises
    ------
    SweepError
        One of the two is a single run.
    """
    from tracker.backtest.runs import differing_inputs

    if a.kind != b.kind:
        raise SweepError(
            f"cannot compare a {a.kind} ({a.path}) with a {b.kind} ({b.path}):"
            " compare two runs or two sweeps"
        )
    va, vb = a.stats.get("variants", []), b.stats.get("variants", [])
    fields = list(dict.fromkeys([*a.manifest.get("vary", {}), *b.manifest.get("vary", {})]))

    def key(row: dict) -> tuple:
        return tuple(str(row.get(f)) for f in fields)

    xa = {key(r): r.get("excess_return") for r in va}
    xb = {key(r): r.get("excess_return") for r in vb}
    rows = []
    for k in dict.fromkeys([*xa, *xb]):
        ea, eb = xa.get(k), xb.get(k)
        change = eb - ea if isinstance(ea, int | float) and isinstance(eb, int | float) else None
        rows.append({**dict(zip(fields, k, strict=True)), "a": ea, "b": eb, "change": change})
    return {
        "kind": "sweep",
        "fields": fields,
        "variants": rows,
        "inputs": differing_inputs(a.manifest, b.manifest),
    }
