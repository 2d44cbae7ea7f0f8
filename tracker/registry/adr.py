"""ADR ratios: how many Hong Kong shares one US depositary share (ADS) stands for.

Brokers often set a USD target on the US line (ADR) of a company that is also
listed in Hong Kong: "Alibaba: target US$140". That target is a price of one
ADS, not of one Hong Kong share, so it is compared with the Hong Kong line only
after dividing by the ADR ratio (and converting USD to HKD), see
:mod:`tracker.scoring.currency`. The ratios are data
(``tracker/registry/data/adr.csv``), each row citing the filing that states it.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from tracker.errors import InputFileError

ADR_PATH = Path(__file__).resolve().parent / "data" / "adr.csv"


@functools.lru_cache(maxsize=4)
def adr_ratios(path: Path = ADR_PATH) -> dict[str, float]:
    """Hong Kong shares per ADS, by HKEX ticker (``{"9988.HK": 8.0, ...}``).

    Raises
    ------
    InputFileError
        A row without a source, a ratio that is not a positive number, or a
        ticker listed twice.
    """
    out: dict[str, float] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            ticker = (row.get("ticker") or "").strip()
            try:
                ratio = float(row.get("shares_per_adr") or "")
            except ValueError:
                ratio = float("nan")
            if not ratio > 0:
                raise InputFileError(path, "shares_per_adr must be a positive number", line)
            if not (row.get("source") or "").strip():
                raise InputFileError(path, "every ratio needs its source", line)
            if ticker in out:
                raise InputFileError(path, f"{ticker} is listed twice", line)
            out[ticker] = ratio
    return out
