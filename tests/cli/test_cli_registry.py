"""``tracker registry``: exit codes and exact messages, through the root app."""

from __future__ import annotations

import csv
import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
HEADER = [
    "Stock Code",
    "Name of Securities",
    "Category",
    "Sub-Category",
    "Board Lot",
    "ISIN",
    "Expiry Date",
    "Subject to Stamp Duty",
]
MAIN = "Equity Securities (Main Board)"


def invoke(*args: str):
    return runner.invoke(app, ["registry", *args])


@pytest.fixture
def small_list(tmp_path) -> tuple[Path, Path]:
    """A small HKEX-layout workbook with title rows, and a Chinese-names CSV."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ListOfSecurities")
    for row in [
        ["List of Securities"],
        ["Updated as at 21/11/2026"],
        HEADER,
        ["00700", "TENCENT", "Equity", MAIN, "100", "KYG875721634", "", "Y"],
        ["09988", "BABA-W", "Equity", MAIN, "100", "KYG017191142", "", "Y"],
        ["06666", "NEWCO-B", "Equity", MAIN, "1,000", "", "", "Y"],
        [
            "02800",
            "TRACKER FUND",
            "Exchange Traded Products",
            "Exchange Traded Funds",
            "500",
            "",
            "",
            "",
        ],
        ["12345", "HS#TENCTRC2606A", "Derivative Warrants", "", "10,000", "", "", ""],
        ["54321", "BP#HSI  RC2612X", "Callable Bull/Bear Contracts", "", "10,000", "", "", ""],
        ["54322", "SG#HSI  RP2612Y", "Callable Bull/Bear Contracts", "", "10,000", "", "", ""],
    ]:
        ws.append(row)
    xlsx = tmp_path / "ListOfSecurities.xlsx"
    wb.save(xlsx)
    names = tmp_path / "names.csv"
    with open(names, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["code", "name_zh_hant", "name_zh_hans"],
                ["00700", "騰訊控股", "腾讯控股"],
                ["06666", "新公司-B", "新公司-B"],
                ["00068", "群核科技", "群核科技"],
            ]
        )
    return xlsx, names


# --------------------------------------------------------------------------- resolve, show


def test_resolve_prints_ticker_and_names():
    result = invoke("resolve", "騰訊控股", "美团- W", "9988", "0700 HK")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "query\tticker\tname_zh\tname_en\n"
        "騰訊控股\t0700.HK\t腾讯控股\tTENCENT\n"
        "美团- W\t3690.HK\t美团-W\tMEITUAN-W\n"
        "9988\t9988.HK\t阿里巴巴-W\tBABA-W\n"
        "0700 HK\t0700.HK\t腾讯控股\tTENCENT\n"
    )
    assert result.stderr == ""


def test_resolve_unknown_name():
    result = invoke("resolve", "腾迅控股")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: unknown company or ticker '腾迅控股'; closest: 0700.HK 腾讯控股 (TENCENT)\n"
    )


def test_resolve_ambiguous_name():
    result = invoke("resolve", "華潤")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: '華潤' is ambiguous: 0291.HK 华润啤酒 (CHINA RES BEER), 0836.HK 华润电力"
        " (CHINA RES POWER), 1109.HK 华润置地 (CHINA RES LAND), 1209.HK 华润万象生活"
        " (CHINA RES MIXC); give the code instead\n"
    )


def test_resolve_some_unknown_is_a_partial_failure():
    result = invoke("resolve", "腾讯", "12345")
    assert result.exit_code == 2
    assert result.stdout == "query\tticker\tname_zh\tname_en\n腾讯\t0700.HK\t腾讯控股\tTENCENT\n"
    assert result.stderr == (
        "error: unknown company or ticker '12345'; import the HKEX list with"
        " `tracker registry import`\n"
        "error: 1 of 2 names could not be resolved\n"
    )


def test_resolve_all_unknown_fails():
    result = invoke("resolve", "12345", "12346")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "error: 2 of 2 names could not be resolved"


def test_show():
    result = invoke("show", "HK.09961")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "ticker       9961.HK\n"
        "code         09961\n"
        "name_en      TRIP.COM-S\n"
        "name_zh_hans 携程集团-S\n"
        "name_zh_hant 攜程集團-S\n"
        "aliases      Trip.com Group | 携程 | Ctrip\n"
        "suffix       S\n"
        "board_lot    50\n"
        "category     Equity\n"
        "stamp_duty   yes\n"
    )


def test_show_unknown():
    result = invoke("show", "0701.HK")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown company or ticker '0701.HK'; closest: 0001.HK 长和 (CKH HOLDINGS),"
        " 0700.HK 腾讯控股 (TENCENT)\n"
    )


# --------------------------------------------------------------------------- import


def test_import_summary_and_store(small_list, tracker_home):
    xlsx, names = small_list
    result = invoke("import", str(xlsx), "--names", str(names))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    # 7 data rows: 3 equities + 1 ETF kept, 1 warrant + 2 CBBCs skipped; names for
    # 00700 and 06666 merged, 00068 added; 09988 and 02800 have no Chinese name.
    assert result.stderr.splitlines() == [
        f"read 7 rows from {xlsx} (updated as at 21/11/2026)",
        "kept 4: 3 equities, 1 ETF, 0 REITs",
        "skipped 3 rows that are not equities, ETFs or REITs: 2 Callable Bull/Bear Contracts,"
        " 1 Derivative Warrants",
        "Chinese names: 3 rows read, 2 merged, 1 code added that are not in the list"
        " (no English name or board lot)",
        "2 securities without a Chinese name",
        f"wrote 5 securities to {tracker_home / 'registry.csv'}",
    ]
    shown = invoke("show", "新公司")
    assert shown.exit_code == 0, shown.stderr
    assert "suffix       B\n" in shown.stdout and "board_lot    1000\n" in shown.stdout
    resolved = invoke("resolve", "群核科技", "NEWCO", "Tencent Holdings")
    assert resolved.stdout == (
        "query\tticker\tname_zh\tname_en\n"
        "群核科技\t0068.HK\t群核科技\t\n"
        "NEWCO\t6666.HK\t新公司-B\tNEWCO-B\n"
        "Tencent Holdings\t0700.HK\t腾讯控股\tTENCENT\n"
    )


def test_import_bad_board_lot(tmp_path, tracker_home):
    bad = tmp_path / "list.csv"
    bad.write_text(
        "code,name_en,board_lot,category\n00700,TENCENT,100,Equity\n"
        "00005,HSBC HOLDINGS,4OO,Equity\n",
        encoding="utf-8",
    )
    result = invoke("import", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{bad}:3: board_lot: '4OO' is not a whole number of shares; fix the row or download"
        " the list again\n"
        "error: 1 problem found\n"
    )
    assert not (tracker_home / "registry.csv").exists()


def test_import_not_a_workbook(tmp_path):
    bad = tmp_path / "ListOfSecurities.xlsx"
    bad.write_text("<html>Service unavailable</html>")
    result = invoke("import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad}: not an Excel workbook (.xlsx) (")
    assert result.stderr.endswith(
        "); download HKEX's List of Securities again\nerror: 1 problem found\n"
    )


def test_import_missing_file_is_a_usage_error(tmp_path):
    result = invoke("import", str(tmp_path / "nope.xlsx"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# --------------------------------------------------------------------------- update


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the request log would land on captured stderr
        pass


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1; returns the base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_update_from_a_local_server_with_the_real_list(serve, shared_dir, tracker_home):
    hkex = shared_dir / "data" / "hkex"
    url = f"{serve(hkex)}/ListOfSecurities.xlsx"
    result = invoke("update", "--url", url, "--names", str(hkex / "securities.csv"))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    # 17,944 data rows of every type, as SOURCES.md documents the file
    assert lines[0] == f"read 17,944 rows from {url}"
    assert lines[-1] == f"wrote 3,148 securities to {tracker_home / 'registry.csv'}"
    resolved = invoke("resolve", "DAHSING BANKING", "匯豐控股", "BANK OF E ASIA")
    assert resolved.stdout == (
        "query\tticker\tname_zh\tname_en\n"
        "DAHSING BANKING\t2356.HK\t大新银行集团\tDAHSING BANKING\n"
        "匯豐控股\t0005.HK\t汇丰控股\tHSBC HOLDINGS\n"
        "BANK OF E ASIA\t0023.HK\t东亚银行\tBANK OF E ASIA\n"
    )


def test_update_network_failure_leaves_the_store(serve, small_list, tmp_path, tracker_home):
    xlsx, names = small_list
    assert invoke("import", str(xlsx)).exit_code == 0
    before = (tracker_home / "registry.csv").read_bytes()
    url = f"{serve(tmp_path)}/missing.xlsx"
    result = invoke("update", "--url", url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot download the HKEX list from {url}: HTTP 404 File not found; check the"
        " connection or the --url, or download the file in a browser and run"
        " `tracker registry import FILE` (the registry was not changed)\n"
    )
    assert (tracker_home / "registry.csv").read_bytes() == before


# --------------------------------------------------------------------------- help and start-up


@pytest.mark.parametrize("command", ["resolve", "show", "import", "update"])
def test_help_has_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_registry_commands_do_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "import tracker.cli\n"
        "CliRunner().invoke(tracker.cli.app, ['registry', '--help'])\n"
        "r = CliRunner().invoke(tracker.cli.app, ['registry', 'resolve', '700'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(','.join(m for m in ('openpyxl', 'opencc', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
