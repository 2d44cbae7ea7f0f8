"""The two original reports, apart from the notes' book that recs/ also holds."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The two reports many hand-worked figures rest on.
ORIGINAL_REPORTS = ("2025-05-06-huaan-hk-internet-ai.yaml", "2025-09-15-caitong-ai-race.yaml")


def original_recs(dest: Path) -> Path:
    """A calls folder at ``dest`` with the scales and the two original reports only."""
    shutil.copytree(ROOT / "recs" / "scales", dest / "scales")
    for name in ORIGINAL_REPORTS:
        shutil.copy(ROOT / "recs" / name, dest / name)
    return dest
