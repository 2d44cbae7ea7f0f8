"""vectorbt's group lengths answered by numpy: the same arrays as its numba kernel, and a
run that therefore never loads numba's compiler."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.backtest.portfolio import group_lens, vectorbt

ROOT = Path(__file__).resolve().parents[2]


def _numba_kernel():
    vectorbt()  # installs group_lens, keeping vectorbt's own function
    from tracker.backtest import portfolio

    return portfolio._numba_group_lens


def _runs(groups) -> list[int]:
    """Lengths of the runs of equal values, by a plain loop."""
    out: list[int] = []
    for i, g in enumerate(groups):
        if i and g == groups[i - 1]:
            out[-1] += 1
        else:
            out.append(1)
    return out


@settings(deadline=None)  # the first call loads vectorbt's numba kernel
@given(counts=st.lists(st.integers(1, 6), max_size=12), first=st.integers(0, 3))
def test_sorted_groups_give_the_kernels_lengths(counts, first):
    ids = np.repeat(np.arange(first, first + len(counts)), counts).astype(np.int64)
    got = group_lens(ids)
    assert got.dtype == np.int64
    assert got.tolist() == counts == _runs(ids.tolist())
    np.testing.assert_array_equal(got, _numba_kernel()(ids))


@settings(deadline=None)
@given(ids=st.lists(st.integers(0, 4), min_size=2, max_size=10))
def test_unsorted_groups_are_refused_as_the_kernel_refuses_them(ids):
    arr = np.array(ids, dtype=np.int64)
    kernel = _numba_kernel()
    if (np.diff(arr) < 0).any():
        with pytest.raises(ValueError, match="coherent and sorted") as ours:
            group_lens(arr)
        with pytest.raises(ValueError) as theirs:
            kernel(arr)
        assert str(ours.value) == str(theirs.value)
    else:
        np.testing.assert_array_equal(group_lens(arr), kernel(arr))


def _outcome(f, arr):
    try:
        return f(arr).tolist()
    except ValueError as exc:
        return f"ValueError: {exc}"


@pytest.mark.parametrize("ids", [[-1, -1, 0], [-2, 0, 0, 1], [-1]])
def test_negative_ids_are_left_to_the_kernel(ids):
    # The kernel starts from a "last id" of -1, so its answers for negative ids are its own
    # (a length of 3 for [-1, -1, 0], an error for [-2, ...]): they are passed through.
    arr = np.array(ids, dtype=np.int64)
    assert _outcome(group_lens, arr) == _outcome(_numba_kernel(), arr)


def test_vectorbt_is_given_the_numpy_function():
    vbt = vectorbt()
    from vectorbt.base import column_grouper

    assert column_grouper.get_group_lens_nb is group_lens
    assert vbt.Portfolio is not None


def test_a_backtest_never_loads_numbas_compiler(tmp_path):
    # A run with vectorbt's Rust kernels calls no numba function, so numba's typing
    # registry (loaded on the first call of any numba function) stays unloaded.
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests/backtest")
        from test_backtest_engine import bench, flat, make_calls, spec
        from tracker.backtest.engine import run_backtest

        calls = make_calls(
            [
                ("r#1", "B", "0700.HK", "buy", "2025-07-02", 6),
                ("r#2", "B", "0005.HK", "buy", "2025-07-03", 6),
            ]
        )
        closes = flat({"0700.HK": 100.0, "0005.HK": 50.0})
        res = run_backtest(calls, closes, bench(), spec(board_lots=False))
        assert len(res.trades) == 2
        import vectorbt._engine as e
        print(e.is_rust_available(), "numba.core.typing.mathdecl" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    rust, compiler_loaded = out.stdout.split()
    if rust != "True":
        pytest.skip("vectorbt-rust not installed: vectorbt runs its numba kernels")
    assert compiler_loaded == "False"
