"""`tracker recs import`: a spreadsheet of calls into call files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.errors import InputFileError, TrackerError
from tracker.recs.book import load_book, load_scales
from tracker.recs.importer import column_fields, plan_import, read_sheet
from tracker.registry.resolve import Registry

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 6, 30)

ZH = (
    "日期,券商,分析師,公司,評級,目標價,貨幣,原評級,原目標價,備註\n"
    "2025-03-04,瑞銀,Jane Doe,金蝶國際,買入,12,港元,中性,10,cloud\n"
    "2025-03-04,UBS,,00700,Buy,600,HKD,,,\n"
    "05/03/2025,花旗,,美團,持有,,,,,\n"
)


@pytest.fixture
def recs(tmp_path: Path) -> Path:
    d = tmp_path / "recs"
    shutil.copytree(ROOT / "recs" / "scales", d / "scales")
    return d


@pytest.fixture
def cli_env(tmp_path, recs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("tracker.sessions.today_hk", lambda: TODAY)
    return tmp_path


def _sheet(tmp_path: Path, text: str, name: str = "calls.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _plan(tmp_path, recs, text, **kw):
    return plan_import(
        _sheet(tmp_path, text),
        recs,
        Registry.curated(),
        load_scales(recs / "scales"),
        today=TODAY,
        **kw,
    )


def test_chinese_headers_one_file_per_broker_and_date(tmp_path, recs):
    plan = _plan(tmp_path, recs, ZH)
    assert plan.problems == []
    assert [(f.path.name, f.calls, f.status) for f in plan.files] == [
        ("2025-03-04-ubs-import.yaml", 2, "new"),
        ("2025-03-05-citi-import.yaml", 1, "new"),
    ]
    ubs = plan.files[0].text
    assert "previous_rating: neutral" in ubs and "action: upgrade" in ubs
    assert "previous_target: 10" in ubs and "name: 腾讯控股" in ubs


def test_written_files_validate_and_reimport_is_a_no_op(tmp_path, recs):
    from tracker.recs.importer import write_plan

    first = write_plan(_plan(tmp_path, recs, ZH), recs)
    assert len(first) == 2
    book = load_book(recs, registry=Registry.curated(), today=TODAY)
    assert sorted(len(r.report.recommendations) for r in book.reports) == [1, 2]
    again = _plan(tmp_path, recs, ZH)
    assert {f.status for f in again.files} == {"unchanged"}
    assert write_plan(again, recs) == []


@pytest.mark.parametrize(
    "row, column, message",
    [
        pytest.param("2025-13-01,UBS,,00700,Buy,1,HKD", "date", "is not a date", id="date"),
        pytest.param("2030-01-01,UBS,,00700,Buy,1,HKD", "date", "in the future", id="future"),
        pytest.param("2025-01-02,UBS,,NOSUCHCO,Buy,1,HKD", "company", "NOSUCHCO", id="company"),
        pytest.param("2025-01-02,UBS,,00700,Great,1,HKD", "rating", "unknown rating", id="rating"),
        pytest.param("2025-01-02,UBS,,00700,Buy,abc,HKD", "target", "not a number", id="target"),
        pytest.param("2025-01-02,UBS,,00700,Buy,1,EUR", "currency", "use HKD", id="currency"),
        pytest.param("2025-01-02,,,00700,Buy,1,HKD", "broker", "empty", id="no-broker"),
    ],
)
def test_every_bad_row_named_and_nothing_planned(tmp_path, recs, row, column, message):
    text = "date,broker,analyst,company,rating,target,currency\n2025-01-02,UBS,,00700,Buy,1,HKD\n"
    plan = _plan(tmp_path, recs, text + row + "\n")
    assert [(p.line, p.field) for p in plan.problems] == [(3, column)]
    assert message in plan.problems[0].message
    assert plan.files == []


def test_skip_bad_keeps_the_good_rows(tmp_path, recs):
    text = "date,broker,company,rating\n2025-01-02,UBS,00700,Buy\n2025-01-02,UBS,00700x,Buy\n"
    plan = _plan(tmp_path, recs, text, skip_bad=True)
    assert len(plan.problems) == 1 and plan.skipped == 1
    assert [f.calls for f in plan.files] == [1]


def test_the_same_stock_twice_for_one_broker_and_day_is_a_row_problem(tmp_path, recs):
    text = "date,broker,company,rating\n2025-01-02,UBS,00700,Buy\n2025-01-02,UBS,腾讯控股,Sell\n"
    plan = _plan(tmp_path, recs, text)
    assert plan.files == [] and {p.line for p in plan.problems} == {2, 3}


def test_map_names_other_columns(tmp_path, recs):
    text = "when,firm,stock,view\n2025-01-02,Citi,00700,Buy\n"
    with pytest.raises(InputFileError, match="no column for date, broker, rating"):
        _plan(tmp_path, recs, text)
    mapping = {"when": "date", "firm": "broker", "view": "rating"}
    plan = _plan(tmp_path, recs, text, mapping=mapping)
    assert [f.path.name for f in plan.files] == ["2025-01-02-citi-import.yaml"]


def test_map_refuses_unknown_fields_and_columns():
    with pytest.raises(TrackerError, match="unknown field"):
        column_fields(["a"], {"a": "colour"})
    with pytest.raises(TrackerError, match="no column 'b'"):
        column_fields(["a"], {"b": "date"})


def test_xlsx_with_dates_as_cells(tmp_path, recs):
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Date", "Broker", "Code", "Rating", "Target Price"])
    ws.append([datetime(2025, 2, 3), "Jefferies", "1024", "Hold", 55.5])
    path = tmp_path / "calls.xlsx"
    wb.save(path)
    header, rows = read_sheet(path)
    assert header == ["Date", "Broker", "Code", "Rating", "Target Price"]
    plan = plan_import(path, recs, Registry.curated(), load_scales(recs / "scales"), today=TODAY)
    assert plan.problems == []
    assert "ticker: 1024.HK" in plan.files[0].text and "value: 55.5" in plan.files[0].text


@pytest.mark.parametrize(
    "content, name, message",
    [
        pytest.param(b"", "x.csv", "the file is empty", id="empty"),
        pytest.param(b"a,b\n", "x.pdf", "not a spreadsheet", id="not-a-sheet"),
        pytest.param(b"not a zip", "x.xlsx", "not a readable XLSX", id="bad-xlsx"),
    ],
)
def test_bad_files(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_sheet(path)


def test_cli_dry_run_then_import_then_no_op(cli_env):
    sheet = _sheet(cli_env, ZH)
    runner = CliRunner()
    dry = runner.invoke(app, ["recs", "import", str(sheet), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would write recs/2025-03-04-ubs-import.yaml (2 call(s), new)" in dry.stderr
    assert not (cli_env / "recs" / "2025-03-04-ubs-import.yaml").exists()
    done = runner.invoke(app, ["recs", "import", str(sheet)])
    assert done.exit_code == 0 and "wrote recs/2025-03-05-citi-import.yaml" in done.stderr
    again = runner.invoke(app, ["recs", "import", str(sheet)])
    assert "unchanged recs/2025-03-04-ubs-import.yaml (2 call(s))" in again.stderr


def test_cli_bad_row_is_file_row_column_message(cli_env):
    sheet = _sheet(cli_env, "date,broker,company,rating\n2025-01-02,UBS,00700,Great\n")
    result = CliRunner().invoke(app, ["recs", "import", str(sheet)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{sheet}:2: rating: unknown rating 'Great'"
    assert not list((cli_env / "recs").glob("*.yaml"))
