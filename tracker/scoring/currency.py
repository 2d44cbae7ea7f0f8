"""Target prices in the listing's currency: compared directly, converted, or not comparable.

A target is only compared with the prices of the line it was set for. Every
HKEX line tracked here trades in HKD, so:

* an **HKD** target is compared as it is;
* a **USD** target is taken to be set on the company's US line (ADR): one ADS
  stands for ``shares_per_adr`` Hong Kong shares (:mod:`tracker.registry.adr`), so
  the Hong Kong equivalent is ``target_usd * usd_hkd / shares_per_adr``, with
  ``usd_hkd`` the HKD price of one USD (Yahoo's ``HKD=X``);
* a **CNY** target is converted with the HKD price of one CNY (Yahoo's
  ``CNYHKD=X``): ``target_cny * cny_hkd``.

The rate is the last quote dated on or before the call's entry session and at
most :data:`MAX_FX_AGE_DAYS` calendar days old (currency quotes follow their own
calendar, not HKEX's); the rate and its date are shown with the figures.
Without a ratio or a rate the target is "not comparable", with the reason:
never compared raw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The currency every tracked HKEX line trades in.
LISTING_CURRENCY = "HKD"
#: Yahoo symbols of the rates: HKD per one unit of the currency.
FX_SYMBOLS: dict[str, str] = {"USD": "HKD=X", "CNY": "CNYHKD=X"}
#: A rate older than this (calendar days before the entry session) is not used.
MAX_FX_AGE_DAYS = 7

NOT_COMPARABLE = "not comparable: "


def _last_rates(series: pd.Series, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last positive quote on or before each date of ``when``, and its date (NaT if none)."""
    s = series[series > 0].dropna().sort_index()
    nat = np.datetime64("NaT", "ns")
    if not len(s):
        return np.full(len(when), np.nan), np.full(len(when), nat)
    index = pd.DatetimeIndex(s.index)
    dates = (index.tz_localize(None) if index.tz else index).values.astype("datetime64[ns]")
    idx = np.searchsorted(dates, when, side="right") - 1
    found = idx >= 0
    rate = np.where(found, s.to_numpy(dtype=float)[np.maximum(idx, 0)], np.nan)
    day = np.where(found, dates[np.maximum(idx, 0)], nat)
    return rate, day


def comparable_targets(
    calls: pd.DataFrame,
    entry_session: pd.Series | np.ndarray,
    fx: dict[str, pd.Series] | None = None,
    adr_ratios: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Each call's target in HKD, or the reason it cannot be compared.

    Parameters
    ----------
    calls
        At least ``ticker``, ``target_price`` and ``target_currency`` (NaN/None
        without a target).
    entry_session
        Entry session of each call (the rate is taken on or before it).
    fx
        ``{"USD": series, "CNY": series}``: HKD per one unit, indexed by date.
        A missing currency makes its targets not comparable.
    adr_ratios
        Hong Kong shares per ADS by ticker (:func:`tracker.registry.adr.adr_ratios`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``calls``: ``compared_price`` (HKD; NaN when there is no
        target or it is not comparable), ``fx_rate``, ``fx_date``,
        ``adr_ratio`` and ``currency_note`` (``""``, or ``"not comparable: ..."``).
    """
    fx = fx or {}
    adr_ratios = adr_ratios or {}
    n = len(calls)
    price = pd.to_numeric(calls["target_price"], errors="coerce").to_numpy(dtype=float)
    cur = calls["target_currency"].astype(object).where(calls["target_currency"].notna(), "")
    cur = cur.astype(str).str.upper().to_numpy(dtype=object)
    tickers = calls["ticker"].astype(str).to_numpy(dtype=object)
    when = pd.DatetimeIndex(entry_session).values.astype("datetime64[ns]")
    has = np.isfinite(price) & (price > 0)
    compared = np.where(has & (cur == LISTING_CURRENCY), price, np.nan)
    rate = np.full(n, np.nan)
    rate_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ratio = np.full(n, np.nan)
    note = np.full(n, "", dtype=object)

    usd = has & (cur == "USD")
    ratio[usd] = [adr_ratios.get(t, np.nan) for t in tickers[usd]]
    no_ratio = usd & np.isnan(ratio)
    note[no_ratio] = (
        NOT_COMPARABLE + "USD target and no ADR ratio for " + tickers[no_ratio].astype(str)
    )
    for code in ("USD", "CNY"):
        mine = has & (cur == code) & (note == "")
        if not mine.any():
            continue
        line = "on the ADR line" if code == "USD" else "on an HKD line"
        symbol = FX_SYMBOLS[code]
        if code not in fx:
            note[mine] = f"{NOT_COMPARABLE}{code} target {line} (no {code}/HKD rate: load {symbol})"
            continue
        r, day = _last_rates(fx[code], when[mine])
        age = (when[mine] - day).astype("timedelta64[D]").astype(float)
        fresh = ~np.isnan(r) & ~np.isnat(day) & (age <= MAX_FX_AGE_DAYS)
        idx = np.flatnonzero(mine)
        stale = idx[~fresh]
        note[stale] = (
            f"{NOT_COMPARABLE}{code} target {line} (no {code}/HKD rate within"
            f" {MAX_FX_AGE_DAYS} days before the entry session: load {symbol})"
        )
        ok = idx[fresh]
        rate[ok] = r[fresh]
        rate_day[ok] = day[fresh]
        per_share = ratio[ok] if code == "USD" else 1.0
        compared[ok] = price[ok] * rate[ok] / per_share
    other = has & ~np.isin(cur, [LISTING_CURRENCY, "USD", "CNY"])
    note[other] = NOT_COMPARABLE + cur[other].astype(str) + " target on an HKD line"
    return pd.DataFrame(
        {
            "compared_price": compared,
            "fx_rate": rate,
            "fx_date": pd.DatetimeIndex(rate_day),
            "adr_ratio": np.where(usd, ratio, np.nan),
            "currency_note": note,
        },
        index=calls.index,
    )
