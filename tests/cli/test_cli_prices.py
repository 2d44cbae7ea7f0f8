"""`tracker prices update | show | status` through the CLI (no network: csv and simulated
sources)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
HEADER = "date,open,high,low,close,adj_close,volume\n"
TENCENT = HEADER + (
    "2025-01-02,418,420,409,410.2,,16000000\n"
    "2025-01-03,410.2,413,405.2,406.6,,14500000\n"
    "2025-01-06,404,405.4,394.6,396.2,,20100000\n"
)
HSI = HEADER + "2025-01-02,20060,20150,19600,19623.32,19623.32,3200000000\n"


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "vendor"
    d.mkdir()
    (d / "0700.HK.csv").write_text(TENCENT)
    (d / "HSI.csv").write_text(HSI)
    return d


def invoke(*args: str):
    # A wide terminal, so that rich tables do not wrap the cells the tests read.
    return runner.invoke(app, ["prices", *args], env={"COLUMNS": "300"})


def test_update_from_csv_then_show_and_status(folder):
    result = invoke(
        "update",
        "700.hk",
        "^hsi",
        "--source",
        f"csv:{folder}",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-06",
    )
    assert result.exit_code == 0, result.output
    assert "2 fetched, 0 up to date, 0 failed" in result.stderr
    assert "0700.HK" in result.stdout and "^HSI" in result.stdout

    shown = invoke("show", "0700.HK", "--format", "csv")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines() == [
        "date,open,high,low,close,adj_close,volume,dividends,splits,placeholder",
        "2025-01-02,418.0,420.0,409.0,410.2,,16000000.0,0.0,0.0,False",
        "2025-01-03,410.2,413.0,405.2,406.6,,14500000.0,0.0,0.0,False",
        "2025-01-06,404.0,405.4,394.6,396.2,,20100000.0,0.0,0.0,False",
    ]
    between = invoke(
        "show", "0700.HK", "--start", "2025-01-03", "--end", "2025-01-03", "--format", "csv"
    )
    assert between.stdout.splitlines()[1:] == [
        "2025-01-03,410.2,413.0,405.2,406.6,,14500000.0,0.0,0.0,False"
    ]

    status = invoke("status", "--format", "csv")
    assert status.exit_code == 0
    lines = status.stdout.splitlines()
    assert lines[0] == (
        "symbol,first,last,rows,placeholders,suspensions,stale_sessions,source,simulated,fetched_at"
    )
    assert lines[1].startswith("0700.HK,2025-01-02,2025-01-06,3,0,0,")
    assert f",csv:{folder.resolve()},False," in lines[1]

    again = invoke(
        "update",
        "0700.HK",
        "--source",
        f"csv:{folder}",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-06",
    )
    assert again.exit_code == 0
    assert "0 fetched, 1 up to date, 0 failed" in again.stderr


def test_a_failed_symbol_exits_2_after_the_summary(folder):
    result = invoke(
        "update",
        "0700.HK",
        "9988.HK",
        "--source",
        f"csv:{folder}",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-06",
    )
    assert result.exit_code == 2
    assert "1 fetched, 0 up to date, 1 failed" in result.stderr
    # The reason is a plain stderr line of its own (and a cell of the failed row).
    assert f"no file 9988.HK.csv in {folder}" in result.stderr.splitlines()
    assert "9988.HK\tfailed\t0\t\t\tno file 9988.HK.csv" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "error: 1 of 2 symbols failed"


def test_bad_csv_reason_names_file_and_line(folder):
    (folder / "0700.HK.csv").write_text(TENCENT + "2025-01-03,1,2,1,1.5,,100\n")
    result = invoke(
        "update",
        "0700.HK",
        "--source",
        f"csv:{folder}",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-06",
    )
    assert result.exit_code == 2
    line = f"{folder / '0700.HK.csv'}:5: date: 2025-01-03 repeats line 3: keep one row"
    assert line in result.stdout
    # A cron log or grep finds the whole problem on one stderr line.
    assert line in result.stderr.splitlines()


def test_offline_reports_staleness_without_fetching(folder):
    invoke(
        "update",
        "0700.HK",
        "--source",
        f"csv:{folder}",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-06",
    )
    result = invoke("update", "0700.HK", "0005.HK", "--offline")
    assert result.exit_code == 0
    err = result.stderr.splitlines()
    assert err[0] == "offline: nothing fetched"
    # One line for both series; the per-symbol detail only with -v.
    assert re.fullmatch(
        r"0700\.HK ends 2025-01-06, \d+ sessions before \d{4}-\d\d-\d\d;"
        r" 0005\.HK has no prices; `tracker prices status` lists them",
        err[1],
    ), err
    assert len(err) == 2
    verbose = runner.invoke(app, ["-v", "prices", "update", "0700.HK", "0005.HK", "--offline"])
    err = verbose.stderr.splitlines()
    assert err[2].startswith("0700.HK: last bar 2025-01-06, ") and err[3] == (
        "0005.HK: no prices in the store"
    )


def test_simulated_outputs_say_so_in_their_first_line():
    result = invoke(
        "update",
        "0700.HK",
        "^HSI",
        "--source",
        "simulated",
        "--since",
        "2025-01-01",
        "--until",
        "2025-03-31",
    )
    assert result.exit_code == 0
    # In a pipe (tsv) the banner is a comment line before the header.
    assert result.stdout.splitlines()[0].startswith("# SIMULATED DATA")
    shown = invoke("show", "0700.HK", "--format", "csv", "--end", "2025-01-03")
    assert shown.stdout.splitlines()[0] == (
        "# SIMULATED DATA: seeded one-factor model, not market prices"
    )
    assert shown.stdout.splitlines()[1].startswith("date,open,")
    table = invoke("show", "0700.HK", "--end", "2025-01-03", "--format", "table")
    assert (
        table.stdout.splitlines()[0] == "SIMULATED DATA: seeded one-factor model, not market prices"
    )
    status = invoke("status", "--format", "table")
    assert status.stdout.splitlines()[0] == (
        "SIMULATED DATA (seeded one-factor model, not market prices): 0700.HK, ^HSI"
    )


def test_recs_adds_every_called_ticker_and_the_benchmarks(project_root, monkeypatch):
    monkeypatch.setenv("TRACKER_RECS_DIR", str(project_root / "recs"))
    result = invoke(
        "update",
        "--recs",
        "--source",
        "simulated",
        "--since",
        "2025-06-01",
        "--until",
        "2025-06-30",
    )
    assert result.exit_code == 0, result.output
    status = invoke("status", "--format", "csv")
    symbols = {line.split(",")[0] for line in status.stdout.splitlines()[2:]}
    assert {"^HSI", "2800.HK", "0700.HK", "9988.HK"} <= symbols


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["update"], "give symbols", id="no-symbols"),
        pytest.param(
            ["update", "0700.HK", "--source", "bloomberg"], "use yahoo, csv:DIR", id="bad-source"
        ),
        pytest.param(
            ["update", "0700.HK", "--source", "csv:/no/such/dir"], "is not a folder", id="no-folder"
        ),
        pytest.param(
            ["update", "0700.HK", "--since", "01/02/2025"], "is not a date", id="bad-date"
        ),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_show_unknown_symbol():
    result = invoke("show", "9999.HK")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no bars for 9999.HK in the store: run `tracker prices update 9999.HK`"
    )
