"""Target figures (:mod:`tracker.scoring.targets`) on the real price files and on
synthetic paths.

Expected values are worked out from the CSV rows by hand (the arithmetic is in
the comments), by a plain per-call pandas loop written here (rows of the files
are the trading days; no calendar), or by invariants (hypothesis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.scoring.targets import TARGET_COLUMNS, target_figures

TOL = 1e-9
#: The zjplab files: one row per HKEX session 2024-01-02..2026-08-21, no gaps.
FULL = [
    "0700.HK",
    "0992.HK",
    "3690.HK",
    "0268.HK",
    "9988.HK",
    "1810.HK",
    "1024.HK",
    "9961.HK",
    "0780.HK",
    "9999.HK",
    "0772.HK",
    "0241.HK",
]


@pytest.fixture(scope="module")
def prices(shared_dir) -> dict[str, pd.DataFrame]:
    folder = shared_dir / "data" / "prices"
    out = {}
    for name in [*FULL, "1698.HK"]:
        frame = pd.read_csv(folder / f"{name}.csv", parse_dates=["date"]).set_index("date")
        out[name] = frame
    return out


def wide(prices: dict[str, pd.DataFrame], field: str, names=None) -> pd.DataFrame:
    names = names or list(prices)
    return pd.DataFrame({n: prices[n][field] for n in names})


def calls_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["call_id", "ticker", "start_date", "target_price", "target_currency"]
    )
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    return frame


def figures(prices, rows, as_of=None, **kw) -> pd.DataFrame:
    return target_figures(
        calls_frame(rows),
        wide(prices, "close"),
        wide(prices, "high"),
        wide(prices, "low"),
        as_of,
        **kw,
    ).set_index("call_id")


# --------------------------------------------------------------------------- hand-computed cases


def test_xiaomi_buy_with_a_36_target_is_met_on_2025_01_03(prices):
    # 1810.HK, target HK$36, published Mon 2024-11-04: entry at the close of
    # 2024-11-05 = 28.200000762939453. The first high >= 36 is 2025-01-03
    # (high 36.2999..., close 36.25, so on the close too), the 40th row after
    # the entry row. Window end: 2024-11-05 + 12 months = 2025-11-05 (a
    # session), close 43.31999969482422. Highest high in the window:
    # 61.45000076293945 (2025-06-27).
    f = figures(prices, [("x", "1810.HK", "2024-11-04", 36.0, "HKD")]).loc["x"]
    e = 28.200000762939453
    assert f["entry_session"] == pd.Timestamp("2024-11-05")
    assert f["entry_price"] == pytest.approx(e, abs=TOL)
    assert f["direction"] == 1
    assert f["implied_upside"] == pytest.approx(36 / e - 1, abs=TOL)  # 0.276596
    assert f["met_session"] == pd.Timestamp("2025-01-03")
    assert f["sessions_to_met"] == 40
    assert f["met_on_close_session"] == pd.Timestamp("2025-01-03")
    assert f["sessions_to_met_on_close"] == 40
    assert f["window_end_session"] == pd.Timestamp("2025-11-05")
    assert f["status"] == "matured" and pd.isna(f["reason"])
    assert bool(f["met"]) and bool(f["met_at_end"])  # 43.32 >= 36
    assert f["best_progress"] == pytest.approx((61.45000076293945 - e) / (36 - e), abs=TOL)
    end = 43.31999969482422
    assert f["error_at_end"] == pytest.approx((end - 36) / e, abs=TOL)  # +0.2596
    assert f["realised"] == pytest.approx(end / e - 1, abs=TOL)  # +0.5362
    assert f["optimism"] == pytest.approx((36 / e - 1) - (end / e - 1), abs=TOL)


def test_alibaba_target_below_the_price_is_met_in_the_april_2025_crash(prices):
    # 9988.HK, target HK$110, published Fri 2025-03-07: entry 2025-03-10 at
    # 134.0665283203125, direction -1. First low <= 110: 2025-04-07 (low
    # 99.68, close 100.97: on the close too), the 19th row after entry
    # (15 sessions to 31 March, 1-3 April, then 7 April; 4 April is a
    # holiday). Lowest low: 95.39156507041892 (2025-04-09). End: 2026-03-10,
    # close 133.35035705566406 > 110: not met at the end.
    f = figures(prices, [("b", "9988.HK", "2025-03-07", 110.0, "HKD")]).loc["b"]
    e, end, best = 134.0665283203125, 133.35035705566406, 95.39156507041892
    assert f["direction"] == -1
    assert f["met_session"] == pd.Timestamp("2025-04-07")
    assert f["sessions_to_met"] == 19
    assert f["sessions_to_met_on_close"] == 19
    assert f["best_progress"] == pytest.approx((best - e) / (110 - e), abs=TOL)  # 1.607
    assert f["window_end_session"] == pd.Timestamp("2026-03-10")
    assert not bool(f["met_at_end"])
    assert f["error_at_end"] == pytest.approx((end - 110) / e, abs=TOL)  # +0.1742
    assert f["optimism"] == pytest.approx((110 / e - 1) - (end / e - 1), abs=TOL)


def test_an_open_window_is_pending_with_the_figures_so_far(prices):
    # 1810.HK published 2025-12-01: entry 2025-12-02 at 40.70000076293945;
    # window end 2026-12-02 is after the last row (2026-08-21): pending.
    # Target 35 (below): first low <= 35 on 2026-01-21 (low 34.5), 33 rows
    # after entry; first close <= 35 on 2026-02-03 (34.6), 42 rows after.
    # Lowest low so far 21.299999237060547 (2026-06-26).
    # Target 60 (above): not reached; highest high 43.63999938964844.
    f = figures(
        prices,
        [("d", "1810.HK", "2025-12-01", 35.0, "HKD"), ("u", "1810.HK", "2025-12-01", 60.0, "HKD")],
    )
    e = 40.70000076293945
    d, u = f.loc["d"], f.loc["u"]
    assert d["status"] == u["status"] == "pending"
    assert (d["met_session"], d["sessions_to_met"]) == (pd.Timestamp("2026-01-21"), 33)
    assert (d["met_on_close_session"], d["sessions_to_met_on_close"]) == (
        pd.Timestamp("2026-02-03"),
        42,
    )
    assert bool(d["met"])
    assert d["best_progress"] == pytest.approx((21.299999237060547 - e) / (35 - e), abs=TOL)
    assert pd.isna(u["met"]) and pd.isna(u["met_session"])  # may still happen
    assert u["best_progress"] == pytest.approx((43.63999938964844 - e) / (60 - e), abs=TOL)
    for row in (d, u):
        assert pd.isna(row["met_at_end"]) and np.isnan(row["error_at_end"])
        assert np.isnan(row["realised"]) and np.isnan(row["optimism"])


def test_no_bar_at_the_window_end_is_no_data_with_the_reason(prices):
    # 1698.HK stops on 2025-10-30. Published 2025-03-03: entry 2025-03-04 at
    # 49.42001724243164; next row 2025-03-05 has high 50.568 and close 50.319,
    # both >= 50: met one session later. The window ends 2026-03-04, long
    # after the last bar: no data at the end, but the met session stands.
    f = figures(prices, [("t", "1698.HK", "2025-03-03", 50.0, "HKD")]).loc["t"]
    assert f["status"] == "no data"
    assert f["reason"] == "no bar for the stock within 3 sessions of 2026-03-04"
    assert (f["met_session"], f["sessions_to_met"], f["sessions_to_met_on_close"]) == (
        pd.Timestamp("2025-03-05"),
        1,
        1,
    )
    assert np.isnan(f["error_at_end"])


def test_no_entry_price_and_no_target(prices):
    rows = [
        ("late", "1698.HK", "2026-01-05", 50.0, "HKD"),  # no bar since 2025-10-30
        ("none", "0700.HK", "2025-01-06", None, None),
    ]
    f = figures(prices, rows)
    assert f.loc["late", "status"] == "no data"
    assert f.loc["late", "reason"] == "no price for 1698.HK since 2025-10-30: update prices"
    assert pd.isna(f.loc["none", "status"])
    assert f.loc["none"].drop(["status", "reason", "currency"]).isna().all()
    assert list(f.reset_index().columns) == list(TARGET_COLUMNS)


def test_as_of_cuts_the_window(prices):
    # The 1810 call of the first test, as of 2024-12-31: entry known, 36 not
    # reached yet (highest high to then 34.95): pending, not met so far.
    f = figures(prices, [("x", "1810.HK", "2024-11-04", 36.0, "HKD")], as_of="2024-12-31")
    x = f.loc["x"]
    assert x["status"] == "pending" and pd.isna(x["met"])
    assert x["best_price"] == pytest.approx(34.95000076293945, abs=TOL)


def test_usd_target_without_a_rate_is_not_comparable(prices):
    from tracker.scoring.currency import comparable_targets

    rows = [("a", "9988.HK", "2025-03-07", 140.0, "USD")]
    f = figures(prices, rows).loc["a"]  # no ratios, no rates given
    assert f["status"] == "no data"
    assert f["reason"] == "not comparable: USD target and no ADR ratio for 9988.HK"
    conv = comparable_targets(
        calls_frame(rows), pd.to_datetime(["2025-03-10"]), adr_ratios={"9988.HK": 8.0}
    )
    f = figures(prices, rows, conversion=conv).loc["a"]
    assert f["reason"] == (
        "not comparable: USD target on the ADR line (no USD/HKD rate: load HKD=X)"
    )
    assert np.isnan(f["implied_upside"]) and pd.isna(f["met"])


def test_usd_target_converted_with_the_adr_ratio_and_the_rate(prices):
    from tracker.scoring.currency import comparable_targets

    # US$140 for one BABA ADS = 8 shares, HKD=X 7.8 on Fri 2025-03-07 (the last
    # quote on or before the entry session 2025-03-10): 140 * 7.8 / 8 = 136.5 HKD
    # per share. Entry 134.0665283203125, so the target is above: direction +1.
    rows = [("a", "9988.HK", "2025-03-07", 140.0, "USD")]
    fx = pd.Series(
        [7.77, 7.8, 7.9], index=pd.to_datetime(["2025-03-06", "2025-03-07", "2025-03-11"])
    )
    conv = comparable_targets(
        calls_frame(rows), pd.to_datetime(["2025-03-10"]), {"USD": fx}, {"9988.HK": 8.0}
    )
    f = figures(prices, rows, conversion=conv).loc["a"]
    assert f["compared_price"] == pytest.approx(136.5, abs=TOL)
    assert (f["fx_rate"], f["fx_date"], f["adr_ratio"]) == (7.8, pd.Timestamp("2025-03-07"), 8.0)
    assert f["direction"] == 1
    assert f["implied_upside"] == pytest.approx(136.5 / 134.0665283203125 - 1, abs=TOL)


# --------------------------------------------------------------------------- the oracle


def plain_target(frame: pd.DataFrame, start, target: float, as_of) -> dict:
    """One call, from the CSV rows alone (rows are the trading days)."""
    rows = frame.loc[frame.index <= as_of]
    after = rows.index[rows.index > start]
    if not len(after):
        return {"status": "pending"}
    e_day = after[0]
    e_row = rows.index.get_loc(e_day)
    close, high, low = (rows[k].to_numpy() for k in ("close", "high", "low"))
    e = close[e_row]
    up = target >= e
    due = e_day + pd.DateOffset(months=12)
    end_rows = rows.index[rows.index >= due]
    last = rows.index.get_loc(end_rows[0]) if len(end_rows) else len(rows) - 1
    out = {"entry": e, "direction": 1 if up else -1}
    met = close_met = None
    best = None
    for i in range(e_row + 1, last + 1):
        hi, lo, c = max(high[i], close[i]), min(low[i], close[i]), close[i]
        if met is None and (hi >= target if up else lo <= target):
            met = i
        if close_met is None and (c >= target if up else c <= target):
            close_met = i
        price = hi if up else lo
        best = price if best is None else (max(best, price) if up else min(best, price))
    if target == e:
        met = close_met = e_row
    out["sessions_to_met"] = None if met is None else met - e_row
    out["sessions_to_met_on_close"] = None if close_met is None else close_met - e_row
    out["met_session"] = None if met is None else rows.index[met]
    out["best_progress"] = np.nan if best is None else (best - e) / (target - e)
    if len(end_rows):
        c = close[last]
        out.update(
            status="matured",
            met_at_end=bool(c >= target if up else c <= target),
            error_at_end=(c - target) / e,
            realised=c / e - 1,
        )
    else:
        out.update(status="pending", met_at_end=None, error_at_end=np.nan, realised=np.nan)
    return out


def test_matches_a_plain_per_call_loop_on_random_calls(prices):
    full = {k: prices[k] for k in FULL}
    first = full[FULL[0]].index
    assert all(f.index.equals(first) for f in full.values())  # one row per session in all
    rng = np.random.default_rng(15)
    n = 300
    days = pd.date_range("2024-01-01", "2026-08-20", freq="D")
    tickers = rng.choice(FULL, n)
    starts = days[rng.integers(0, len(days), n)]
    rough = [
        full[t]["close"].asof(s) if s >= first[0] else full[t]["close"].iloc[0]
        for t, s in zip(tickers, starts, strict=True)
    ]
    targets = np.round(np.array(rough) * rng.uniform(0.6, 1.6, n), 2)
    as_of = pd.Timestamp("2026-08-21")
    rows = [
        (f"c{i}", t, s, float(p), "HKD")
        for i, (t, s, p) in enumerate(zip(tickers, starts, targets, strict=True))
    ]
    got = figures(full, rows, as_of)
    checked = {"matured": 0, "pending": 0, "met": 0}
    for cid, ticker, start, target, _ in rows:
        want = plain_target(full[ticker], start, target, as_of)
        g = got.loc[cid]
        assert g["status"] == want["status"], cid
        if "entry" not in want:
            continue
        checked[want["status"]] += 1
        assert g["entry_price"] == pytest.approx(want["entry"], abs=TOL), cid
        assert g["direction"] == want["direction"], cid
        for key in ("sessions_to_met", "sessions_to_met_on_close"):
            assert (None if pd.isna(g[key]) else int(g[key])) == want[key], (cid, key)
        if want["met_session"] is not None:
            checked["met"] += 1
            assert g["met_session"] == want["met_session"], cid
        assert np.isclose(g["best_progress"], want["best_progress"], atol=TOL, equal_nan=True)
        assert (None if pd.isna(g["met_at_end"]) else bool(g["met_at_end"])) == want["met_at_end"]
        for key in ("error_at_end", "realised"):
            assert np.isclose(g[key], want[key], atol=TOL, equal_nan=True), (cid, key)
    # The sample covers both statuses and both outcomes.
    assert checked["matured"] > 100 and checked["pending"] > 10 and checked["met"] > 50


# --------------------------------------------------------------------------- properties


def _sessions(n: int) -> pd.DatetimeIndex:
    from tracker import sessions

    return sessions.sessions_between("2024-03-01", "2025-12-31")[:n]


@st.composite
def paths(draw):
    n = draw(st.integers(40, 120))
    close = np.array(draw(st.lists(st.integers(100, 900), min_size=n, max_size=n)), float)
    up = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)), float)
    down = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)), float)
    start = draw(st.integers(0, n // 2))
    months = draw(st.integers(1, 3))
    target = float(draw(st.integers(60, 940)))
    cut = draw(st.integers(start + 2, n - 1))
    return n, close, close + up, close - down, start, months, target, cut


def _run(n, close, high, low, start, months, target, cut):
    idx = _sessions(n)
    frame = {
        k: pd.DataFrame({"S.HK": v}, index=idx)
        for k, v in (("close", close), ("high", high), ("low", low))
    }
    calls = calls_frame([("c", "S.HK", idx[start], target, "HKD")])
    calls["target_horizon_months"] = months
    return target_figures(calls, frame["close"], frame["high"], frame["low"], idx[cut]).iloc[0], idx


@given(paths())
def test_a_target_at_the_entry_price_is_met_at_once(case):
    n, close, high, low, start, months, _, cut = case
    entry = close[start + 1]  # next-close: the session after the start date
    f, idx = _run(n, close, high, low, start, months, float(entry), cut)
    assert f["entry_session"] == idx[start + 1]
    assert f["met_session"] == f["met_on_close_session"] == idx[start + 1]
    assert f["sessions_to_met"] == f["sessions_to_met_on_close"] == 0
    assert bool(f["met"]) and f["direction"] == 1


@given(paths())
def test_mirrored_prices_mirror_the_figures(case):
    n, close, high, low, start, months, target, cut = case
    if target == close[start + 1]:
        return  # no direction to mirror
    f, _ = _run(n, close, high, low, start, months, target, cut)
    m = 1000.0  # p -> 1000 - p: highs become lows, exact on whole numbers
    g, _ = _run(n, m - close, m - low, m - high, start, months, m - target, cut)
    assert g["direction"] == -f["direction"]
    same = [
        "status",
        "met_session",
        "sessions_to_met",
        "met_on_close_session",
        "sessions_to_met_on_close",
        "window_end_session",
    ]
    for key in same:
        assert (pd.isna(g[key]) and pd.isna(f[key])) or g[key] == f[key], key
    assert (pd.isna(g["met"]) and pd.isna(f["met"])) or g["met"] == f["met"]
    assert (pd.isna(g["met_at_end"]) and pd.isna(f["met_at_end"])) or (
        g["met_at_end"] == f["met_at_end"]
    )
    assert np.isclose(g["best_progress"], f["best_progress"], equal_nan=True)
    # error and implied upside are per unit of the entry price, which changes:
    # in price units they change sign.
    for key in ("error_at_end", "implied_upside"):
        assert np.isclose(g[key] * g["entry_price"], -f[key] * f["entry_price"], equal_nan=True)
