"""tracker.scorecard.card: the week's figures from scored calls, the text/HTML/chart renderings,
and the HTML as headless Chromium draws it."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tracker.scorecard.card import (
    build_scorecard,
    chart_calls,
    cjk_font_path,
    display_width,
    index_move,
    mail_content,
    pad,
    render_chart,
    render_html,
    render_text,
)

AS_OF = date(2026, 11, 23)  # a Monday; the week is 2026-11-17 .. 2026-11-23
NaT = pd.NaT


def call(
    call_id,
    broker,
    analysts,
    name,
    ticker,
    rating,
    direction,
    start,
    status,
    verdict,
    horizon_session,
    excess,
    entry=None,
    band=None,
    remaining=None,
    reason="",
):
    return {
        "call_id": call_id,
        "report": f"r-{broker}",
        "broker": broker,
        "broker_local": None,
        "analysts": analysts,
        "name": name,
        "ticker": ticker,
        "rating": rating,
        "direction": direction,
        "called_band": "(0, inf)" if direction > 0 else "(-inf, -5)",
        "start_date": pd.Timestamp(start),
        "entry_session": pd.Timestamp(entry) if entry else NaT,
        "entry_price": 10.0 if entry else np.nan,
        "status": status,
        "verdict": verdict,
        "horizon": "6M",
        "horizon_session": pd.Timestamp(horizon_session),
        "excess": excess,
        "stock_return": np.nan,
        "benchmark_return": np.nan,
        "realised_band": band,
        "sessions_remaining": remaining,
        "reason": reason,
        "note": None,
    }


def calls_frame() -> pd.DataFrame:
    rows = [
        # A: matured inside the week (Friday), a hit.
        call(
            "A",
            "Huaan",
            ["金荣"],
            "腾讯控股",
            "0700.HK",
            "buy",
            1,
            "2026-05-04",
            "matured",
            "hit",
            "2026-11-20",
            0.20,
            "2026-05-05",
            "buy",
        ),
        # B: a sell call that matured the day before the week began: not "this week".
        call(
            "B",
            "Huaan",
            ["金荣"],
            "美团-W",
            "3690.HK",
            "sell",
            -1,
            "2026-05-03",
            "matured",
            "hit",
            "2026-11-16",
            -0.10,
            "2026-05-05",
            "sell",
        ),
        # C: starts on the first day of the week: new.
        call(
            "C",
            "Caitong",
            ["郝彦辉"],
            "聯想集團",
            "0992.HK",
            "attention",
            1,
            "2026-11-17",
            "open",
            "off track",
            "2027-05-18",
            -0.03,
            "2026-11-18",
            "neutral",
            120,
        ),
        # D: started the day before the week: not new.
        call(
            "D",
            "Caitong",
            ["郝彦辉"],
            "金蝶國際",
            "0268.HK",
            "attention",
            1,
            "2026-11-16",
            "open",
            "on track",
            "2027-05-17",
            0.05,
            "2026-11-17",
            "overweight",
            119,
        ),
        # E: matures on as_of itself, a miss; no analyst named.
        call(
            "E",
            "Caitong",
            [],
            "小米集团-W",
            "1810.HK",
            "buy",
            1,
            "2026-05-20",
            "matured",
            "miss",
            "2026-11-23",
            -0.08,
            "2026-05-21",
            "underweight",
        ),
        # F: matured this week without prices.
        call(
            "F",
            "Huaan",
            ["金荣"],
            "腾讯音乐",
            "1698.HK",
            "attention",
            1,
            "2026-05-15",
            "matured",
            "no data",
            "2026-11-18",
            np.nan,
            "2026-05-18",
            None,
            reason="no bar for the stock within 3 sessions of 2026-11-18",
        ),
        # G: a neutral call (direction 0): ranked, but not in the directional means.
        call(
            "G",
            "Broker X",
            [],
            "阿里巴巴",
            "9988.HK",
            "neutral",
            0,
            "2026-10-01",
            "open",
            "on track",
            "2027-04-01",
            0.02,
            "2026-10-02",
            "neutral",
            80,
        ),
        # H: published on as_of, not entered yet.
        call(
            "H",
            "Broker X",
            [],
            "网易-S",
            "9999.HK",
            "buy",
            1,
            "2026-11-23",
            "open",
            "pending",
            "2027-05-24",
            np.nan,
            reason="awaiting entry",
        ),
        # I: published after as_of: must not count at all.
        call(
            "I",
            "Broker X",
            [],
            "快手-W",
            "1024.HK",
            "buy",
            1,
            "2026-11-24",
            "open",
            "pending",
            "2027-05-25",
            np.nan,
        ),
    ]
    frame = pd.DataFrame(rows)
    frame["sessions_remaining"] = frame["sessions_remaining"].astype("Int64")
    return frame


def hsi() -> pd.Series:
    return pd.Series(
        [100.0, 110.0, 111.0, 112.2, np.nan, 999.0],
        index=pd.to_datetime(
            ["2025-12-31", "2026-11-13", "2026-11-16", "2026-11-20", "2026-11-23", "2026-11-24"]
        ),
    )


@pytest.fixture(scope="module")
def card():
    return build_scorecard(calls_frame(), hsi(), AS_OF)


def test_headline(card):
    h = card.headline
    assert (card.week, card.week_start) == ("2026-W48", date(2026, 11, 17))
    assert h.calls_tracked == 8  # A..H; I starts after as_of
    assert h.new_this_week == 2  # C (first day), H (as_of)
    assert h.matured_this_week == 3  # A, E, F; B matured the day before the week
    assert (h.open, h.matured, h.no_data) == (4, 4, 1)
    assert (h.hits, h.scored) == (2, 3) and h.hit_rate == pytest.approx(2 / 3)
    # Directional excess of matured calls: A +0.20, B -1 * -0.10, E -0.08 (F has none).
    assert h.matured_excess_n == 3
    assert h.matured_mean_excess == pytest.approx((0.20 + 0.10 - 0.08) / 3)
    # Open: C -0.03, D +0.05; G is neutral and H has no excess.
    assert h.open_excess_n == 2 and h.open_mean_excess == pytest.approx((-0.03 + 0.05) / 2)


def test_sections(card):
    assert [c.call_id for c in card.new_calls] == ["C", "H"]
    assert [c.call_id for c in card.matured_this_week] == ["A", "E", "F"]
    assert [c.call_id for c in card.open_calls] == ["D", "G", "C", "H"]  # by excess, none last
    assert [c.call_id for c in card.no_data] == ["F"]
    c = card.open_calls[2]
    assert (c.realised_band, c.rating, c.called_band, c.verdict, c.sessions_remaining) == (
        "neutral",
        "attention",
        "(0, inf)",
        "off track",
        120,
    )


def test_leaderboards(card):
    by_broker = {r.group: r for r in card.by_broker}
    assert [r.group for r in card.by_broker] == ["Huaan", "Caitong", "Broker X"]  # by mean excess
    huaan = by_broker["Huaan"]
    # Huaan: A, B, F; matured 3, scored A and B (both hits), mean of +0.20 and +0.10.
    assert (huaan.calls, huaan.matured, huaan.open, huaan.scored, huaan.hits) == (3, 3, 0, 2, 2)
    assert huaan.mean_excess == pytest.approx(0.15) and huaan.excess_n == 2
    caitong = by_broker["Caitong"]
    assert (caitong.calls, caitong.matured, caitong.open, caitong.scored, caitong.hits) == (
        3,
        1,
        2,
        1,
        0,
    )
    assert caitong.mean_excess == pytest.approx(-0.08)
    x = by_broker["Broker X"]
    assert (x.calls, x.scored, x.hit_rate, x.mean_excess) == (2, 0, None, None)
    by_analyst = {r.group: r for r in card.by_analyst}
    assert by_analyst["金荣"].calls == 3 and by_analyst["郝彦辉"].calls == 2
    assert by_analyst["(no analyst named)"].calls == 3  # E, G, H


def test_index_move():
    move = index_move(hsi(), AS_OF, "^HSI")
    # 2026-11-23 is a NaN (placeholder) bar and 2026-11-24 is after as_of: the last close
    # is 112.2 on 2026-11-20; a week earlier (<= 2026-11-16) 111.0; end of 2025: 100.0.
    assert move.last_session == date(2026, 11, 20) and move.last_close == 112.2
    assert move.week_base_session == date(2026, 11, 16)
    assert move.week_change == pytest.approx(112.2 / 111.0 - 1)
    assert move.ytd_base_session == date(2025, 12, 31)
    assert move.ytd_change == pytest.approx(0.122)
    empty = index_move(pd.Series(dtype=float), AS_OF)
    assert (empty.week_change, empty.ytd_change, empty.last_session) == (None, None, None)


def test_stale_index_has_no_weekly_move_and_a_note():
    # The last close (2026-11-20) is before the week of as_of 2026-12-01 (11-25..12-01):
    # a weekly move of 0 % would be false, so there is none, and a note says why.
    late = date(2026, 12, 1)
    closes = hsi().loc[:"2026-11-23"]
    move = index_move(closes, late)
    assert move.week_change is None and move.week_base_session == date(2026, 11, 20)
    assert move.ytd_change == pytest.approx(0.122)
    card = build_scorecard(calls_frame(), closes, late)
    assert card.notes[-1].startswith("the latest ^HSI close is from 2026-11-20, before this week")
    assert "^HSI n/a this week" in card.subject()


def test_subject_is_one_line_with_chinese(card):
    assert card.subject("[ops]") == (
        "[ops] 荐股记分卡 Scorecard 2026-W48: 8 calls, 3 matured, hit rate 67% (2/3),"
        " ^HSI +1.1% this week"
    )
    simulated = build_scorecard(calls_frame(), hsi(), AS_OF, notice="SIMULATED DATA: test")
    assert simulated.subject().startswith("[SIMULATED DATA] 荐股记分卡")


def test_text_rendering(card):
    text = render_text(card)
    lines = text.splitlines()
    assert lines[0] == "荐股记分卡 · Weekly scorecard 2026-W48"
    assert "  Hit rate (matured):   67% (2/3)" in lines
    # (0.20 + 0.10 - 0.08) / 3 = 0.0733 -> +7.3 pp; ^HSI 112.2/111 - 1 = +1.08%
    assert "  Mean excess, matured: +7.3 pp (n=3)" in lines
    assert any(
        line.startswith("  ^HSI this week:       +1.1% (2026-11-16 to 2026-11-20)")
        for line in lines
    )
    assert any(
        line.startswith("  ^HSI YTD:             +12.2% (from 2025-12-31)") for line in lines
    )
    tencent = next(line for line in lines if "0700.HK" in line)
    assert "+20.0 pp" in tencent and "HIT" in tencent
    # CJK-aware padding: in each section the ticker starts at the same display column
    # (2 + 14 + 1 = 17 columns in; the ranked open calls have a 5-column "  1. " more).
    rows = [line for line in lines if line.startswith("  ") and ".HK " in line]
    ranked = [line for line in rows if line.lstrip()[0].isdigit()]
    plain = [line for line in rows if line not in ranked]
    assert len(ranked) == 4  # open D, G, C, H
    assert len(plain) == 6  # new C, H; matured A, E, F; without data F
    assert {display_width(line[: line.index(".HK") - 4]) for line in plain} == {17}
    assert {display_width(line[: line.index(".HK") - 4]) for line in ranked} == {22}


def test_text_starts_with_the_simulated_notice():
    card = build_scorecard(calls_frame(), hsi(), AS_OF, notice="SIMULATED DATA: seeded model")
    assert render_text(card).splitlines()[0] == "SIMULATED DATA: seeded model"
    html = render_html(card, "cid:x")
    body = html[html.index("<body") :]
    assert body.index("SIMULATED DATA: seeded model") < body.index("Weekly scorecard")


def test_html_escapes_user_text_and_inlines_css():
    frame = calls_frame()
    frame.loc[0, "name"] = '<script>alert("x")</script>腾讯'
    frame.loc[0, "broker"] = "A&B <Securities>"
    card = build_scorecard(frame, hsi(), AS_OF)
    html = render_html(card, "cid:chart.1@tracker.invalid")
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert "A&amp;B &lt;Securities&gt;" in html
    assert "<style" not in html  # css_inline moved every rule into style attributes
    assert '<th class="num" style="' in html
    assert 'src="cid:chart.1@tracker.invalid"' in html
    assert "+20.0 pp" in html and "67%" in html


def test_pad_is_cjk_aware():
    assert display_width("腾讯A") == 5
    assert pad("腾讯", 6) == "腾讯  " and pad("ab", 4, right=True) == "  ab"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def colour_share(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> float:
    rgb_px = (pixels[..., :3] * 255 if pixels.dtype.kind == "f" else pixels[..., :3]).astype(int)
    return float((np.abs(rgb_px - np.array(rgb)).max(axis=-1) <= tol).mean())


def test_chart_png(card):
    from matplotlib.image import imread

    data = render_chart(card, font_path=False)
    width, height = png_size(data)
    title, shown = chart_calls(card)
    # Open calls with an excess: D, G, C (H has none); figure 7 in x (1.4 + 0.32 * 3) in at 100 dpi.
    assert [c.call_id for c in shown] == ["D", "G", "C"] and title.startswith("Open calls")
    assert (width, height) == (700, 236)
    pixels = imread(io.BytesIO(data))
    assert colour_share(pixels, (0x1F, 0x6F, 0xB4)) > 0.005  # blue bars (D, G positive)
    assert colour_share(pixels, (0xD9, 0x82, 0x2B)) > 0.002  # orange bar (C negative)
    assert colour_share(pixels, (255, 255, 255)) > 0.5  # white background


def test_chart_falls_back_to_matured_calls_and_to_tickers():
    frame = calls_frame()
    frame = frame.loc[frame["status"] != "open"]
    card = build_scorecard(frame, hsi(), AS_OF)
    title, shown = chart_calls(card)
    assert title.startswith("Matured this week") and [c.call_id for c in shown] == ["A", "E"]
    assert png_size(render_chart(card))[0] == 700
    # Without a CJK font the labels are tickers, never boxes.
    if cjk_font_path() is None:
        assert render_chart(card) == render_chart(card, font_path=False)


def test_chart_falls_back_to_every_matured_call():
    # A week later (2026-11-24..30) nothing is open or matures: the chart shows every matured
    # call with an excess, best first: A +0.20, E -0.08, B -0.10 (F has no prices).
    frame = calls_frame()
    frame = frame.loc[frame["status"] != "open"]
    card = build_scorecard(frame, hsi(), AS_OF + timedelta(days=7))
    assert card.matured_this_week == () and card.open_calls == ()
    title, shown = chart_calls(card)
    assert title == "All matured calls: excess return vs ^HSI at the horizon (pp)"
    assert [c.call_id for c in shown] == ["A", "E", "B"]
    # Without any call to chart, the title stays the open calls' and the chart says so.
    empty = build_scorecard(frame.iloc[:0], hsi(), AS_OF)
    assert chart_calls(empty) == ("Open calls: excess return vs ^HSI so far (pp)", ())


def test_mail_content_references_its_image(card):
    content = mail_content(card, b"\x89PNG fake", "[ops]")
    (image,) = content.images
    assert f'src="cid:{image.cid}"' in content.html
    assert content.subject.startswith("[ops] 荐股记分卡")
    assert content.text == render_text(card)


# --------------------------------------------------------------------------- Chromium

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    message = (
        "headless Chromium is needed for the rendering check: install Debian's chromium"
        " package (apt-get install chromium), or run `make test` as root, which installs it"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_html_renders_in_headless_chromium(card, tmp_path):
    import base64

    from matplotlib.image import imread

    browser = chromium()
    chart = render_chart(card)
    page = tmp_path / "scorecard.html"
    page.write_text(
        render_html(card, "data:image/png;base64," + base64.b64encode(chart).decode()), "utf-8"
    )
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=800,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert png_size(shot.read_bytes()) == (800, 1600)
    assert 20_000 < shot.stat().st_size < 5_000_000
    pixels = imread(shot)
    background = colour_share(pixels, (0xF2, 0xF4, 0xF7), tol=3)
    white = colour_share(pixels, (255, 255, 255), tol=3)
    assert 0.05 < background < 0.9 and 0.1 < white < 0.95  # the page and the white sheet
    assert colour_share(pixels, (0x12, 0x30, 0x4F), tol=10) > 0.005  # header rows were drawn
    assert colour_share(pixels, (0x1F, 0x6F, 0xB4), tol=12) > 0.001  # the chart's bars loaded


def test_font_search_skips_fonts_that_draw_boxes():
    # matplotlib ships "LastResort", which maps every character to one box glyph:
    # it must never be taken for a CJK font.
    latin = cjk_font_path("Tracker")
    assert latin is not None and "lastresort" not in latin.lower()
    cjk = cjk_font_path()
    assert cjk is None or "lastresort" not in cjk.lower()
