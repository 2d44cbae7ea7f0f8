"""``tracker score --format json``: ``calls[].target``, ``previous`` and the actions, end to
end on the real price files; ``tracker recs validate`` warnings on stated previous values.

Expected figures are worked out from the CSV rows (see tests/test_scoring_targets.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
NOW = pd.Timestamp("2026-11-22 12:00", tz="UTC")
runner = CliRunner()

REPORT_A = """\
broker: Test Broker
title: Xiaomi and Alibaba
published: 2024-11-04
source: test fixture
language: en
scale: default-hk
recommendations:
  - name: Xiaomi
    ticker: 1810.HK
    rating: buy
    target: {value: 36}
"""
REPORT_B = """\
broker: Test Broker
title: Xiaomi cut; Alibaba ADR
published: 2025-12-01
source: test fixture
language: en
scale: default-hk
recommendations:
  - name: Xiaomi
    ticker: 1810.HK
    rating: neutral
    previous_rating: overweight
    target: {value: 35}
  - name: Alibaba
    ticker: 9988.HK
    rating: buy
    target: {value: 140, currency: USD}
"""


@pytest.fixture(scope="module")
def store_home(tmp_path_factory, shared_dir) -> Path:
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource

    home = tmp_path_factory.mktemp("targets-home")
    summary = update_prices(
        PriceStore(home),
        CsvFolderSource(shared_dir / "data" / "prices"),
        ["1810.HK", "9988.HK", "^HSI"],
        since="2024-01-01",
        now=NOW,
    )
    assert summary.ok, summary.failed
    return home


@pytest.fixture
def recs(tmp_path, store_home, monkeypatch) -> Path:
    folder = tmp_path / "recs"
    shutil.copytree(ROOT / "recs" / "scales", folder / "scales")
    (folder / "2024-11-04-test-a.yaml").write_text(REPORT_A, encoding="utf-8")
    (folder / "2025-12-01-test-b.yaml").write_text(REPORT_B, encoding="utf-8")
    monkeypatch.setenv("TRACKER_HOME", str(store_home))
    monkeypatch.setenv("TRACKER_RECS_DIR", str(folder))
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: pd.Timestamp("2026-11-22").date())
    return folder


def test_target_figures_previous_and_actions_in_json(recs):
    result = runner.invoke(app, ["score", "--offline", "--format", "json", "--by", "broker"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    calls = {c["call_id"]: c for c in doc["calls"]}
    first = calls["2024-11-04-test-a#1"]
    t = first["target"]
    # Entry 2024-11-05 at 28.200000762939453; 36 reached intraday and on the close
    # on 2025-01-03, 40 sessions later; end 2025-11-05 close 43.31999969482422.
    assert (t["price"], t["currency"], t["direction"]) == (36.0, "HKD", 1)
    assert (t["entry_session"], t["met_session"], t["sessions_to_met"]) == (
        "2024-11-05",
        "2025-01-03",
        40,
    )
    assert t["met_on_close_session"] == "2025-01-03"
    assert t["window_end_session"] == "2025-11-05"
    assert t["status"] == "matured" and t["met_at_end"] is True and t["reason"] is None
    e, end = 28.200000762939453, 43.31999969482422
    assert t["implied_upside"] == pytest.approx(36 / e - 1)
    assert t["error_at_end"] == pytest.approx((end - 36) / e)
    assert t["optimism"] == pytest.approx((36 / e - 1) - (end / e - 1))
    assert (first["previous"], first["rating_action"], first["target_action"]) == (
        None,
        "initiate",
        "new",
    )
    cut = calls["2025-12-01-test-b#1"]
    assert cut["previous"]["call_id"] == "2024-11-04-test-a#1"
    # The report says it was overweight: overweight -> neutral is a downgrade; 36 -> 35 a cut.
    assert (cut["rating_action"], cut["target_action"]) == ("downgrade", "cut")
    assert cut["target"]["status"] == "pending"
    assert cut["target"]["sessions_to_met"] == 33
    adr = calls["2025-12-01-test-b#2"]["target"]
    assert adr["status"] == "no data"
    assert adr["reason"] == (
        "not comparable: USD target on the ADR line (no USD/HKD rate: load HKD=X)"
    )
    (group,) = doc["rollup"]["groups"]
    # One matured target (the first call), met: 1/1; Wilson 95 % for 1/1:
    # centre (1 + z²/2)/(1 + z²) and half-width z·sqrt(z²/4)/(1 + z²), z = 1.96.
    z = 1.959963984540054
    assert (group["target_n"], group["target_met"], group["target_met_rate"]) == (1, 1, 1.0)
    assert group["target_met_ci_low"] == pytest.approx(1 / (1 + z * z))
    assert group["target_met_ci_high"] == pytest.approx(1.0)
    assert group["median_sessions_to_met"] == 40
    assert group["mean_abs_error_at_end"] == pytest.approx(abs(end - 36) / e)
    # Three rated calls, buy, neutral, buy: buy share 2/3.
    assert (group["rated"], group["buy_share"]) == (3, pytest.approx(2 / 3))


def test_validate_warns_when_a_stated_previous_rating_disagrees_with_the_book(recs):
    result = runner.invoke(app, ["recs", "validate"])
    assert result.exit_code == 0
    path = recs / "2025-12-01-test-b.yaml"
    # The book's previous Test Broker call on 1810.HK (2024-11-04) is a buy.
    assert result.stderr.splitlines()[0] == (
        f"{path}:11: recommendations.0.previous_rating: warning: overweight, but"
        " 2024-11-04-test-a#1 (2024-11-04) is buy"
    )
    assert result.stderr.splitlines()[-1].startswith("ok: 2 report(s), 3 call(s)")
