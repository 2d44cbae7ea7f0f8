"""Every command that prints rows, run as a user runs it: in a real terminal (a pty) 80 and
200 columns wide, and in a pipe.

On a terminal the table fits the width and no ticker or date is broken across lines; in a
pipe every row is one tab-separated line under a header, without box drawing or colour,
so that ``grep 0992.HK`` finds it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]
TRACKER = Path(sys.executable).parent / "tracker"
SYMBOLS = ["0700.HK", "9988.HK", "0992.HK", "1698.HK", "3690.HK", "0268.HK", "^HSI"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX = set("─━│┃┏┓┗┛┡┩╇╋┳┻┣┫╭╮╰╯")
#: A ticker cut after its dot ("0992." then "HK" on the next line) or a date cut short.
BROKEN = re.compile(r"(?<![\d.,])\d{4}\.(?=$|\s|H(?!K))|(?<![\d-])\d{4}-\d\d-\d?(?![\d])")
TICKER = re.compile(r"(?<![\w.])(?:\d{4}\.HK|\^HSI)(?![\w.])")
DATE = re.compile(r"(?<![\d-])\d{4}-\d\d-\d\d(?![\d-])")


@pytest.fixture(scope="module")
def env(shared_dir, tmp_path_factory) -> dict[str, str]:
    """A home whose store holds some real series, and one backtest run."""
    from tracker.prices import PriceStore, update_prices
    from tracker.prices.csvsource import CsvFolderSource

    home = tmp_path_factory.mktemp("pty-home")
    prices = shared_dir / "data" / "prices"
    update_prices(
        PriceStore(home),
        CsvFolderSource(prices),
        SYMBOLS,
        since="2025-01-01",
        until="2026-08-26",
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    environ.update(
        TRACKER_HOME=str(home),
        TRACKER_RECS_DIR=str(ROOT / "recs"),
        NUMBA_CACHE_DIR=str(home / "numba"),
        TERM="xterm-256color",
        PRICES=str(prices),
        RUNS=str(home / "runs"),
    )
    spec = ROOT / "backtests" / "huaan-hk-internet-2025.yaml"
    done = subprocess.run(
        [TRACKER, "-q", "backtest", "run", spec, "--offline", "--as-of", "2025-08-29"]
        + ["--runs-dir", environ["RUNS"]],
        env=environ,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return environ


#: Each command that prints rows, and tokens a row of it must show whole.
COMMANDS = {
    "prices-status": (["prices", "status"], ["0992.HK", "2026-08-21"]),
    "prices-show": (
        ["prices", "show", "0700.HK", "--start", "2026-08-17", "--end", "2026-08-21"],
        ["2026-08-17", "2026-08-21"],
    ),
    "prices-update": (
        ["prices", "update", "0700.HK", "0992.HK", "--source", "csv:{PRICES}"],
        ["0992.HK"],
    ),
    "recs-list": (["recs", "list"], ["0992.HK", "2025-05-06", "2025-09-15"]),
    "registry-resolve": (["registry", "resolve", "騰訊控股", "0992"], ["0700.HK", "0992.HK"]),
    "score": (["score", "--offline"], ["0992.HK", "2025-05-06", "2025-09-15"]),
    "backtest-list": (["backtest", "list", "--runs-dir", "{RUNS}"], ["huaan-hk-internet-2025"]),
    "backtest-compare": (
        ["backtest", "compare", "huaan-hk-internet-2025", "huaan-hk-internet-2025"]
        + ["--runs-dir", "{RUNS}"],
        ["total_return"],
    ),
}

#: Commands whose every row holds a ticker and a date.
ROWS_WITH_DATES = {"prices-status", "recs-list", "score"}


def _argv(args: list[str], env: dict[str, str]) -> list[str]:
    return [a.format(**env) for a in args]


def _in_pty(args: list[str], env: dict[str, str], columns: int) -> str:
    child = pexpect.spawn(
        str(TRACKER),
        _argv(args, env),
        env=env,
        cwd=str(ROOT),
        dimensions=(60, columns),
        encoding="utf-8",
        timeout=300,
    )
    child.expect(pexpect.EOF)
    child.close()
    return ANSI.sub("", child.before.replace("\r\n", "\n"))


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_terminal_gets_a_table_that_fits(env, name, columns):
    args, tokens = COMMANDS[name]
    text = _in_pty(args, env, columns)
    lines = text.splitlines()
    assert lines, text
    too_wide = [line for line in lines if _cells(line) > columns]
    # stderr shares the pty: its plain lines may be longer; table lines may not.
    assert not [line for line in too_wide if BOX & set(line) or "\t" in line], too_wide
    assert not BROKEN.search(text), BROKEN.search(text)
    for token in tokens:
        assert token in text, (token, text)
    if name in ROWS_WITH_DATES:
        # A row shows its ticker and its date on the same line (the rows of the first table:
        # score's roll-up names a best and a worst call in cells that may be cut).
        first_table = lines[: next((i for i, ln in enumerate(lines) if ln.startswith("By ")), None)]
        rows = [line for line in first_table if TICKER.search(line)]
        assert rows and all(DATE.search(line) for line in rows), rows
    assert "\t" not in text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_pipe_gets_one_greppable_line_per_row(env, name):
    args, tokens = COMMANDS[name]
    done = subprocess.run(
        [TRACKER, *_argv(args, env)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode in (0, 2), done.stderr
    out = done.stdout
    assert not ANSI.search(out) and not BOX & set(out)
    lines = [line for line in out.splitlines() if not line.startswith("# ")]
    header = lines[0].split("\t")
    assert len(header) >= 2 and all(header), lines[0]
    for line in lines[1:]:
        assert line.count("\t") == len(header) - 1, line
    for token in tokens:
        assert any(token in line.split("\t") for line in lines[1:]), token
    # stderr lines are plain too: no box drawing, no colour, nothing wrapped mid-token.
    assert not ANSI.search(done.stderr) and not BOX & set(done.stderr)
    assert not BROKEN.search(done.stderr)


def test_grep_finds_a_symbol_in_a_pipe(env):
    done = subprocess.run(
        f"'{TRACKER}' prices status | grep 0992",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    # symbol, first (depends on how far back an update went), last bar of the file
    cells = line.split("\t")
    assert cells[0] == "0992.HK" and cells[2] == "2026-08-21"


def test_recs_list_at_80_columns_keeps_each_call_on_one_line(env):
    lines = _in_pty(["recs", "list"], env, 80).splitlines()
    rows = [line for line in lines if TICKER.search(line)]
    # Every call of the bundled files, one line each, with its ticker and publication date;
    # counted from the files as text: a `ticker:` line per call, less the ADR lines, listed
    # under their HK line (docs/extract.md).
    texts = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "recs").glob("*.yaml"))]
    calls = sum(line.startswith("    ticker:") for t in texts for line in t.splitlines())
    adr = sum(
        line.split("#")[0].strip() == "listing: ADR" for t in texts for line in t.splitlines()
    )
    assert len(rows) == calls - adr, lines
    assert all(DATE.search(line) for line in rows)


def test_a_bad_csv_row_is_one_stderr_line(env, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "0005.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-01-02,1,1,1,1,,1\n2025-13-45,1,1,1,1,,1\n"
    )
    text = _in_pty(["prices", "update", "0005.HK", "--source", f"csv:{bad}"], env, 80)
    lines = text.splitlines()
    problem = [line for line in lines if line.startswith(str(bad / "0005.HK.csv"))]
    assert len(problem) == 1 and ":3: date: " in problem[0], lines
