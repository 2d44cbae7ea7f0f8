"""Resolving many names: each a security or its reason, and the error a command ends with."""

from __future__ import annotations

import pytest

from tracker.errors import PartialFailure, TickerNotFound, TrackerError
from tracker.registry.lookup import lookup_failure, resolve_names
from tracker.registry.resolve import Registry


@pytest.fixture
def registry(tracker_home):
    return Registry.load(tracker_home)  # the bundled curated registry


def test_every_name_in_order(registry):
    got = resolve_names(registry, ["騰訊控股", "no such company zz", "700 HK"])
    assert [lk.name for lk in got] == ["騰訊控股", "no such company zz", "700 HK"]
    assert got[0].security.ticker == "0700.HK" and got[0].error is None
    assert got[1].security is None and isinstance(got[1].error, TickerNotFound)
    assert got[2].security.ticker == "0700.HK"
    assert isinstance(lookup_failure(got), PartialFailure)
    assert str(lookup_failure(got)) == "1 of 3 names could not be resolved"


def test_one_name_fails_with_its_own_error(registry):
    got = resolve_names(registry, ["no such company zz"])
    assert lookup_failure(got) is got[0].error


def test_all_failing_is_an_error_not_a_partial_failure(registry):
    failure = lookup_failure(resolve_names(registry, ["zz one", "zz two"]))
    assert type(failure) is TrackerError
    assert str(failure) == "2 of 2 names could not be resolved"


def test_nothing_failing(registry):
    assert lookup_failure(resolve_names(registry, ["700", "TENCENT"])) is None
