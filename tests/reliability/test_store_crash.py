"""SIGKILL of ``tracker prices update`` while it writes the price store, at random instants.

The store starts with every shared symbol up to 2024-12-31; a reference run
(uninterrupted, in another home) brings a copy up to 2025-12-31. Then a chain
of processes doing the same update is killed one after another, each at a
random instant after its first write began; after each kill the store must
pass SQLite's integrity check and hold, for every symbol, exactly the data of
before or exactly the data of the reference (each symbol is one transaction),
never a mix. A last run, not killed, must end exactly at the reference.
"""

from __future__ import annotations

import time

from reliability.crash_util import (
    copy_home,
    duplicates,
    file_signature,
    integrity,
    kill,
    last_lines,
    same_state,
    store_state,
    tracker_process,
    update_args,
    wait_for_change,
    wal_of,
)
from reliability.ledger import CRASH, DATA_LOST, DUPLICATE, INTACT, RECOVERED, check
from reliability.profile import cases, rng

CATEGORY = "crash: price store write"


def test_kill_during_store_writes(price_homes, tmp_path):
    h = price_homes
    prices, symbols, base, reference, write_span_s = (
        h.prices,
        h.symbols,
        h.base,
        h.reference,
        h.write_span_s,
    )
    before = store_state(base, symbols)
    after = store_state(reference, symbols)
    changed = [s for s in symbols if not same_state(before[s], after[s])]
    assert len(changed) >= 10, (
        "the update must rewrite most symbols for the kills to land in writes"
    )

    random = rng("store-kill")
    kills = cases(3, 40)
    interrupted = 0
    # On a loaded machine a run can end before a kill lands: up to ten more tries, each
    # striking at once after the first write, until one kill has interrupted a run.
    for k in range(kills + 10):
        if k >= kills and interrupted:
            break
        # Each kill starts from the 'before' store and strikes at a uniform instant of the
        # write phase (first write to exit, as timed on the reference run). The last one
        # strikes a store that earlier kills left behind.
        work = tmp_path / "work"
        if k != kills - 1 or not work.exists():
            copy_home(base, work)
        wal = wal_of(work)
        proc = tracker_process(update_args(prices, symbols), work)
        started = wait_for_change(wal, file_signature(wal), proc, timeout_s=120)
        last_chance = k >= kills - 1 and not interrupted
        time.sleep(random.uniform(0.0, write_span_s) if started and not last_chance else 0.0)
        interrupted += kill(proc)
        state = store_state(work, symbols)
        verdict = integrity(work)
        mixed = [
            s
            for s in symbols
            if not (same_state(state[s], before[s]) or same_state(state[s], after[s]))
        ]
        name = (
            f"kill {k + 1} of {kills}"
            f" ({'during the run' if proc.returncode < 0 else 'after it ended'})"
        )
        if verdict != "ok":
            check(CATEGORY, DATA_LOST, name, f"integrity check: {verdict}")
        elif duplicates(work):
            check(CATEGORY, DUPLICATE, name, f"{duplicates(work)} duplicate rows")
        else:
            done = sum(same_state(state[s], after[s]) for s in changed)
            check(
                CATEGORY,
                DATA_LOST if mixed else INTACT,
                name,
                f"mixed: {mixed}" if mixed else f"{done} of {len(changed)} symbols updated",
            )
    assert interrupted >= 1, "no kill landed while a process was running"

    # The restart finishes the job, ending exactly where the uninterrupted run ended.
    proc = tracker_process(update_args(prices, symbols), work)
    out, err = proc.communicate(timeout=300)
    state = store_state(work, symbols)
    wrong = [s for s in symbols if not same_state(state[s], after[s])]
    if proc.returncode not in (0, 2) or "Traceback" in err:
        check(CATEGORY, CRASH, "restart after the kills", last_lines(err))
    check(
        CATEGORY,
        DATA_LOST if wrong else RECOVERED,
        "restart after the kills",
        f"differs from the reference: {wrong}" if wrong else f"exit {proc.returncode}",
    )
