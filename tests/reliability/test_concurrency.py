"""Processes at once on one price store: two updates, and readers during an update.

Two ``tracker prices update`` processes (CSV source on a copy of the shared
files) start together, at random offsets: the store's lock must serialise
them, and the store must end exactly as after one uninterrupted run. While an
update runs, ``tracker scorecard --offline`` and ``tracker score --offline``
run beside it and the test reads
every symbol over and over: each read must see a symbol either entirely
before or entirely after its update, and the scoring must finish cleanly.
"""

from __future__ import annotations

import json
import shutil
import time

from reliability.crash_util import (
    ROOT,
    copy_home,
    duplicates,
    file_signature,
    integrity,
    last_lines,
    same_state,
    store_state,
    tracker_process,
    update_args,
    wait_for_change,
    wal_of,
)
from reliability.ledger import CRASH, DATA_LOST, DUPLICATE, INTACT, check
from reliability.profile import cases, rng

UPDATES = "concurrency: two price updates"
READERS = "concurrency: scorecard and scoring during an update"


def test_two_updates_at_once(price_homes, tmp_path):
    h = price_homes
    after = store_state(h.reference, h.symbols)
    random = rng("two-updates")
    for k in range(cases(2, 15)):
        work = copy_home(h.base, tmp_path / "work")
        first = tracker_process(update_args(h.prices, h.symbols), work)
        time.sleep(random.uniform(0.0, 0.6))
        second = tracker_process(update_args(h.prices, h.symbols), work)
        outputs = [p.communicate(timeout=300) for p in (first, second)]
        codes = [first.returncode, second.returncode]
        name = f"pair {k + 1}"
        bad = [
            last_lines(err)
            for (out, err), c in zip(outputs, codes, strict=True)
            if c not in (0, 2) or "Traceback" in err
        ]
        if bad:
            check(UPDATES, CRASH, name, f"exit codes {codes}: {bad}")
        if integrity(work) != "ok" or duplicates(work):
            check(UPDATES, DUPLICATE if duplicates(work) else DATA_LOST, name, integrity(work))
        state = store_state(work, h.symbols)
        wrong = [s for s in h.symbols if not same_state(state[s], after[s])]
        check(
            UPDATES,
            DATA_LOST if wrong else INTACT,
            name,
            f"differs from one uninterrupted run: {wrong}" if wrong else f"exit codes {codes}",
        )


def test_scorecard_scoring_and_reads_during_an_update(price_homes, tmp_path):
    h = price_homes
    before = store_state(h.base, h.symbols)
    after = store_state(h.reference, h.symbols)
    project = tmp_path / "project"
    shutil.copytree(ROOT / "recs", project / "recs")
    for k in range(cases(1, 8)):
        work = copy_home(h.base, tmp_path / "work")
        wal = wal_of(work)
        update = tracker_process(update_args(h.prices, h.symbols), work)
        wait_for_change(wal, file_signature(wal), update, timeout_s=120)
        score = tracker_process(
            ["score", "--offline", "--as-of", "2025-12-31", "--format", "json"], work, cwd=project
        )
        card = tracker_process(
            ["scorecard", "--offline", "--as-of", "2025-12-31"], work, cwd=project
        )
        reads = mixed = 0
        while update.poll() is None or score.poll() is None or card.poll() is None:
            state = store_state(work, h.symbols)
            reads += 1
            # Bars and metadata are two reads (two snapshots): each must be whole on its own.
            mixed += sum(
                not any(state[s][0].equals(x[s][0]) for x in (before, after))
                or not any(state[s][1] == x[s][1] for x in (before, after))
                for s in h.symbols
            )
            if reads > 2000:
                break
        out, err = score.communicate(timeout=300)
        card_out, card_err = card.communicate(timeout=300)
        update.communicate(timeout=300)
        name = f"update {k + 1} with {reads} store reads, a scoring and a scorecard"
        try:
            scored = json.loads(out)
        except json.JSONDecodeError:
            scored = None
        if score.returncode != 0 or scored is None or "Traceback" in err:
            check(READERS, CRASH, name, f"score exit {score.returncode}: {last_lines(err)}")
        if card.returncode != 0 or "Traceback" in card_err or not card_out.strip():
            check(READERS, CRASH, name, f"scorecard exit {card.returncode}: {last_lines(card_err)}")
        check(
            READERS,
            DATA_LOST if mixed else INTACT,
            name,
            f"{mixed} half-updated symbol reads" if mixed else f"{reads} consistent reads",
        )
