"""Backtest sweeps: every variant equals the same spec run alone; entry delays by hand.

The equality oracle is the single-run engine (``run_backtest``), itself checked by
hand and against backtrader elsewhere; the sweep shares no code path with it after
the order plan (its own arrays, one vectorbt call for many groups). Delayed entry
sessions are written out from the 2025 HKEX calendar, never computed.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_backtest_engine import JULY_AUG_2025, bench, flat, make_calls

from tracker.backtest.engine import run_backtest
from tracker.backtest.spec import BacktestSpec
from tracker.backtest.sweep import (
    MAX_VARIANTS,
    SweepError,
    expand,
    parse_vary,
    run_sweep,
    variants_frame,
)
from tracker.errors import DataUnavailable


def spec(**kw) -> BacktestSpec:
    return BacktestSpec.model_validate({"name": "t", **kw})


# ----------------------------------------------------------------------------- --vary


def test_parse_vary_reads_fields_and_values():
    got = parse_vary(["exit.months=3, 6", "costs=on,off"])
    assert got == {"exit.months": ("3", "6"), "costs": ("on", "off")}


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        pytest.param(["exit.months"], "expected FIELD=V1,V2", id="no-equals"),
        pytest.param(["capital_hkd=1,2"], "'capital_hkd' cannot be varied", id="unknown-field"),
        pytest.param(["entry=next-close", "entry=same-close"], "given twice", id="twice"),
        pytest.param(["exit.months=3,,6"], "an empty value", id="empty-value"),
        pytest.param(["exit.months=3,3"], "a value is repeated", id="repeated"),
    ],
)
def test_parse_vary_refuses_bad_options(texts, message):
    with pytest.raises(SweepError, match=message):
        parse_vary(texts)


def test_grid_past_the_limit_is_refused_with_its_size():
    # 26 x 20 = 520 variants > 500.
    texts = [
        "entry_delay_sessions=" + ",".join(str(i) for i in range(26)),
        "sizing.max_positions=" + ",".join(str(i) for i in range(1, 21)),
    ]
    assert MAX_VARIANTS == 500
    with pytest.raises(SweepError) as err:
        parse_vary(texts)
    assert str(err.value) == "26 x 20 = 520 variants is over the limit of 500: vary fewer values"


def test_expand_drops_fields_that_do_not_apply_and_runs_duplicates_once():
    base = spec(exit={"rule": "fixed", "months": 6})
    variants = expand(base, parse_vary(["exit.rule=fixed,horizon", "exit.months=3,6"]))
    # fixed/3, fixed/6, then horizon (months dropped) once.
    assert [v.values for v in variants] == [
        {"exit.rule": "fixed", "exit.months": 3},
        {"exit.rule": "fixed", "exit.months": 6},
        {"exit.rule": "horizon", "exit.months": None},
    ]
    assert variants[2].spec.exit.months is None


def test_expand_names_every_invalid_variant():
    base = spec()  # horizon rule: months may not be set when the rule is not varied
    with pytest.raises(SweepError) as err:
        expand(base, parse_vary(["exit.months=3,6", "costs=maybe"]))
    assert "costs=maybe: expected on or off" in str(err.value)


def test_expand_reports_each_variant_that_is_not_a_spec():
    base = spec()
    with pytest.raises(SweepError) as err:
        expand(base, parse_vary(["exit.months=3,6"]))
    assert str(err.value) == (
        "variant exit.months=3: exit.months: the horizon rule takes each call's horizon;"
        " remove months; variant exit.months=6: exit.months: the horizon rule takes each"
        " call's horizon; remove months"
    )


# ----------------------------------------------------------------------------- entry delay


def _one_call_run(delay: int, entry: str = "next-close"):
    closes = flat({"0001.HK": 10.0})
    # A distinct close on each session, so the entry price names the entry session.
    closes["0001.HK"] = np.arange(len(JULY_AUG_2025), dtype=float) + 10.0
    calls = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-03", 12)])
    s = spec(
        entry=entry,
        entry_delay_sessions=delay,
        exit={"rule": "fixed", "months": 1},
        costs={"enabled": False},
        board_lots=False,
    )
    return run_backtest(calls, closes, bench(), s)


@pytest.mark.parametrize(
    ("entry", "delay", "session", "price"),
    [
        # Published Thu 2025-07-03 (row 1 of the grid, close 11). next-close: Fri 07-04
        # (row 2, close 12); 1 session later Mon 07-07 (13); 2 later Tue 07-08 (14);
        # 5 later Fri 07-11 (17).
        pytest.param("next-close", 0, "2025-07-04", 12.0, id="next-close-0"),
        pytest.param("next-close", 1, "2025-07-07", 13.0, id="next-close-1"),
        pytest.param("next-close", 2, "2025-07-08", 14.0, id="next-close-2"),
        pytest.param("next-close", 5, "2025-07-11", 17.0, id="next-close-5"),
        # same-close: 07-03 itself (close 11); 2 sessions later Mon 07-07 (13).
        pytest.param("same-close", 0, "2025-07-03", 11.0, id="same-close-0"),
        pytest.param("same-close", 2, "2025-07-07", 13.0, id="same-close-2"),
    ],
)
def test_entry_delay_moves_the_entry_by_sessions(entry, delay, session, price):
    t = _one_call_run(delay, entry).trades.iloc[0]
    assert str(t["entry_session"].date()) == session
    assert t["entry_price"] == price
    # Held 1 month from the delayed entry: 07-04 + 1 month = 08-04 (a Monday session).
    if session == "2025-07-04":
        assert str(t["exit_session"].date()) == "2025-08-04"


def test_delay_zero_is_the_spec_without_the_field():
    closes = flat({"0001.HK": 10.0, "0002.HK": 20.0})
    closes.iloc[10:, 0] = 12.0
    calls = make_calls(
        [
            ("a#1", "A", "0001.HK", "buy", "2025-07-02", 12),
            ("b#1", "B", "0002.HK", "buy", "2025-07-08", 12),
        ]
    )
    base = {"exit": {"rule": "fixed", "months": 1}, "board_lots": False}
    a = run_backtest(calls, closes, bench(), spec(**base))
    b = run_backtest(calls, closes, bench(), spec(**base, entry_delay_sessions=0))
    assert a.equity.equals(b.equity) and a.trades.equals(b.trades)


def test_delay_past_the_data_is_a_variant_error_not_a_failed_sweep():
    calls = make_calls([("a#1", "A", "0001.HK", "buy", "2025-07-30", 12)])
    closes = flat({"0001.HK": 10.0})
    # Entry 07-31; the data end 08-05, three sessions later: a delay of 20 enters after it.
    s = spec(exit={"rule": "fixed", "months": 1}, board_lots=False)
    sweep = run_sweep(calls, closes, bench(), s, parse_vary(["entry_delay_sessions=0,20"]))
    frame = variants_frame(sweep)
    assert frame["error"].iloc[0] == ""
    # 2025-07-31 + 20 sessions (08-01, 04 to 08, 11 to 15, 18 to 22, 25 to 28) = 08-28.
    assert frame["error"].iloc[1] == (
        "none of the 1 selected calls can be entered:"
        " 1 × entry session 2025-08-28 is after the last price 2025-08-05"
    )
    assert np.isnan(frame["final_equity_hkd"].iloc[1])


# ----------------------------------------------------------------------------- equality


def _assert_same(sweep, calls, closes, index, **kw):
    for v, res, err in zip(sweep.variants, sweep.results, sweep.errors, strict=True):
        if res is None:  # the run alone fails the same way
            with pytest.raises(DataUnavailable) as exc:
                run_backtest(calls, closes, index, v.spec, **kw)
            assert str(exc.value) == err
            continue
        alone = run_backtest(calls, closes, index, v.spec, **kw)
        assert res.final_equity == pytest.approx(alone.final_equity, rel=0, abs=1e-9), v.values
        assert res.trades.equals(alone.trades), v.values
        np.testing.assert_allclose(res.equity.to_numpy(), alone.equity.to_numpy(), atol=1e-9)
        assert res.equity.index.equals(alone.equity.index)


@pytest.mark.parametrize(
    ("seed", "max_cells"),
    [
        pytest.param(0, 10**9, id="seed0-one-simulation"),
        pytest.param(1, 10**9, id="seed1-one-simulation"),
        pytest.param(2, 20_000, id="seed2-several-simulations"),
    ],
)
def test_every_variant_equals_its_spec_run_alone_on_synthetic_universes(seed, max_cells):
    from helpers.backtest_oracle import universe

    calls, closes, index, lots = universe(40, 2, 300, seed=seed)
    base = spec(
        exit={"rule": "fixed", "months": 3},
        sizing={"method": "equal", "max_positions": 25},
        capital_hkd=5_000_000,
    )
    vary = parse_vary(
        [
            "exit.months=2,6",
            "entry_delay_sessions=0,3",
            "sizing.max_positions=10,40",
            "costs=on,off",
        ]
    )
    sweep = run_sweep(calls, closes, index, base, vary, lots=lots, max_cells=max_cells)
    assert len(sweep.variants) == 16
    if max_cells < 10**9:
        assert sweep.n_simulations > 1
    else:
        assert sweep.n_simulations == 1
    _assert_same(sweep, calls, closes, index, lots=lots)


def test_rules_and_sizing_methods_vary_too():
    from helpers.backtest_oracle import universe

    calls, closes, index, lots = universe(30, 2, 200, seed=3)
    base = spec(
        exit={"rule": "fixed", "months": 3},
        sizing={"method": "fixed", "max_positions": 30, "amount_hkd": 50_000},
        capital_hkd=3_000_000,
    )
    vary = parse_vary(
        [
            "exit.rule=fixed,horizon,downgrade",
            "sizing.method=fixed,equal,rating",
            "entry=next-close,same-close",
        ]
    )
    sweep = run_sweep(calls, closes, index, base, vary, lots=lots)
    assert len(sweep.variants) == 18
    # same-close enters a call of the universe's first day on that day, before any
    # benchmark close: those variants fail as the spec does alone.
    assert sum(1 for e in sweep.errors if e) == 9  # the 3 x 3 same-close variants
    _assert_same(sweep, calls, closes, index, lots=lots, book=None)


def test_variants_share_entries_and_exits_computed_once_per_timing(monkeypatch):
    # 2 delays x 2 exits x costs on/off x 2 position limits = 16 variants, but only the
    # entry delay and the exit rule decide when calls are entered and left: 4 timings.
    from helpers.backtest_oracle import universe

    from tracker.backtest import engine

    calls, closes, index, lots = universe(20, 2, 120, seed=5)
    made = []
    real = engine._timing
    monkeypatch.setattr(engine, "_timing", lambda *a: made.append(a[4]) or real(*a))
    base = spec(exit={"rule": "fixed", "months": 3}, capital_hkd=2_000_000)
    vary = parse_vary(
        [
            "entry_delay_sessions=0,2",
            "exit.months=2,4",
            "costs=on,off",
            "sizing.max_positions=5,20",
        ]
    )
    sweep = run_sweep(calls, closes, index, base, vary, lots=lots)
    assert len(sweep.variants) == 16
    assert sorted((s.entry_delay_sessions, s.exit.months) for s in made) == [
        (0, 2),
        (0, 4),
        (2, 2),
        (2, 4),
    ]
    _assert_same(sweep, calls, closes, index, lots=lots)
