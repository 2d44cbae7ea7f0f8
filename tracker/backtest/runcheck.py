"""Is a run folder's content whole? The checks behind :func:`tracker.backtest.runs.load_run`.

A run folder is written atomically, but a file can still be damaged later
(edited by hand, a copy cut short, a disk error). ``backtest list`` and
``backtest compare`` must then say which file is wrong instead of failing
with a traceback or comparing half a run. Every file is checked for what its
readers rely on: JSON objects where objects are read, numbers (or null)
where statistics are read, CSV files complete (ending with a line break, as
tracker writes them) with the columns that are read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tracker.errors import TrackerError

#: Columns each CSV file of a run must have (what compare and the report read).
CSV_COLUMNS = {
    "trades.csv": ("call_id", "status"),
    "equity.csv": ("portfolio",),
}
#: Columns a sweep's variants.csv must have.
SWEEP_CSV_COLUMNS = ("final_equity_hkd", "total_return")


class RunDamaged(TrackerError):
    """A run folder whose files are incomplete or hold values of the wrong kind."""


def _number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )


def _json_object(path: Path) -> tuple[dict | None, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path.name}: unreadable ({exc})"
    if not text.strip():
        return None, f"{path.name}: empty"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"{path.name}: not JSON ({exc})"
    if not isinstance(data, dict) or not data:
        kind = type(data).__name__ if not isinstance(data, dict) else "empty object"
        return None, f"{path.name}: expected a JSON object of fields, found a {kind}"
    return data, None


def _csv_problem(path: Path, columns: tuple[str, ...]) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path.name}: unreadable ({exc})"
    if not text.endswith("\n"):
        return f"{path.name}: cut short (the last line is incomplete)"
    lines = [line for line in text.splitlines() if line]
    if lines and lines[0].startswith("# "):
        lines = lines[1:]  # the simulated-data banner
    if not lines:
        return f"{path.name}: empty"
    header = lines[0].split(",")
    missing = [c for c in columns if c not in header]
    if missing:
        return f"{path.name}: missing column(s) {', '.join(missing)}"
    width = len(header)
    for n, line in enumerate(lines[1:], start=2):
        # Quoted fields may hold commas: count them only outside quotes.
        fields, quoted = 1, False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif ch == "," and not quoted:
                fields += 1
        if quoted or fields != width:
            return f"{path.name}: row {n} has {fields} fields, the header {width}"
    return None


def run_problems(run_dir: Path, stat_names: tuple[str, ...]) -> list[str]:
    """What is wrong with the files of ``run_dir`` (empty when the run is whole).

    Parameters
    ----------
    run_dir
        A run folder with every file of a run present.
    stat_names
        Statistics that must be numbers or null in ``stats.json``.
    """
    problems: list[str] = []
    manifest, problem = _json_object(run_dir / "manifest.json")
    problems += [problem] if problem else []
    if manifest is not None and manifest.get("kind") == "sweep":
        return problems + _sweep_problems(run_dir)
    stats, problem = _json_object(run_dir / "stats.json")
    problems += [problem] if problem else []
    if stats is not None:
        for name in stat_names:
            if name in stats and not _number(stats[name]):
                problems.append(f"stats.json: {name} is {stats[name]!r}, not a number")
        bench = stats.get("benchmark", {})
        if not isinstance(bench, dict):
            problems.append(f"stats.json: benchmark is {bench!r}, not an object of figures")
        elif not _number(bench.get("total_return")):
            # The one benchmark figure read outside the report (``backtest list``).
            value = bench["total_return"]
            problems.append(f"stats.json: benchmark.total_return is {value!r}, not a number")
    for name, columns in CSV_COLUMNS.items():
        problem = _csv_problem(run_dir / name, columns)
        problems += [problem] if problem else []
    return problems


def _sweep_problems(run_dir: Path) -> list[str]:
    """What is wrong with a sweep folder's own files (its figures and its variants)."""
    _, problem = _json_object(run_dir / "sweep.json")
    problems = [problem] if problem else []
    problem = _csv_problem(run_dir / "variants.csv", SWEEP_CSV_COLUMNS)
    return problems + ([problem] if problem else [])


def check_run(run_dir: Path, stat_names: tuple[str, ...]) -> None:
    """Raise :class:`RunDamaged` naming every damaged file of ``run_dir``."""
    problems = run_problems(run_dir, stat_names)
    if problems:
        raise RunDamaged(
            f"{run_dir} is damaged: {'; '.join(problems)}; run its spec again"
            " (or delete the folder)"
        )
