"""Price store reads: 20 symbols x 3 years into one aligned frame.

Target: < 100 ms warm (median). The store is filled once in a temporary home
with the seeded simulated sample (no network), then ``PriceStore.read`` is
timed for the close panel, and for comparison a single symbol's long bars.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from harness import time_call

N_SYMBOLS = 20
START, END = "2023-01-03", "2025-12-31"
NOW = "2026-01-05 12:00"  # UTC, after the first session of 2026 closed


def _symbols() -> list[str]:
    return ["^HSI", "2800.HK"] + [f"{code:04d}.HK" for code in range(1, N_SYMBOLS - 1)]


def run(quick: bool = False) -> dict:
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.simulated import SimulatedSource

    repeat = 5 if quick else 21
    symbols = _symbols()
    with tempfile.TemporaryDirectory() as tmp:
        store = PriceStore(Path(tmp))
        summary = update_prices(store, SimulatedSource(), symbols, since=START, until=END, now=NOW)
        assert summary.ok, summary.failed
        frame = store.read(symbols, START, END)
        rows = int(frame.notna().sum().sum())
        wide = time_call(
            f"read close, {len(symbols)} symbols x 3 years",
            lambda: store.read(symbols, START, END),
            repeat=repeat,
            target_s=0.100,
        )
        wide.extra.update({"bars": rows, "shape": f"{frame.shape[0]}x{frame.shape[1]}"})
        one = time_call(
            "read_bars, 1 symbol x 3 years",
            lambda: store.read_bars("0700.HK", START, END),
            repeat=repeat,
        )
        fp = time_call(
            f"fingerprint, {len(symbols)} symbols x 3 years",
            lambda: store.fingerprint(symbols, START, END),
            repeat=repeat,
        )
    return {
        "title": "Price store reads",
        "rows": [t.as_row() for t in (wide, one, fp)],
        "notes": ["SQLite store filled with the simulated sample; warm page cache, one process."],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
