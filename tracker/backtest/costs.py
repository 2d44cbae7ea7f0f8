"""Hong Kong cash-equity trading costs, as dated data, applied by trade date.

Each charge below is paid by the buyer *and* the seller, on the consideration
(shares × price, HKD) of one order. The schedule is a list of changes, each
with its effective date and source; :func:`rates_on` turns it into the rates in
force on any trade date, and :func:`order_costs` prices many orders at once.

Rounding follows the rules the charges are levied under:

- stamp duty: a fraction of a dollar counts as a whole dollar (rounded **up**),
  per party and per order;
- SFC levy, AFRC levy, HKEX trading fee, CCASS settlement fee and the broker's
  commission: to the nearest cent (half up).

Every rate can be overridden for every date (``overrides``, e.g. from a
backtest spec's ``costs:``), and the broker commission is a parameter (rate
with a minimum per order): it is the broker's price, not a public schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tracker.errors import TrackerError

#: Columns of :func:`order_costs`, in HKD per order.
COST_COMPONENTS: tuple[str, ...] = (
    "commission",
    "stamp_duty",
    "sfc_levy",
    "afrc_levy",
    "trading_fee",
    "trading_tariff",
    "settlement_fee",
)

#: Rates (fractions of consideration) and fixed amounts (HKD) the schedule sets.
RATE_FIELDS: tuple[str, ...] = (
    "stamp_duty_rate",
    "etf_stamp_duty_waived",
    "sfc_levy_rate",
    "afrc_levy_rate",
    "trading_fee_rate",
    "trading_tariff_hkd",
    "settlement_fee_rate",
    "settlement_fee_min_hkd",
    "settlement_fee_max_hkd",
)


@dataclass(frozen=True)
class ScheduleChange:
    """Rates that change on ``effective`` (trade date, inclusive); other rates carry over."""

    effective: date
    rates: Mapping[str, float]
    source: str


# The schedule starts with the rates in force on 2010-10-01 and lists every change since.
# A max of inf means "no maximum"; a min of 0 "no minimum".
SCHEDULE: tuple[ScheduleChange, ...] = (
    ScheduleChange(
        date(2010, 10, 1),
        {
            # Source: Stamp Duty Ordinance (Cap. 117), First Schedule head 2(1): 0.1% of
            # the consideration per party (buyer and seller); as the IRD and brokers bill
            # it, a fraction of a dollar is rounded up to a whole dollar per order.
            "stamp_duty_rate": 0.001,
            "etf_stamp_duty_waived": 0.0,
            # Source: Securities and Futures (Levy) (Amendment) Order 2010, effective
            # 2010-10-01: SFC transaction levy 0.003% per party.
            "sfc_levy_rate": 0.00003,
            "afrc_levy_rate": 0.0,
            # Source: HKEX, trading fee 0.005% per party since 2001 plus a trading
            # tariff (system usage fee) of HK$0.50 per order.
            "trading_fee_rate": 0.00005,
            "trading_tariff_hkd": 0.50,
            # Source: HKSCC CCASS fee schedule, stock settlement fee 0.002% of the
            # consideration, minimum HK$2, maximum HK$100 per order.
            "settlement_fee_rate": 0.00002,
            "settlement_fee_min_hkd": 2.0,
            "settlement_fee_max_hkd": 100.0,
        },
        "rates in force on 2010-10-01",
    ),
    ScheduleChange(
        date(2014, 11, 1),
        # Source: Securities and Futures (Levy) (Amendment) Order 2014 (gazetted 2014-06-06),
        # effective 2014-11-01: SFC levy from 0.003% to 0.0027% per party.
        {"sfc_levy_rate": 0.000027},
        "SFC levy cut to 0.0027%",
    ),
    ScheduleChange(
        date(2015, 2, 13),
        # Source: Stamp Duty (Amendment) Ordinance 2015, effective 2015-02-13: no stamp
        # duty on transfers of shares or units of exchange traded funds.
        {"etf_stamp_duty_waived": 1.0},
        "stamp duty waived on ETFs",
    ),
    ScheduleChange(
        date(2021, 8, 1),
        # Source: Stamp Duty (Amendment) Ordinance 2021, effective 2021-08-01: stamp duty
        # raised from 0.1% to 0.13% per party.
        {"stamp_duty_rate": 0.0013},
        "stamp duty raised to 0.13%",
    ),
    ScheduleChange(
        date(2022, 1, 1),
        # Source: Financial Reporting Council (Amendment) Ordinance 2021: FRC transaction
        # levy 0.00015% per party from 2022-01-01 (the AFRC levy since 2022-10-01).
        {"afrc_levy_rate": 0.0000015},
        "FRC (now AFRC) transaction levy 0.00015%",
    ),
    ScheduleChange(
        date(2023, 1, 1),
        # Source: HKEX news release 2022-11-01 "HKEX Enhances Cash Market Trading Fee
        # Structure": trading tariff of HK$0.50 removed, trading fee from 0.005% to
        # 0.00565% per party, effective 2023-01-01.
        {"trading_fee_rate": 0.0000565, "trading_tariff_hkd": 0.0},
        "trading tariff removed, trading fee 0.00565%",
    ),
    ScheduleChange(
        date(2023, 11, 17),
        # Source: Stamp Duty (Amendment) Ordinance 2023, effective 2023-11-17: stamp duty
        # cut from 0.13% back to 0.1% per party.
        {"stamp_duty_rate": 0.001},
        "stamp duty cut to 0.1%",
    ),
    ScheduleChange(
        date(2025, 6, 30),
        # Source: HKEX announcement of 2025-02 (SFC-approved), effective 2025-06-30:
        # stock settlement fee 0.0042% per party, the HK$2 minimum and HK$100 maximum
        # removed. (Eligible market-maker ETP trades pay 0.002%; not modelled.)
        {
            "settlement_fee_rate": 0.000042,
            "settlement_fee_min_hkd": 0.0,
            "settlement_fee_max_hkd": float("inf"),
        },
        "settlement fee 0.0042%, no minimum or maximum",
    ),
)

#: The first trade date the schedule covers.
SCHEDULE_START = SCHEDULE[0].effective


class CostScheduleError(TrackerError):
    """A trade date the schedule does not cover, or a bad override."""


def schedule_table() -> pd.DataFrame:
    """The rates in force from each change on: index ``effective``, columns :data:`RATE_FIELDS`."""
    rows, current = [], {}
    for change in SCHEDULE:
        current = {**current, **change.rates}
        rows.append({"effective": pd.Timestamp(change.effective), **current})
    return pd.DataFrame(rows).set_index("effective")[list(RATE_FIELDS)]


def rates_on(trade_dates, overrides: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The rates in force on each trade date.

    Parameters
    ----------
    trade_dates
        Dates (anything ``pandas.DatetimeIndex`` accepts).
    overrides
        ``{field: value}`` for fields of :data:`RATE_FIELDS`, applied to every date.

    Returns
    -------
    pandas.DataFrame
        One row per trade date (positional), columns :data:`RATE_FIELDS`.

    Raises
    ------
    CostScheduleError
        A date before :data:`SCHEDULE_START`, or an unknown override.
    """
    table = schedule_table()
    dates = pd.DatetimeIndex(trade_dates)
    if len(dates) and dates.min() < table.index[0]:
        raise CostScheduleError(
            f"trade date {dates.min().date()} is before the cost schedule starts"
            f" ({SCHEDULE_START}): override every rate in the spec's costs or start later"
        )
    pos = table.index.searchsorted(dates, side="right") - 1
    out = table.iloc[np.maximum(pos, 0)].reset_index(drop=True)
    for key, value in (overrides or {}).items():
        if key not in RATE_FIELDS:
            raise CostScheduleError(
                f"unknown cost field {key!r}; use one of {', '.join(RATE_FIELDS)}"
            )
        out[key] = float(value)
    return out


def _cents(x: np.ndarray) -> np.ndarray:
    """Round HKD amounts to the cent, half up (the epsilon absorbs binary noise: a cent
    amount times a rate is a multiple of 1e-9 at worst, so no true value is moved)."""
    return np.floor(x * 100.0 + 0.5 + 1e-9) / 100.0


def cost_components(
    value: np.ndarray,
    rates: Mapping[str, np.ndarray],
    stamp_exempt: np.ndarray,
    commission_rate: float = 0.0,
    commission_min_hkd: float = 0.0,
) -> np.ndarray:
    """Costs of orders whose rates are already looked up (the fast core of :func:`order_costs`).

    Parameters
    ----------
    value
        Consideration of each order, HKD; an order of 0 costs nothing.
    rates
        For each of :data:`RATE_FIELDS`, an array aligned with ``value``.
    stamp_exempt
        Boolean array: the security is an ETF (no stamp duty once the waiver applies).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(value), len(COST_COMPONENTS))``, HKD, columns in the order of
        :data:`COST_COMPONENTS`.
    """
    # Charges are worked out on the consideration in cents: shares × price in binary
    # floating point carries noise (90,000 / p × p = 90,000.00000000001) that must not
    # turn into a whole dollar of stamp duty.
    value = _cents(np.asarray(value, dtype=float))
    stamp_rate = np.where(
        stamp_exempt & (rates["etf_stamp_duty_waived"] > 0), 0.0, rates["stamp_duty_rate"]
    )
    # A fraction of a dollar counts as a dollar; the epsilon (far below the smallest
    # fraction a cent amount times a rate can leave) absorbs the product's binary noise.
    stamp = np.maximum(np.ceil(value * stamp_rate - 1e-9), 0.0)
    settle = np.minimum(
        np.maximum(value * rates["settlement_fee_rate"], rates["settlement_fee_min_hkd"]),
        rates["settlement_fee_max_hkd"],
    )
    out = np.column_stack(
        [
            _cents(np.maximum(value * commission_rate, commission_min_hkd)),
            stamp,
            _cents(value * rates["sfc_levy_rate"]),
            _cents(value * rates["afrc_levy_rate"]),
            _cents(value * rates["trading_fee_rate"]),
            np.broadcast_to(rates["trading_tariff_hkd"], value.shape).astype(float),
            _cents(settle),
        ]
    )
    out[value <= 0] = 0.0
    return out


def order_costs(
    consideration,
    trade_dates,
    stamp_exempt=None,
    *,
    commission_rate: float = 0.0,
    commission_min_hkd: float = 0.0,
    overrides: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Costs of each order (buy or sell: the charges are the same on both sides).

    Parameters
    ----------
    consideration
        Shares × price of each order, HKD (>= 0), taken to the cent. An order of 0
        costs nothing.
    trade_dates
        Trade date of each order; selects the rates in force.
    stamp_exempt
        Per order: the security pays no stamp duty when the ETF waiver is in
        force (ETFs such as 2800.HK, from 2015-02-13). Default: none exempt.
    commission_rate, commission_min_hkd
        Broker commission: ``max(rate × consideration, minimum)``, rounded to the cent.
    overrides
        Rates replacing the schedule on every date (see :func:`rates_on`).

    Returns
    -------
    pandas.DataFrame
        Positional rows, columns :data:`COST_COMPONENTS` and ``total`` (HKD).
    """
    value = np.asarray(consideration, dtype=float)
    n = len(value)
    table = rates_on(trade_dates, overrides)
    if len(table) != n:
        raise ValueError(f"{n} considerations but {len(table)} trade dates")
    exempt = np.zeros(n, dtype=bool) if stamp_exempt is None else np.asarray(stamp_exempt, bool)
    rates = {f: table[f].to_numpy(dtype=float) for f in RATE_FIELDS}
    parts = cost_components(value, rates, exempt, commission_rate, commission_min_hkd)
    out = pd.DataFrame(parts, columns=list(COST_COMPONENTS))
    out["total"] = parts.sum(axis=1)
    return out
