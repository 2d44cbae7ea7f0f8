"""The held-out notes (tests/resources/heldout) and `extract_eval --corpus`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tracker.registry.resolve import Registry

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "extract_eval.py"
HELDOUT = ROOT / "tests" / "resources" / "heldout"
RATINGS = {"buy", "overweight", "neutral", "underweight", "sell", None}


@pytest.fixture(scope="module")
def ev():
    spec = importlib.util.spec_from_file_location("extract_eval_heldout", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["extract_eval_heldout"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("extract_eval_heldout", None)


def _notes() -> list[dict]:
    return YAML(typ="safe").load((HELDOUT / "expected.yaml").read_text(encoding="utf-8"))[
        "documents"
    ]


def test_every_note_has_its_file_and_every_file_its_entry():
    files = {n["file"] for n in _notes()}
    assert files == {p.name for p in (HELDOUT / "docs").glob("*.txt")}
    assert 15 <= len(files) <= 25


def test_expected_calls_are_well_formed():
    registry = Registry.curated()
    for note in _notes():
        for rec in note["expected_recommendations"]:
            where = f"{note['file']}: {rec['ticker']}"
            assert registry.get(rec["ticker"]).ticker == rec["ticker"], where
            assert rec["rating_normalized"] in RATINGS, where
            assert (rec["target_price"] is None) == (rec["currency"] is None), where
            assert rec["currency"] in (None, "HKD", "USD", "CNY"), where


def _corpus(tmp: Path, text: str, ticker: str) -> Path:
    (tmp / "docs").mkdir(parents=True)
    (tmp / "docs" / "a.txt").write_text(text, encoding="utf-8")
    (tmp / "expected.yaml").write_text(
        "documents:\n- file: a.txt\n  date: null\n  expected_recommendations:\n"
        f"  - {{broker_en: UBS, ticker: '{ticker}', rating_normalized: buy,"
        " target_price: null, currency: null}\n",
        encoding="utf-8",
    )
    return tmp


def test_corpus_option_scores_each_corpus_apart(ev, tmp_path, capsys):
    one = _corpus(tmp_path / "one", "瑞銀維持騰訊控股(00700)「買入」評級。\n", "0700.HK")
    two = _corpus(tmp_path / "two", "沒有評級的一段文字。\n", "0700.HK")
    assert ev.main(["--corpus", str(one), "--corpus", str(two)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("== ")] == ["== one", "== two"]
    totals = [line for line in out if line.startswith("exact ")]
    # one: its call found; two: its call missed.
    assert totals == [
        "exact 1/1 (100%), invented 0, dates right 0/0, guessed 0",
        "exact 0/1 (0%), invented 0, dates right 0/0, guessed 0",
    ]


def test_corpus_option_refuses_a_directory_without_expected_calls(ev, tmp_path, capsys):
    assert ev.main(["--corpus", str(tmp_path)]) == 1
    assert "expected.yaml not found" in capsys.readouterr().err


def test_the_heldout_notes_stay_read(ev):
    # The expected calls were written by hand from the notes; a later rule must not lose them.
    scores = ev.evaluate(HELDOUT, ev.tracker_extractor())
    total = ev.Score()
    for _, s in scores:
        total.add(s)
    problems = [f"{name}: {p}" for name, s in scores for p in s.problems]
    assert (total.missed, total.invented, total.dates_guessed) == (0, 0, 0), problems
    assert total.dates_right == total.dates_given, problems
