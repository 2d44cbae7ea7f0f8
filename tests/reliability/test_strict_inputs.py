"""Numbers, dates and names in every input: refused in one line, or normalised.

Every numeric field of a call, a scale, a backtest spec and tracker.toml gets
each value that must not pass as a number (``true``, ``false``, ``.nan``,
``.inf``, ``-.inf``, ``1e999``): ``tracker recs validate`` (or the spec and
settings loaders) must refuse it as ``file:line: field: message``. Dates get
compact, short, timed, boolean and pre-2000 forms. Names get zero-width, bidi
and control characters at each position: invisible ones are removed (the call
groups with its clean twin), controls refused. The same report saved under
two names is refused naming both files.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from mailer.test_mailer import VALID as MAIL_TOML
from mailer.test_mailer import write_toml
from recs.test_recs import GOOD
from typer.testing import CliRunner

from reliability.cli_check import classify
from reliability.ledger import CLEAN_ERROR, CRASH, DATA_LOST, VALID, check
from reliability.profile import LONG
from tracker.backtest.spec import load_spec
from tracker.cli import app
from tracker.errors import InvalidInput
from tracker.mailer.settings import load_mail_config
from tracker.recs.book import call_matcher, load_book

CATEGORY = "inputs: numbers, dates and names"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
TODAY = date(2026, 11, 22)

BAD_NUMBERS = ["true", "false", ".nan", ".inf", "-.inf", "1e999"] + (
    [".NaN", "+.inf", "True", "FALSE"] if LONG else []
)
BAD_WHOLE = ["true", "false", "True"]
CALL_FIELDS = {
    "target.value": ("    target: {{value: {v}}}\n", BAD_NUMBERS),
    "horizon_months": ("    horizon_months: {v}\n", BAD_WHOLE),
    "horizon_months.list": ("    horizon_months: [{v}, 12]\n", BAD_WHOLE),
    "horizon_months.map": ("    horizon_months: {{min_months: 6, max_months: {v}}}\n", BAD_WHOLE),
}
SCALE_FIELDS = {
    "buy.lower_pp": ("{rating: buy, lower_pp: 15,", "{rating: buy, lower_pp: {v},", BAD_NUMBERS),
    "neutral.upper_pp": (
        "{rating: neutral, lower_pp: -5, upper_pp: 5,",
        "{rating: neutral, lower_pp: -5, upper_pp: {v},",
        BAD_NUMBERS,
    ),
    "attention.lower_pp": ("  lower_pp: 0\n", "  lower_pp: {v}\n", BAD_NUMBERS),
    "company.horizon": ("  horizon_months: 6-12", "  horizon_months: {v}", BAD_WHOLE),
}
SPEC_FIELDS = {
    "capital_hkd": ("capital_hkd: {v}\n", BAD_NUMBERS),
    "max_positions": ("sizing:\n  max_positions: {v}\n", BAD_WHOLE),
    "amount_hkd": ("sizing:\n  method: fixed\n  amount_hkd: {v}\n", BAD_NUMBERS),
    "rating_weights": ("sizing:\n  method: rating\n  rating_weights: {{buy: {v}}}\n", BAD_NUMBERS),
    "commission_rate": ("costs:\n  commission_rate: {v}\n", BAD_NUMBERS),
    "stamp_duty_rate": ("costs:\n  stamp_duty_rate: {v}\n", BAD_NUMBERS),
    "trading_tariff_hkd": ("costs:\n  trading_tariff_hkd: {v}\n", BAD_NUMBERS),
    "exit.months": ("exit:\n  rule: fixed\n  months: {v}\n", BAD_WHOLE),
    "published_from": (
        "select:\n  published_from: {v}\n",
        ["20250101", "'2025-1-1'", "1999-12-31"],
    ),
}
TOML_FIELDS = {
    "port": BAD_WHOLE[:2],
    "max_attempts": BAD_WHOLE[:2],
    "timeout_s": ["true", "false", "nan", "inf", "-inf"],
    "backoff_s": ["true", "nan", "inf"],
    "backoff_max_s": ["false", "inf"],
}
BAD_DATES = [
    "20250506",
    "'2025-5-6'",
    "2025-05-06 10:00:00",
    "true",
    "1.5",
    "1900-01-02",
    "1999-12-31",
    "'6 May 2025'",
    "2025-02-30",
]


@pytest.fixture
def recs_dir(tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "recs" / "scales", tmp_path / "recs" / "scales")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: TODAY)
    return tmp_path / "recs"


def validate(recs_dir: Path, case: str, files: list[str], expect_valid: bool) -> None:
    result = runner.invoke(app, ["recs", "validate"])
    found, detail = classify(
        result.exit_code, result.stdout, result.stderr, files, exception=result.exception
    )
    if found not in (CRASH,) and (found == VALID) != expect_valid:
        found, detail = CRASH, f"{'accepted' if found == VALID else 'refused'}: {detail}"
    check(CATEGORY, found, case, detail)


CALL_CASES = [(f, v) for f, (_, vals) in CALL_FIELDS.items() for v in vals]


@pytest.mark.parametrize("field, value", CALL_CASES)
def test_call_numbers(recs_dir, field, value):
    template, _ = CALL_FIELDS[field]
    text = GOOD.replace(
        "    rating: attention\n", "    rating: attention\n" + template.format(v=value), 1
    )
    (recs_dir / "2025-05-06-test.yaml").write_text(text, encoding="utf-8")
    validate(recs_dir, f"call {field}: {value}", ["recs/2025-05-06-test.yaml"], False)


SCALE_CASES = [(f, v) for f, (_, _, vals) in SCALE_FIELDS.items() for v in vals]


@pytest.mark.parametrize("field, value", SCALE_CASES)
def test_scale_numbers(recs_dir, field, value):
    old, new, _ = SCALE_FIELDS[field]
    path = recs_dir / "scales" / "default-hk.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(old, new.replace("{v}", value), 1),
        encoding="utf-8",
    )
    validate(recs_dir, f"scale {field}: {value}", ["recs/scales/default-hk.yaml"], False)


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("field", ["published", "seen"])
def test_call_dates(recs_dir, field, value):
    if field == "published":
        text = GOOD.replace("published: 2025-05-06", f"published: {value}")
    else:
        text = GOOD.replace("source: test", f"seen: {value}\nsource: test")
    (recs_dir / "2025-05-06-test.yaml").write_text(text, encoding="utf-8")
    validate(recs_dir, f"{field}: {value}", ["recs/2025-05-06-test.yaml"], False)


SPEC_CASES = [(f, v) for f, (_, vals) in SPEC_FIELDS.items() for v in vals]


@pytest.mark.parametrize("field, value", SPEC_CASES)
def test_spec_fields(tmp_path, field, value):
    template, _ = SPEC_FIELDS[field]
    path = tmp_path / "spec.yaml"
    path.write_text("name: x\n" + template.format(v=value), encoding="utf-8")
    case = f"spec {field}: {value}"
    try:
        load_spec(path)
    except InvalidInput as exc:
        ok = len(exc.problems) == 1 and exc.problems[0].line is not None
        check(CATEGORY, CLEAN_ERROR if ok else CRASH, case, str(exc)[:200])
        return
    except Exception as exc:  # noqa: BLE001
        check(CATEGORY, CRASH, case, f"{type(exc).__name__}: {exc}")
    check(CATEGORY, CRASH, case, "accepted")


TOML_CASES = [(k, v) for k, vals in TOML_FIELDS.items() for v in vals]


@pytest.mark.parametrize("key, value", TOML_CASES)
def test_tracker_toml_numbers(tmp_path, key, value):
    case = f"tracker.toml smtp.{key} = {value}"
    try:
        load_mail_config(write_toml(tmp_path / "tracker.toml", MAIL_TOML + f"{key} = {value}\n"))
    except InvalidInput as exc:
        ok = [p.field for p in exc.problems] == [f"smtp.{key}"]
        check(CATEGORY, CLEAN_ERROR if ok else CRASH, case, str(exc)[:200])
        return
    check(CATEGORY, CRASH, case, "accepted")


INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202c",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u061c",
]
CONTROLS = ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\x01"]
WHERE = ["broker", "broker_local", "analyst"]


def _named(broker: str, local: str = "华安证券", analyst: str = "陈大文") -> str:
    esc = lambda t: t.encode("unicode_escape").decode("ascii")  # noqa: E731
    return GOOD.replace(
        "broker: Huaan Securities",
        f'broker: "{esc(broker)}"\nbroker_local: "{esc(local)}"\nanalysts:\n'
        f'  - name: "{esc(analyst)}"',
    )


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("mark", INVISIBLE + CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_names(recs_dir, mark, where):
    kw = {"broker": "Huaan Securities", "local": "华安证券", "analyst": "陈大文"}
    key = {"broker": "broker", "broker_local": "local", "analyst": "analyst"}[where]
    clean = kw[key]
    kw[key] = clean[:2] + mark + clean[2:]
    (recs_dir / "2025-05-06-test.yaml").write_text(_named(**kw), encoding="utf-8")
    case = f"{where} with U+{ord(mark):04X}"
    if mark in CONTROLS:
        validate(recs_dir, case, ["recs/2025-05-06-test.yaml"], False)
        return
    calls = load_book(recs_dir, today=TODAY).call_records()
    matched = all(call_matcher(brokers=["Huaan Securities"], analysts=["陈大文"])(c) for c in calls)
    names = {calls[0]["broker"], calls[0]["broker_local"], calls[0]["analysts"][0]}
    ok = matched and names == {"Huaan Securities", "华安证券", "陈大文"}
    check(CATEGORY, VALID if ok else DATA_LOST, case, str(names))


@pytest.mark.parametrize(
    "second",
    ["same", "comments", "title-case", "same-calls-new-title", "invisible-broker"],
)
def test_same_report_twice(recs_dir, second):
    text = {
        "same": GOOD,
        "comments": GOOD.replace("# a comment\n", "# another\n"),
        "title-case": GOOD.replace("title: Test report", "title: TEST  REPORT"),
        "same-calls-new-title": GOOD.replace("title: Test report", "title: 新标题"),
        "invisible-broker": GOOD.replace(
            "broker: Huaan Securities", 'broker: "Huaan\\u200b Securities"'
        ),
    }[second]
    (recs_dir / "2025-05-06-a.yaml").write_text(GOOD, encoding="utf-8")
    (recs_dir / "2025-05-06-b.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["recs", "validate"])
    named = "recs/2025-05-06-a.yaml" in result.stderr and "recs/2025-05-06-b.yaml" in result.stderr
    found, detail = classify(
        result.exit_code,
        result.stdout,
        result.stderr,
        ["recs/2025-05-06-b.yaml"],
        exception=result.exception,
    )
    check(CATEGORY, found if found == CLEAN_ERROR and named else CRASH, f"twice: {second}", detail)
