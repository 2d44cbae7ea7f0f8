"""Fixtures of the reliability suite: a project folder with the bundled calls, fast scales."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled ``recs/`` in a temp folder, used as the working directory."""
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fast_scales(monkeypatch) -> None:
    """Parse each distinct set of scale files once.

    Every ``tracker recs validate`` reads the three scale files again, which is
    most of its time; fuzz cases that leave the scales alone reuse the result
    for the same bytes. A case that changes a scale file changes the key and
    goes through the real loader.
    """
    import tracker.recs.book as recs

    real = recs.load_scales
    cache: dict[str, object] = {}

    def load_scales(scales_dir: Path):
        digest = hashlib.sha256(str(scales_dir).encode())
        for path in sorted(Path(scales_dir).glob("*.yaml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        key = digest.hexdigest()
        if key not in cache:
            cache[key] = real(scales_dir)
        return cache[key]

    monkeypatch.setattr(recs, "load_scales", load_scales)


SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def price_homes(tmp_path_factory):
    """Price files and stores shared by the crash and concurrency cases (built once).

    Returns ``PriceHomes``: a private copy of the shared price files, their
    symbols, a home whose store holds them up to ``BEFORE`` and a reference
    home brought up to ``AFTER`` by an uninterrupted ``tracker prices update``
    process, plus how long that process spent between its first write and its
    exit.
    """
    import os
    import time

    from reliability.crash_util import (
        PriceHomes,
        copy_home,
        copy_prices,
        csv_symbols,
        file_signature,
        tracker_process,
        update_args,
        wait_for_change,
        wal_of,
    )
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource

    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder {SHARED} is missing (required in CI)")
        pytest.skip(f"shared data folder {SHARED} is missing; CI requires it")
    tmp = tmp_path_factory.mktemp("prices")
    prices = copy_prices(SHARED, tmp / "prices")
    symbols = csv_symbols(prices)
    base = tmp / "base"
    update_prices(
        PriceStore(base),
        CsvFolderSource(prices),
        symbols,
        since=PriceHomes.SINCE,
        until=PriceHomes.BEFORE,
        now=PriceHomes.NOW,
    )
    reference = copy_home(base, tmp / "reference")
    wal = wal_of(reference)
    proc = tracker_process(update_args(prices, symbols), reference)
    assert wait_for_change(wal, file_signature(wal), proc, timeout_s=120), proc.communicate()
    first_write = time.monotonic()
    out, err = proc.communicate(timeout=300)
    span = time.monotonic() - first_write
    assert proc.returncode in (0, 2) and "Traceback" not in err, err
    return PriceHomes(prices, symbols, base, reference, span)
