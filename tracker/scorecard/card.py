"""The weekly scorecard: what the tracked calls are doing, and which matured.

:func:`build_scorecard` is pure: the scored calls (``Scores.calls`` of
:func:`tracker.scoring.core.score_calls`), the index's closes and ``as_of`` in, a
:class:`Scorecard` out. Rendering is a separate step: :func:`render_text`,
:func:`render_html` (jinja2 templates in ``tracker/scorecard/templates``, autoescaped,
CSS inlined for Gmail and Outlook), :func:`render_chart` (matplotlib, PNG)
and :func:`mail_content`, which puts the three together for
:mod:`tracker.mailer`.

Conventions
-----------
* **This week** is the seven calendar days ending on ``as_of``
  (``as_of - 6 days`` .. ``as_of``), so a Monday-morning run covers the
  previous Tuesday to that Monday. The outbox keys sends by the ISO week of
  ``as_of`` (:func:`tracker.mailer.outbox.iso_week`).
* **New calls** start (``seen``, else published) within the week;
  **matured** calls reached their horizon session within the week.
* Excess figures are fractions (0.032 = 3.2 percentage points, shown as
  ``+3.2 pp``). Means use the excess *in the call's direction*
  (:func:`tracker.scoring.rollup.directional_excess`: sign flipped for underweight
  and sell, neutral left out), so higher is better for every call.
* **Index move**: the last close on or before ``as_of`` against the last close
  on or before ``as_of - 7 days`` (week) and on or before 31 December of the
  previous year (YTD). Missing or placeholder bars (NaN) are skipped; the
  sessions used are shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tracker.constants import DEFAULT_BENCHMARK
from tracker.render import formats
from tracker.vocab import SCORED_VERDICTS, Verdict

if TYPE_CHECKING:
    import pandas as pd

    from tracker.mailer import MailContent
    from tracker.scorecard.targets import TargetsSection

#: Calendar days the scorecard's week spans, ``as_of`` included.
WEEK_DAYS = 7
#: At most this many bars in the chart (the largest excesses, both ends).
MAX_CHART_BARS = 24
#: Chinese for "stock recommendation scorecard", the start of every subject.
SUBJECT_WORDS = "荐股记分卡 Scorecard"


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class CallLine:
    """One call as the scorecard shows it. Excess and returns are fractions."""

    call_id: str
    broker: str
    broker_local: str | None
    analysts: tuple[str, ...]
    name: str
    ticker: str
    rating: str
    called_band: str
    start_date: date
    entry_session: date | None
    entry_price: float | None
    status: str
    verdict: str
    horizon: str
    horizon_session: date | None
    excess: float | None
    stock_return: float | None
    benchmark_return: float | None
    realised_band: str | None
    sessions_remaining: int | None
    reason: str
    note: str | None

    @property
    def label(self) -> str:
        return f"{self.name} {self.ticker}"


@dataclass(frozen=True)
class LeaderRow:
    """One broker or analyst: counts and figures, each with the number it rests on."""

    group: str
    calls: int
    matured: int
    open: int
    scored: int
    hits: int
    hit_rate: float | None
    excess_n: int
    mean_excess: float | None


@dataclass(frozen=True)
class IndexMove:
    """The benchmark's change over the week and the year to date (fractions)."""

    symbol: str
    last_session: date | None
    last_close: float | None
    week_base_session: date | None
    week_change: float | None
    ytd_base_session: date | None
    ytd_change: float | None


@dataclass(frozen=True)
class Headline:
    calls_tracked: int
    new_this_week: int
    matured_this_week: int
    open: int
    matured: int
    no_data: int
    scored: int
    hits: int
    hit_rate: float | None
    matured_excess_n: int
    matured_mean_excess: float | None
    open_excess_n: int
    open_mean_excess: float | None


@dataclass(frozen=True)
class Scorecard:
    """Everything the weekly e-mail says, ready to render."""

    as_of: date
    week: str
    week_start: date
    benchmark: str
    notice: str | None
    headline: Headline
    index: IndexMove
    new_calls: tuple[CallLine, ...]
    matured_this_week: tuple[CallLine, ...]
    open_calls: tuple[CallLine, ...]
    no_data: tuple[CallLine, ...]
    by_broker: tuple[LeaderRow, ...]
    by_analyst: tuple[LeaderRow, ...]
    notes: tuple[str, ...] = ()
    #: Every matured call, best excess first (for the chart when nothing is open).
    matured_calls: tuple[CallLine, ...] = ()
    #: Targets reached, nearest and furthest, accuracy per broker (None: not scored).
    targets: TargetsSection | None = None

    def subject(self, prefix: str = "") -> str:
        """One line, with Chinese, e.g. ``荐股记分卡 Scorecard 2026-W48: 19 calls, ...``."""
        h = self.headline
        hit = "n/a" if h.hit_rate is None else f"{h.hit_rate:.0%} ({h.hits}/{h.scored})"
        move = fmt_pct(self.index.week_change) or "n/a"
        parts = [
            "[SIMULATED DATA] " if self.notice else "",
            f"{prefix.strip()} " if prefix.strip() else "",
            f"{SUBJECT_WORDS} {self.week}: {h.calls_tracked} calls, {h.matured_this_week} matured,",
            f" hit rate {hit}, {self.benchmark} {move} this week",
        ]
        return "".join(parts)


# --------------------------------------------------------------------------- build


def _opt(value: Any) -> Any:
    """None for NaN/NA/NaT, a plain Python value otherwise."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _lines(calls: pd.DataFrame) -> tuple[CallLine, ...]:
    out = []
    for r in calls.to_dict(orient="records"):
        out.append(
            CallLine(
                call_id=str(r["call_id"]),
                broker=str(r["broker"]),
                broker_local=_opt(r.get("broker_local")),
                analysts=tuple(r.get("analysts") or ()),
                name=str(r["name"]),
                ticker=str(r["ticker"]),
                rating=str(r["rating"]),
                called_band=str(r["called_band"]),
                start_date=_opt(r["start_date"]),
                entry_session=_opt(r["entry_session"]),
                entry_price=_opt(r["entry_price"]),
                status=str(r["status"]),
                verdict=str(r["verdict"]),
                horizon=str(r["horizon"]),
                horizon_session=_opt(r["horizon_session"]),
                excess=_opt(r["excess"]),
                stock_return=_opt(r["stock_return"]),
                benchmark_return=_opt(r["benchmark_return"]),
                realised_band=_opt(r["realised_band"]),
                sessions_remaining=_opt(r["sessions_remaining"]),
                reason=str(r.get("reason") or ""),
                note=_opt(r.get("note")),
            )
        )
    return tuple(out)


def _leaders(calls: pd.DataFrame, by: str) -> tuple[LeaderRow, ...]:
    from tracker.scoring.rollup import rollup

    if calls.empty:
        return ()
    table = rollup(calls, by=by, n_boot=100)  # the interval is not shown: few resamples
    table = table.sort_values(
        ["mean_excess", "calls", by], ascending=[False, False, True], na_position="last"
    )
    return tuple(
        LeaderRow(
            group=str(r[by]),
            calls=int(r["calls"]),
            matured=int(r["matured"]),
            open=int(r["open"]),
            scored=int(r["scored"]),
            hits=int(r["hits"]),
            hit_rate=_opt(r["hit_rate"]),
            excess_n=int(r["excess_n"]),
            mean_excess=_opt(r["mean_excess"]),
        )
        for r in table.to_dict(orient="records")
    )


def index_move(closes: pd.Series, as_of: date, symbol: str = DEFAULT_BENCHMARK) -> IndexMove:
    """The index's change over the week to ``as_of`` and since the end of last year.

    Parameters
    ----------
    closes
        Index levels by session date; NaN (missing or placeholder bars) is skipped.
    as_of
        The last date looked at; later closes are ignored.
    """
    import pandas as pd

    s = closes.dropna()
    s = s[s > 0]
    s.index = pd.DatetimeIndex(s.index)

    def last_on_or_before(day: date) -> tuple[date | None, float | None]:
        part = s.loc[: pd.Timestamp(day)]
        if part.empty:
            return None, None
        return part.index[-1].date(), float(part.iloc[-1])

    last_session, last = last_on_or_before(as_of)
    week_session, week_base = last_on_or_before(as_of - timedelta(days=WEEK_DAYS))
    ytd_session, ytd_base = last_on_or_before(date(as_of.year - 1, 12, 31))

    def change(base: float | None) -> float | None:
        return None if last is None or base is None else last / base - 1.0

    # No close within the week (stale prices): no weekly move rather than a false 0 %.
    week = change(week_base) if week_session is not None and last_session != week_session else None
    return IndexMove(symbol, last_session, last, week_session, week, ytd_session, change(ytd_base))


def build_scorecard(
    calls: pd.DataFrame,
    index_closes: pd.Series,
    as_of: date,
    *,
    benchmark: str = DEFAULT_BENCHMARK,
    notice: str | None = None,
    notes: tuple[str, ...] = (),
    targets: TargetsSection | None = None,
) -> Scorecard:
    """The week's scorecard from the scored calls.

    Parameters
    ----------
    calls
        ``Scores.calls`` from :func:`tracker.scoring.core.score_calls` run with the
        same ``as_of`` (calls started after it must already be absent).
    index_closes
        The benchmark's levels by session date, at least from the last session
        of the previous year; values after ``as_of`` are ignored.
    as_of
        The last day of the scorecard's week.
    benchmark
        The benchmark's symbol, for labels.
    notice
        A line every output must start with (simulated prices).
    notes
        Remarks shown at the end (stale prices, fetch problems).
    targets
        The targets section (:func:`tracker.scorecard.targets.targets_section`).

    Returns
    -------
    Scorecard
    """
    import pandas as pd

    from tracker.mailer.outbox import iso_week
    from tracker.scoring.rollup import directional_excess

    week_start = as_of - timedelta(days=WEEK_DAYS - 1)
    lo, hi = pd.Timestamp(week_start), pd.Timestamp(as_of)
    calls = calls.loc[pd.DatetimeIndex(calls["start_date"]) <= hi]
    status = calls["status"].astype(str)
    verdict = calls["verdict"].astype(str)
    start = pd.DatetimeIndex(calls["start_date"])
    horizon = pd.DatetimeIndex(calls["horizon_session"])
    is_new = (start >= lo) & (start <= hi)
    is_open = (status == "open").to_numpy()
    is_matured = (status == "matured").to_numpy()
    matured_now = is_matured & (horizon >= lo) & (horizon <= hi)
    no_data = (verdict == "no data").to_numpy()
    scored = is_matured & verdict.isin(SCORED_VERDICTS).to_numpy()
    hits = int((scored & (verdict == Verdict.HIT).to_numpy()).sum())
    dx = directional_excess(calls)
    mx, ox = dx[is_matured].dropna(), dx[is_open].dropna()

    def by_excess(mask) -> pd.DataFrame:
        """The calls of ``mask`` that have prices, best excess first (ties in book order)."""
        return calls.loc[mask & ~no_data].sort_values(
            "excess", ascending=False, na_position="last", kind="stable"
        )

    open_calls, matured_calls = by_excess(is_open), by_excess(is_matured)
    headline = Headline(
        calls_tracked=len(calls),
        new_this_week=int(is_new.sum()),
        matured_this_week=int(matured_now.sum()),
        open=int(is_open.sum()),
        matured=int(is_matured.sum()),
        no_data=int(no_data.sum()),
        scored=int(scored.sum()),
        hits=hits,
        hit_rate=hits / scored.sum() if scored.any() else None,
        matured_excess_n=len(mx),
        matured_mean_excess=float(mx.mean()) if len(mx) else None,
        open_excess_n=len(ox),
        open_mean_excess=float(ox.mean()) if len(ox) else None,
    )
    move = index_move(index_closes, as_of, benchmark)
    if move.last_session is None or move.last_session < week_start:
        last = "none" if move.last_session is None else f"from {move.last_session}"
        notes = (
            *notes,
            f"the latest {benchmark} close is {last}, before this week: update the"
            " prices (`tracker prices update --recs`) for current figures",
        )
    return Scorecard(
        as_of=as_of,
        week=iso_week(as_of),
        week_start=week_start,
        benchmark=benchmark,
        notice=notice,
        headline=headline,
        index=move,
        new_calls=_lines(calls.loc[is_new]),
        matured_this_week=_lines(calls.loc[matured_now]),
        open_calls=_lines(open_calls),
        no_data=_lines(calls.loc[no_data]),
        by_broker=_leaders(calls, "broker"),
        by_analyst=_leaders(calls, "analyst"),
        notes=tuple(notes),
        matured_calls=_lines(matured_calls),
        targets=targets,
    )


# --------------------------------------------------------------------------- formats


def fmt_pp(x: float | None) -> str:
    """Excess fraction as signed percentage points: 0.0321 → ``+3.2 pp``."""
    return formats.pp(x)


def fmt_pct(x: float | None) -> str:
    """A return as a signed percentage: -0.0105 → ``-1.1%``."""
    return formats.pct(x, 1, signed=True)


fmt_rate = formats.rate
fmt_date = formats.iso_date
display_width = formats.display_width
pad = formats.pad


# --------------------------------------------------------------------------- render


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.scorecard", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pp=fmt_pp, pct=fmt_pct, date=fmt_date, pad=pad)
    env.globals.update(rate=fmt_rate)
    return env


def render_text(card: Scorecard) -> str:
    """The plain-text scorecard (the e-mail's text/plain part)."""
    return _environment().get_template("scorecard.txt.j2").render(card=card)


def render_html(card: Scorecard, chart_src: str) -> str:
    """The HTML scorecard with its CSS inlined into ``style`` attributes.

    ``chart_src`` is the image's URL: ``cid:<Content-ID>`` in the e-mail, a
    ``data:`` URI in the preview file. All text from the call files is escaped.
    """
    import css_inline

    html = _environment().get_template("scorecard.html.j2").render(card=card, chart_src=chart_src)
    return css_inline.inline(html)


@lru_cache(maxsize=8)
def cjk_font_path(sample: str = "腾讯控股聯想集團") -> str | None:
    """A font file on this machine with glyphs for every character of ``sample``, or None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    hints = (
        "cjk",
        "han",
        "hei",
        "song",
        "ming",
        "kai",
        "gothic",
        "wqy",
        "wenquan",
        "noto",
        "droid",
        "yahei",
        "pingfang",
        "simsun",
        "fallback",
        "unifont",
    )
    # matplotlib's font cache may predate a font installed since: scan the system too.
    known = {f.fname for f in font_manager.fontManager.ttflist}
    fonts = sorted(
        known | set(font_manager.findSystemFonts()),
        key=lambda p: not any(h in p.lower() for h in hints),
    )
    wanted = {ord(c) for c in sample}
    for path in fonts:
        try:
            charmap = FT2Font(path).get_charmap()
        except (OSError, RuntimeError, ValueError):
            continue
        glyphs = {charmap.get(c, 0) for c in wanted}
        # Every character needs its own glyph: a "last resort" font maps them all to one box.
        if 0 not in glyphs and len(glyphs) == len(wanted):
            return path
    return None


def chart_calls(card: Scorecard) -> tuple[str, tuple[CallLine, ...]]:
    """The chart's title and bars: open calls' interim excess, else the calls matured this
    week, else every matured call (at most :data:`MAX_CHART_BARS`: the best and the worst)."""
    choices = (
        (card.open_calls, f"Open calls: excess return vs {card.benchmark} so far (pp)"),
        (
            card.matured_this_week,
            f"Matured this week: excess return vs {card.benchmark} at the horizon (pp)",
        ),
        (
            card.matured_calls,
            f"All matured calls: excess return vs {card.benchmark} at the horizon (pp)",
        ),
    )
    shown: tuple[CallLine, ...] = ()
    title = choices[0][1]
    for lines, heading in choices:
        candidates = tuple(c for c in lines if c.excess is not None)
        if candidates:
            shown, title = candidates, heading
            break
    if len(shown) > MAX_CHART_BARS:
        ranked = sorted(shown, key=lambda c: c.excess or 0.0, reverse=True)
        half = MAX_CHART_BARS // 2
        shown = tuple(ranked[:half] + ranked[-half:])
    return title, shown


def render_chart(card: Scorecard, font_path: str | None | bool = True) -> bytes:
    """A PNG bar chart of excess return per call (see :func:`chart_calls`).

    Parameters
    ----------
    font_path
        ``True``: look for a CJK font (:func:`cjk_font_path`) and label bars
        with the Chinese name and ticker, or the ticker alone when none is
        found, so no label renders as empty boxes. ``False``/``None``: tickers.
        A path: that font.
    """
    import io

    # A bare Figure draws with Agg and touches no global backend state (pyplot is not used).
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    path = cjk_font_path() if font_path is True else (font_path or None)
    font = FontProperties(fname=path) if path else None
    title, shown = chart_calls(card)
    labels = [c.label if font else c.ticker for c in shown]
    values = [(c.excess or 0.0) * 100 for c in shown]
    height = 1.4 + 0.32 * max(len(shown), 3)
    fig = Figure(figsize=(7.0, height), dpi=100, facecolor="white")
    ax = fig.add_subplot()
    if shown:
        ypos = list(range(len(shown)))[::-1]
        colours = ["#1f6fb4" if v >= 0 else "#d9822b" for v in values]
        ax.barh(ypos, values, color=colours, height=0.62)
        ax.set_yticks(ypos, labels, fontproperties=font, fontsize=9)
        ax.axvline(0, color="#444444", linewidth=0.8)
        span = max(abs(v) for v in values) or 1.0
        for y, v in zip(ypos, values, strict=True):
            ax.text(
                v + (0.02 * span if v >= 0 else -0.02 * span),
                y,
                f"{v:+.1f}",
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=8,
            )
        ax.set_xlim(
            -1.25 * span if min(values) < 0 else -0.1 * span,
            1.25 * span if max(values) > 0 else 0.1 * span,
        )
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no scored calls yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("percentage points", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, facecolor="white")
    return out.getvalue()


def mail_content(card: Scorecard, chart_png: bytes, subject_prefix: str = "") -> MailContent:
    """Subject, text, HTML (chart by ``cid:``) and the chart, for :mod:`tracker.mailer`."""
    from tracker.mailer import InlineImage, MailContent, new_content_id

    cid = new_content_id()
    return MailContent(
        subject=card.subject(subject_prefix),
        text=render_text(card),
        html=render_html(card, f"cid:{cid}"),
        images=(InlineImage(cid=cid, data=chart_png, filename="scorecard-chart.png"),),
    )
