"""The root command: --version, -q/--quiet, -v/--verbose, --no-color and NO_COLOR, and help
that reads as prose (placeholders, no type tags such as <bool> or <str>)."""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.cli.output import OPTIONS

runner = CliRunner()


def test_version_names_tracker_and_its_engines():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    expected = (
        f"tracker {metadata.version('tracker')} (vectorbt {metadata.version('vectorbt')},"
        f" pandas {metadata.version('pandas')}, yfinance {metadata.version('yfinance')})\n"
    )
    assert result.stdout == expected


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield path


def _all_commands():
    import typer.main

    return [(), *(path for path in _commands(typer.main.get_command(app)))]


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "tracker")
def test_help_has_no_type_tags(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    # typer's labels: a type name in angle brackets ("<SYMBOL>", "<spec>/<run>" are prose).
    tags = re.findall(
        r"<(?:bool|str|int|float|path|file|directory|text|list\[\w+\])(?:\.\.\.)?>",
        result.stdout,
    )
    assert tags == [], tags


def test_help_shows_placeholders_for_values():
    text = runner.invoke(app, ["prices", "update", "--help"], env={"COLUMNS": "120"}).stdout
    assert re.search(r"--since\s+DATE\s", text) and re.search(r"--until\s+DATE\s", text)
    assert re.search(r"--format\s+table\|tsv\|csv\|json\s", text)
    assert re.search(r"--recs\s+Every ticker", text)  # a flag takes no value


def test_quiet_keeps_rows_and_problems_and_drops_notes(tmp_path):
    folder = tmp_path / "vendor"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-01-02,1,1,1,410.2,,100\n"
    )
    args = ["prices", "update", "0700.HK", "9988.HK", "--source", f"csv:{folder}"]
    args += ["--since", "2025-01-01", "--until", "2025-01-03"]
    loud = runner.invoke(app, args)
    assert "1 fetched, 0 up to date, 1 failed" in loud.stderr
    quiet = runner.invoke(app, ["-q", *args])
    assert quiet.exit_code == 2
    assert quiet.stdout.splitlines()[0] == "symbol\tresult\tnew_rows\tfirst\tlast\tnote"
    # Only the problem and the error are left for the cron log: this second run finds no
    # new bar for 0700.HK (staleness, a note, silenced) and still no file for 9988.HK.
    assert quiet.stderr == (f"no file 9988.HK.csv in {folder}\nerror: 2 of 2 symbols failed\n")
    assert OPTIONS.quiet  # set for the run; the next run resets it
    runner.invoke(app, ["prices", "status"])
    assert not OPTIONS.quiet


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--no-color"], {}, id="option"),
        pytest.param([], {"NO_COLOR": "1"}, id="env"),
    ],
)
def test_no_colour_on_a_forced_terminal(args, env, tmp_path):
    folder = tmp_path / "vendor"
    folder.mkdir()
    (folder / "0700.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-01-02,1,1,1,410.2,,100\n"
    )
    runner.invoke(
        app, ["prices", "update", "0700.HK", "--source", f"csv:{folder}", "--until", "2025-01-03"]
    )
    # FORCE_COLOR makes rich colour even though CliRunner is not a terminal.
    coloured = runner.invoke(
        app, ["prices", "status", "--format", "table"], env={"FORCE_COLOR": "1"}
    )
    assert "\x1b[" in coloured.stdout
    plain = runner.invoke(
        app, [*args, "prices", "status", "--format", "table"], env={"FORCE_COLOR": "1", **env}
    )
    assert plain.exit_code == 0 and "0700.HK" in plain.stdout
    assert "\x1b[" not in plain.stdout
