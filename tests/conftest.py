"""Shared fixtures: an isolated tracker home, the project's folders, the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# The main suite is deterministic: hypothesis draws the same cases every run and keeps no
# example database. The reliability suite's long profile (tests/reliability/profile.py) sets
# its own settings per test and draws fresh cases.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.load_profile("deterministic")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def tracker_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own empty TRACKER_HOME; nothing touches the user's data."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TRACKER_HOME", str(home))
    monkeypatch.delenv("TRACKER_SMTP_PASSWORD", raising=False)
    # The memo is off until a command turns it on (a CLI test): off again for the next test.
    from tracker import memo

    monkeypatch.setattr(memo, "_folder", None)
    return home


@pytest.fixture
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The real data beside the repository; its absence fails under CI=true.

    Session-scoped, so module-scoped fixtures (a store filled once per file) can use it.
    """
    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder {SHARED} is missing (required in CI)")
        pytest.skip(f"shared data folder {SHARED} is missing; CI requires it")
    return SHARED
