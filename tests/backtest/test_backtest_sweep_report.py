"""The sweep's report.html (tracker.backtest.sweep_report) on synthetic variants: inline
SVG heatmap and decay curve with the right numbers, the page's tables, no matplotlib."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from tracker.backtest.spec import load_spec
from tracker.backtest.sweep import VARIANT_STATS
from tracker.backtest.sweep_report import render_sweep_report
from tracker.render.svg import MARGIN

ROOT = Path(__file__).resolve().parents[2]
HUAAN = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"
FIELDS = ("exit.months", "entry_delay_sessions", "costs")
MONTHS, DELAYS, COSTS = (3, 6), (0, 1, 5, 20), ("on", "off")


def excess(months: int, delay: int, costs: str) -> float:
    return 0.01 * months / 3 - 0.0012 * delay + (0.0031 if costs == "off" else 0.0)


def variants():
    """16 variants like ``variants_frame``; (6, 20, off) could not run."""
    import pandas as pd

    rows = []
    for m, d, c in itertools.product(MONTHS, DELAYS, COSTS):
        failed = (m, d, c) == (6, 20, "off")
        stats = {k: np.nan if failed else 1.0 for k in VARIANT_STATS}
        if not failed:
            stats["excess_return"] = excess(m, d, c)
        rows.append(
            {
                "exit.months": m,
                "entry_delay_sessions": d,
                "costs": c,
                **stats,
                "error": "nothing to trade" if failed else "",
            }
        )
    return pd.DataFrame(rows, columns=[*FIELDS, *VARIANT_STATS, "error"])


MANIFEST = {"spec_file": "backtests/huaan.yaml", "spec_sha256": "abc", "command": "sweep"}


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


@pytest.fixture(scope="module")
def page() -> str:
    return render_sweep_report(
        load_spec(HUAAN),
        variants(),
        FIELDS,
        MANIFEST,
        warnings=("1 variant(s) could not run (see error)",),
        banner="SIMULATED DATA: test",
    )


def test_page_keeps_banner_warnings_and_tables(page):
    assert page.startswith("<!-- SIMULATED DATA: test -->\n<!DOCTYPE html>")
    assert '<div class="banner">SIMULATED DATA: test</div>' in page
    assert '<div class="warn">1 variant(s) could not run (see error)</div>' in page
    assert "sweep of 16 variants" in page and "capital HKD 1,000,000" in page
    assert "varied: exit.months, entry_delay_sessions, costs" in page
    # the variants table: a header and 16 rows; the reproduce table's keys
    variants_table = page.split("<h2>Variants</h2>")[1].split("<h2>Reproduce</h2>")[0]
    assert variants_table.count("<tr>") == 17
    # excess of (3, 0, on): 0.01 x 3 / 3 = 1.00%
    assert "<td>1.00%</td>" in variants_table and "<td>nothing to trade</td>" in variants_table
    assert "<td>spec_sha256</td><td><code>abc</code></td>" in page
    assert "data:image" not in page and "<script" not in page


def test_heatmap_shows_the_mean_over_the_other_fields(page):
    heat, _ = svgs(page)
    cells = [g for g in heat.iter("g") if g.get("class") == "cell"]
    # Default pair: the first two fields other than the delay, months x costs.
    assert len(cells) == len(MONTHS) * len(COSTS)
    expected = []
    for m, c in itertools.product(MONTHS, COSTS):
        ran = [excess(m, d, c) for d in DELAYS if (m, d, c) != (6, 20, "off")]
        expected.append(f"{100 * sum(ran) / len(ran):+.1f}")
    # By hand, in pp: (3, on) 1 - 0.12 x 26 / 4 = 0.22; (3, off) 0.53; (6, on) 2 - 0.78 =
    # 1.22; (6, off) without delay 20: 2 - 0.12 x 6 / 3 + 0.31 = 2.07.
    assert expected == ["+0.2", "+0.5", "+1.2", "+2.1"]
    assert [g.find("text").text for g in cells] == expected
    texts = [t.text for t in heat.iter("text")]
    assert "exit.months" in texts and "costs" in texts


def test_decay_curve_one_marker_per_delay_proportional_to_it(page):
    _, curve = svgs(page)
    width = float(curve.get("width"))
    left, right, _, _ = MARGIN
    pw = width - left - right
    (points,) = [g for g in curve.iter("g") if g.get("class") == "points"]
    cx = [float(c.get("cx")) for c in points.iter("circle")]
    # delays 0..20 across the plot: d at left + pw x d / 20
    np.testing.assert_allclose(cx, [left + pw * d / 20 for d in DELAYS], atol=0.06)
    # the band is drawn (min..max over months and costs) and the zero line
    assert len(list(curve.iter("polygon"))) == 1
    assert any(ln.get("stroke") == "#888" for ln in curve.iter("line"))


def test_field_values_are_escaped_in_the_heatmap():
    frame = variants()
    frame["costs"] = frame["costs"].map({"on": "<on&>", "off": 'o"ff'})
    html = render_sweep_report(load_spec(HUAAN), frame, FIELDS, MANIFEST)
    assert "<on&>" not in html
    heat = svgs(html)[0]
    assert {"<on&>", 'o"ff'} <= {t.text for t in heat.iter("text")}


def test_no_heatmap_for_one_field_no_curve_without_the_delay():
    frame = variants()
    one = frame[(frame["costs"] == "on") & (frame["entry_delay_sessions"] == 0)]
    html = render_sweep_report(load_spec(HUAAN), one, ("exit.months",), MANIFEST)
    assert "<svg " not in html and "Excess return:" not in html
    two = frame[frame["entry_delay_sessions"] == 0]
    html = render_sweep_report(load_spec(HUAAN), two, ("exit.months", "costs"), MANIFEST)
    assert html.count("<svg ") == 1 and "Information decay" not in html


def test_a_field_given_one_value_is_no_axis_of_the_default_heatmap():
    # `--vary exit.rule=fixed --vary exit.months=3,6 --vary costs=on,off`: exit.rule is
    # varied in name only; the heatmap is exit.months x costs.
    frame = variants()
    frame = frame[frame["entry_delay_sessions"] == 0].assign(**{"exit.rule": "fixed"})
    fields = ("exit.rule", "exit.months", "costs")
    html = render_sweep_report(load_spec(HUAAN), frame, fields, MANIFEST)
    assert "Excess return: exit.months × costs" in html


def test_rendering_a_sweep_report_does_not_import_matplotlib():
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests/backtest')\n"
        "from test_backtest_sweep_report import HUAAN, FIELDS, MANIFEST, variants\n"
        "from tracker.backtest.spec import load_spec\n"
        "from tracker.backtest.sweep_report import render_sweep_report\n"
        "html = render_sweep_report(load_spec(HUAAN), variants(), FIELDS, MANIFEST)\n"
        "assert html.count('<svg ') == 2\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
