"""`make extract-eval`: the counting on a corpus of our own, and a run on the real corpus."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_eval.py"


@pytest.fixture(scope="module")
def ev():
    spec = importlib.util.spec_from_file_location("extract_eval", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    # dataclasses look their module up in sys.modules
    sys.modules["extract_eval"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("extract_eval", None)


NOTE = {
    "date": "2025-03-04",
    "expected_recommendations": [
        {
            "broker_en": "UBS",
            "ticker": "0268.HK",
            "rating_normalized": "buy",
            "target_price": 12,
            "currency": "HKD",
        },
        {
            "broker_en": "Citi",
            "ticker": "0268.HK",
            "rating_normalized": "neutral",
            "target_price": None,
            "currency": None,
            "date": "2025-03-03",
        },
        {
            "broker_en": "Citi",
            "ticker": "9988.HK",
            "rating_normalized": "buy",
            "target_price": 150,
            "currency": "USD",
        },
    ],
}


def test_counts(ev):
    got = [
        ev.Got("UBS", "0268.HK", "buy", 12.0, "HKD"),  # exact
        ev.Got("Citi", "0268.HK", "neutral", None, None, date(2025, 3, 2)),  # exact, wrong day
        ev.Got("Citi", "9988.HK", "buy", 150.0, "HKD"),  # right value, wrong currency: missed
        ev.Got("UBS", "0700.HK", "buy", 500.0, "HKD"),  # nobody expects it: invented
        ev.Got("Goldman Sachs", "0268.HK", "buy", 12.0, "HKD"),  # wrong broker: invented
    ]
    s = ev.score_note(NOTE, date(2025, 3, 4), got)
    # 3 expected, 2 exact -> 1 missed; 2 invented; 2 dates given (note + row): note right,
    # the row's day wrong -> 1 right, 1 guessed.
    assert (s.expected, s.exact, s.missed, s.invented) == (3, 2, 1, 2)
    assert (s.dates_given, s.dates_right, s.dates_guessed) == (2, 1, 1)


def test_a_date_the_text_does_not_give_is_a_guess(ev):
    note = {"date": None, "expected_recommendations": []}
    assert ev.score_note(note, date(2025, 1, 1), []).dates_guessed == 1
    assert ev.score_note(note, None, []).dates_guessed == 0


def test_broker_names_compare_by_the_broker_table(ev):
    assert ev.broker_key("摩根士丹利 / 大摩") == ev.broker_key("Morgan Stanley") == "morgan-stanley"
    assert ev.broker_key("BOCI (BOC International)") == ev.broker_key("中銀國際") == "boci"


def test_script_on_a_corpus_of_our_own(ev, tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "某報\n2025-03-04\n\n瑞銀把金蝶國際(00268.HK)目標價由10港元升至12港元，維持「買入」評級。\n",
        encoding="utf-8",
    )
    (docs / "b.txt").write_text("沒有任何評級的一段文字。\n", encoding="utf-8")
    (tmp_path / "expected.yaml").write_text(
        "documents:\n"
        "- file: a.txt\n  date: '2025-03-04'\n  expected_recommendations:\n"
        "  - {broker_en: UBS, ticker: 0268.HK, rating_normalized: buy, target_price: 12,"
        " currency: HKD}\n"
        "- file: b.txt\n  date: null\n  expected_recommendations:\n"
        "  - {broker_en: Citi, ticker: 0700.HK, rating_normalized: buy, target_price: null,"
        " currency: null}\n",
        encoding="utf-8",
    )
    assert ev.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # a: 1 exact, date right; b: its one call missed, no date given and none guessed.
    assert out.splitlines()[-1] == "exact 1/2 (50%), invented 0, dates right 1/1, guessed 0"


def test_script_runs_on_the_shared_corpus(ev, shared_dir, capsys):
    corpus = shared_dir / "reports" / "corpus"
    assert ev.main([str(corpus)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["note", "calls"]
    assert out[-1].startswith("exact ")
    assert len(out) == len(list((corpus / "docs").glob("*.txt"))) + 3
