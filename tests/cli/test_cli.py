"""The command line as a whole: help for every command, fast start, error translation,
and the `recs` commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path)
        else:
            yield path, cmd


ALL_COMMANDS = list(_commands(get_command(app)))


@pytest.mark.parametrize(("path", "cmd"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS])
def test_every_command_has_help_with_an_example(path, cmd):
    assert cmd.help and "Example:" in cmd.help, (
        f"tracker {' '.join(path)} needs an Example: in its help"
    )
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "import tracker.cli\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(tracker.cli.app, ['--help'])\n"
        "CliRunner().invoke(tracker.cli.app, ['recs', 'list', '--format', 'json'])\n"
        "heavy = [m for m in ('vectorbt', 'yfinance', 'matplotlib', 'numba', 'jinja2')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled calls in a temp folder, used as the working directory."""
    shutil.copytree(ROOT / "recs", tmp_path / "recs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_bundled_calls(project):
    result = runner.invoke(app, ["recs", "validate"])
    assert result.exit_code == 0, result.output
    # Counted from the files as text: one report per YAML file, one call per `ticker:` line.
    files = sorted((project / "recs").glob("*.yaml"))
    calls = sum(
        line.startswith("    ticker:")
        for f in files
        for line in f.read_text(encoding="utf-8").splitlines()
    )
    scales = len(list((project / "recs" / "scales").glob("*.yaml")))
    assert len(files) >= 2 and calls >= 19
    assert (
        result.stderr.strip() == f"ok: {len(files)} report(s), {calls} call(s), {scales} scale(s)"
    )


def test_validate_reports_every_problem_and_exits_1(project):
    path = project / "recs" / "2025-09-15-caitong-ai-race.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("ticker: 0268.HK", "ticker: 0701.HK").replace(
            "    rating: attention   # 建議關注", "    rating: 强买"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["recs", "validate"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    rel = Path("recs") / "2025-09-15-caitong-ai-race.yaml"
    assert lines[0].startswith(
        f"{rel}:22: recommendations.0.rating: unknown rating '强买' for scale 'caitong'"
    )
    assert lines[1].startswith(
        f"{rel}:25: recommendations.1.ticker: ticker 0701.HK is not in the registry"
    )
    assert lines[-1] == "error: 2 problems found"
    assert "Traceback" not in result.output


def test_list_json_has_the_documented_fields(project):
    result = runner.invoke(
        app, ["recs", "list", "--format", "json", "--broker", "caitong securities"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["ticker"] for r in rows] == ["3690.HK", "0268.HK", "0992.HK", "0700.HK"]
    first = rows[0]
    for key in (
        "report",
        "broker",
        "analysts",
        "published",
        "name",
        "ticker",
        "rating",
        "target_price",
    ):
        assert key in first
    assert first["analysts"] == ["郝彦辉"]
    assert first["published"] == "2025-09-15"
    assert first["target_price"] is None


def test_list_filters_by_name_through_the_registry(project):
    result = runner.invoke(app, ["recs", "list", "--format", "csv", "--ticker", "騰訊控股"])
    assert result.exit_code == 0, result.output
    rows = result.stdout.strip().splitlines()
    assert rows[0].startswith("report,broker,analysts,published,seen,name,ticker,rating")
    # As many rows as `ticker: 0700.HK` lines in the files.
    tencent = sum(
        line.startswith("    ticker: 0700.HK")
        for f in (project / "recs").glob("*.yaml")
        for line in f.read_text(encoding="utf-8").splitlines()
    )
    assert tencent >= 2
    assert [r.split(",")[6] for r in rows[1:]] == ["0700.HK"] * tencent


def test_add_resolves_the_name_and_keeps_comments(project):
    path = project / "recs" / "2025-09-15-caitong-ai-race.yaml"
    before = path.read_text(encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "recs",
            "add",
            str(path),
            "--name",
            "小米集團-W",
            "--rating",
            "买入",
            "--target",
            "60.5",
            "--note",
            "AI 手机",
        ],
    )
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # nothing before is changed, comments included
    assert after[len(before) :] == (
        "  - name: 小米集團-W\n"
        "    ticker: 1810.HK\n"
        "    rating: buy\n"
        "    target:\n"
        "      value: 60.5\n"
        "      currency: HKD\n"
        "    note: AI 手机\n"
    )
    assert "added 小米集團-W (1810.HK) buy" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("腾讯控股", "0700.HK appears twice in one report", id="duplicate"),
        pytest.param("不存在公司", "error: unknown company or ticker '不存在公司'", id="unknown"),
    ],
)
def test_add_refuses_bad_calls_and_leaves_the_file(project, name, message):
    path = project / "recs" / "2025-09-15-caitong-ai-race.yaml"
    before = path.read_text(encoding="utf-8")
    result = runner.invoke(app, ["recs", "add", str(path), "--name", name, "--rating", "attention"])
    assert result.exit_code == 1
    assert message in result.stderr
    assert path.read_text(encoding="utf-8") == before


def test_bad_date_option_is_a_usage_error(project):
    result = runner.invoke(app, ["recs", "list", "--since", "May 2025"])
    assert result.exit_code == 2
    assert "'May 2025' is not a date in YYYY-MM-DD form" in result.output
