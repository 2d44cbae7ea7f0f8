"""Control characters never reach the terminal or a tsv/csv file raw.

**output: control characters**: ESC, BEL, CR, NUL, a C1 control (CSI, U+009B),
DEL and bidirectional overrides are (a) refused where names enter, with one
``file:line: field: message`` line, in HKEX's list and the names file of
``tracker registry import``, in the registry store read by every command, in a
spreadsheet imported by ``tracker recs import`` and in symbols given to
``tracker prices``; and (b) written as visible escapes by the row printer in
table, tsv and csv (``\\x1b``; bidirectional marks ``\\u202e``), whatever
reaches it.
"""

from __future__ import annotations

import csv
import io
import shutil
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reliability.ledger import CLEAN_ERROR, CRASH, ESCAPED, LEAK, check
from tracker.cli import app
from tracker.cli.output import emit_rows

CATEGORY = "output: control characters"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

#: (id, character, its escape written by hand)
CONTROLS = [
    ("ESC", "\x1b", "\\x1b"),
    ("BEL", "\x07", "\\x07"),
    ("NUL", "\x00", "\\x00"),
    ("BS", "\x08", "\\x08"),
    ("DEL", "\x7f", "\\x7f"),
    ("C1-CSI", "\x9b", "\\x9b"),
    ("C1-NEL", "\x85", "\\x85"),
    ("RLO", "\u202e", "\\u202e"),
    ("LRI", "\u2066", "\\u2066"),
    ("PDF", "\u202c", "\\u202c"),
    ("LINE-SEP", "\u2028", "\\u2028"),
]
#: Refused where a name enters: the C0/C1 controls (bidirectional marks are removed instead).
REFUSED = [(i, c, e) for i, c, e in CONTROLS if unicodedata.category(c) == "Cc"]


def _raw(text: str, allowed: str = "\n") -> list[str]:
    """The control and bidirectional characters in ``text`` other than ``allowed``."""
    return [
        c
        for c in text
        if c not in allowed
        and (unicodedata.category(c) in ("Cc", "Zl", "Zp") or unicodedata.bidirectional(c) in _BIDI)
    ]


_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


# --------------------------------------------------------------------------- the row printer


@pytest.mark.parametrize("fmt", ["table", "tsv", "csv"])
@pytest.mark.parametrize("ident, char, escape", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_row_printer_escapes(fmt, ident, char, escape):
    name = f"Tencent{char}[2J[/x] 騰訊"
    out = io.StringIO()
    emit_rows([{"ticker": "0700.HK", "name": name}], None, fmt, file=out, width=100)
    text = out.getvalue()
    raw = _raw(text, "\n\t" if fmt == "tsv" else "\n")
    # Independent oracle: the name with the one character replaced by its hand-written escape.
    shown = f"Tencent{escape}[2J[/x] 騰訊"
    if fmt == "csv":
        cells = list(csv.reader(io.StringIO(text)))
        ok = not raw and cells == [["ticker", "name"], ["0700.HK", shown]]
    elif fmt == "tsv":
        ok = not raw and text == f"ticker\tname\n0700.HK\t{shown}\n"
    else:
        ok = not raw and shown in text
    check(CATEGORY, ESCAPED if ok else LEAK, f"row printer {fmt}: {ident}", repr(text))


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\r\n"], ids=["TAB", "LF", "CR", "CRLF"])
@pytest.mark.parametrize("fmt", ["tsv", "csv"])
def test_line_breaks_keep_one_row_per_line(fmt, char):
    out = io.StringIO()
    emit_rows([{"a": f"x{char}y", "b": "z"}], None, fmt, file=out)
    sep = "\t" if fmt == "tsv" else ","
    ok = out.getvalue() == f"a{sep}b\nx y{sep}z\n"
    check(CATEGORY, ESCAPED if ok else LEAK, f"row printer {fmt}: {char!r}", out.getvalue())


# --------------------------------------------------------------------------- registry inputs


def _clean_refusal(result, where: str, field: str, char: str) -> tuple[str, str]:
    lines = result.stderr.splitlines()
    expected = f"control character U+{ord(char):04X} is not allowed in a name"
    ok = (
        result.exit_code == 1
        and (result.exception is None or isinstance(result.exception, SystemExit))
        and len(lines) == 2
        and lines[0].startswith(f"{where}: {field}: {expected}")
        and lines[1] == "error: 1 problem found"
        and not _raw(result.stdout + result.stderr)
    )
    return (CLEAN_ERROR if ok else CRASH), result.stderr[-300:]


@pytest.mark.parametrize("ident, char, escape", REFUSED, ids=[c[0] for c in REFUSED])
@pytest.mark.parametrize("field", ["name_en", "name_zh_hant"])
def test_hkex_list_names_refused(tmp_path, monkeypatch, ident, char, escape, field):
    home = tmp_path / "home"
    monkeypatch.setenv("TRACKER_HOME", str(home))
    listing = tmp_path / "list.csv"
    name_en, zh = (
        ("TEN" + char + "CENT", "騰訊控股")
        if field == "name_en"
        else ("TENCENT", "騰訊" + char + "控股")
    )
    rows = [["code", "name_en", "name_zh_hant", "board_lot", "category"]]
    rows += [
        ["5", "HSBC HOLDINGS", "滙豐控股", "400", "Equity"],
        ["700", name_en, zh, "100", "Equity"],
    ]
    with listing.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = runner.invoke(app, ["registry", "import", str(listing)])
    outcome, detail = _clean_refusal(result, f"{listing}:3", field, char)
    if (home / "registry.csv").exists():
        outcome, detail = CRASH, "the store was written"
    check(CATEGORY, outcome, f"registry import list {field}: {ident}", detail)


@pytest.mark.parametrize("ident, char, escape", REFUSED, ids=[c[0] for c in REFUSED])
def test_names_file_refused(tmp_path, monkeypatch, shared_dir, ident, char, escape):
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    names = tmp_path / "names.csv"
    with names.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["code", "name_zh_hant"], ["700", "騰訊" + char + "控股"]])
    listing = shared_dir / "data" / "hkex" / "securities.csv"
    result = runner.invoke(app, ["registry", "import", str(listing), "--names", str(names)])
    outcome, detail = _clean_refusal(result, f"{names}:2", "name_zh_hant", char)
    check(CATEGORY, outcome, f"registry import names: {ident}", detail)


@pytest.mark.parametrize("ident, char, escape", REFUSED, ids=[c[0] for c in REFUSED])
@pytest.mark.parametrize(
    "command",
    [
        ["registry", "resolve", "0700"],
        ["registry", "show", "0700.HK"],
        ["recs", "list"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_registry_store_with_a_control_character(
    tmp_path, monkeypatch, ident, char, escape, command
):
    """A hand-edited ``<home>/registry.csv`` is refused by every command that reads names."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TRACKER_HOME", str(home))
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 12, 4))
    store = home / "registry.csv"
    text = (ROOT / "tracker" / "registry" / "data" / "registry.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines(keepends=True)
    fields = next(csv.reader([first]))
    fields[1] = fields[1][:2] + char + fields[1][2:]  # inside: an end would be trimmed
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    store.write_text(header + buf.getvalue() + "".join(rest), encoding="utf-8")
    result = runner.invoke(app, command)
    outcome, detail = _clean_refusal(result, f"{store}:2", "name_en", char)
    check(CATEGORY, outcome, f"{' '.join(command[:2])} with {ident} in the store", detail)


def test_bidi_marks_are_dropped_from_imported_names(tmp_path, monkeypatch):
    """An override in HKEX's list is removed, so resolve prints the name as it reads."""
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    listing = tmp_path / "list.csv"
    listing.write_text(
        "code,name_en,name_zh_hant,board_lot,category\n700,\u202eTENCENT\u202c,騰訊\u2066控股,100,Equity\n",
        encoding="utf-8",
    )
    done = runner.invoke(app, ["registry", "import", str(listing)])
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["registry", "resolve", "0700", "--format", "tsv"])
    ok = result.exit_code == 0 and result.stdout.splitlines()[1].split("\t")[3] == "TENCENT"
    ok = ok and "騰訊控股" in result.stdout + runner.invoke(app, ["registry", "show", "700"]).stdout
    check(CATEGORY, ESCAPED if ok else LEAK, "registry import: bidi marks in names", result.stdout)


@pytest.mark.parametrize("fmt", ["table", "tsv", "csv"])
@pytest.mark.parametrize("ident, char, escape", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_resolve_echoes_a_query_escaped(fmt, ident, char, escape):
    """The query column repeats what was typed; whatever it holds is shown escaped."""
    query = f"0700{char}"
    result = runner.invoke(app, ["registry", "resolve", query, "0005", "--format", fmt])
    text = result.stdout + result.stderr
    # The query may or may not resolve; either way nothing raw reaches the terminal.
    ok = result.exit_code in (0, 1, 2) and not _raw(text, "\n\t" if fmt == "tsv" else "\n")
    ok = ok and (result.exception is None or isinstance(result.exception, SystemExit))
    check(CATEGORY, ESCAPED if ok else LEAK, f"registry resolve {fmt}: {ident}", repr(text[-200:]))


# --------------------------------------------------------------------------- other inputs


@pytest.mark.parametrize("ident, char, escape", REFUSED, ids=[c[0] for c in REFUSED])
@pytest.mark.parametrize("column", ["broker", "analyst"])
def test_recs_import_refuses_names(tmp_path, monkeypatch, ident, char, escape, column):
    shutil.copytree(ROOT / "recs" / "scales", tmp_path / "recs" / "scales")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 6, 30))
    sheet = tmp_path / "calls.csv"
    broker, analyst = (
        ("U" + char + "BS", "Jane Doe") if column == "broker" else ("UBS", "Ja" + char + "ne")
    )
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["date", "broker", "analyst", "company", "rating"],
                ["2025-03-04", broker, analyst, "00700", "Buy"],
            ]
        )
    result = runner.invoke(app, ["recs", "import", str(sheet)])
    lines = result.stderr.splitlines()
    ok = (
        result.exit_code == 1
        and lines
        and lines[-1].startswith("error: ")
        and all(line.startswith(f"{sheet}:2: ") for line in lines[:-1])
        and not _raw(result.stdout + result.stderr)
        and not list((tmp_path / "recs").glob("*.yaml"))
    )
    check(
        CATEGORY,
        CLEAN_ERROR if ok else CRASH,
        f"recs import {column}: {ident}",
        result.stderr[-300:],
    )


@pytest.mark.parametrize("ident, char, escape", CONTROLS, ids=[c[0] for c in CONTROLS])
@pytest.mark.parametrize("command", ["update", "show"])
def test_price_symbols_refused(ident, char, escape, command):
    args = ["prices", command, f"0700{char}.HK"] + (
        ["--source", "simulated"] if command == "update" else []
    )
    result = runner.invoke(app, args)
    ok = (
        result.exit_code == 2
        and "a symbol has no spaces or control characters" in result.output
        and not _raw(result.output)
    )
    check(
        CATEGORY,
        CLEAN_ERROR if ok else CRASH,
        f"prices {command} symbol: {ident}",
        result.output[-300:],
    )
