"""Run folders: ``backtests/runs/<spec>/<timestamp>/`` written atomically, listed, compared.

A run is written into a hidden temporary folder next to its final place and
renamed when every file is complete, so a folder without the leading dot is
always a whole run; :func:`list_runs` also requires its ``manifest.json``.

Files of a run:

``stats.json``
    :func:`tracker.backtest.stats.run_stats`.
``trades.csv``
    One row per selected call (:data:`tracker.backtest.trades.TRADE_COLUMNS`).
``equity.csv``
    ``session,portfolio,cash,benchmark`` in HKD.
``report.html``
    Self-contained report (:mod:`tracker.backtest.report`).
``manifest.json``
    What the run was made from: spec (content and hash), calls, price
    fingerprint, package version, as-of date, simulated flag.

When the prices are the simulated sample, the first line of every file says so
(a ``WARNING`` key for JSON, a ``#`` comment for CSV, an HTML comment).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tracker.backtest.spec import SPEC_NAME
from tracker.errors import TrackerError
from tracker.render.formats import json_dumps
from tracker.render.formats import jsonable as render_jsonable

RUN_FILES = ("stats.json", "trades.csv", "equity.csv", "report.html", "manifest.json")
#: Files of a sweep folder (:mod:`tracker.backtest.sweep_run`).
SWEEP_FILES = ("sweep.json", "variants.csv", "report.html", "manifest.json")
_RUN_NAME = re.compile(r"^\d{8}-\d{6}(?:-\d+)?$")


class RunNotFound(TrackerError):
    """A run folder that does not exist or is incomplete."""


def jsonable(value: Any) -> Any:
    """Plain JSON values of a run's files (:func:`tracker.render.formats.jsonable`).

    Moments keep their time of day unless they are a session date (midnight).
    """
    return render_jsonable(value, keep_time=True)


def json_text(obj: Mapping[str, Any], banner: str | None = None) -> str:
    """Indented JSON; with a banner, the first line is ``{"WARNING": "<banner>",``."""
    body = json_dumps(jsonable(obj))
    if banner:
        rest = body[1:].lstrip("\n")
        sep = ",\n" if rest.strip() != "}" else "\n"
        body = "{" + json.dumps("WARNING") + ": " + json_dumps(banner, indent=None) + sep + rest
    return body + "\n"


def csv_text(frame: pd.DataFrame, banner: str | None = None, index: bool = False) -> str:
    """CSV with ISO dates; with a banner, the first line is ``# <banner>``."""
    out = io.StringIO()
    if banner:
        out.write(f"# {banner}\n")
    frame.to_csv(out, index=index, date_format="%Y-%m-%d", lineterminator="\n")
    return out.getvalue()


def read_csv(path: Path) -> pd.DataFrame:
    """Read a run's CSV file, skipping its banner line if it has one.

    (Not ``comment="#"``: call ids such as ``2025-05-06-huaan#1`` contain a ``#``.)
    """
    with open(path, encoding="utf-8") as fh:
        banner = fh.readline().startswith("# ")
    return pd.read_csv(path, skiprows=1 if banner else 0)


def check_spec_name(name: str) -> str:
    """Refuse a spec name that could leave the runs folder."""
    if not SPEC_NAME.match(name):
        raise TrackerError(f"{name!r} is not a spec name (letters, digits, '-' and '_')")
    return name


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def write_run(
    runs_dir: Path, spec_name: str, files: Mapping[str, str | bytes], now: datetime
) -> Path:
    """Write a complete run folder atomically and return its path.

    Parameters
    ----------
    runs_dir
        The runs root (``backtests/runs``).
    spec_name
        Folder under ``runs_dir``; must be a valid spec name.
    files
        File name -> content (text is written as UTF-8).
    now
        The run's time stamp (names the folder ``YYYYMMDD-HHMMSS``).
    """
    check_spec_name(spec_name)
    spec_dir = runs_dir / spec_name
    if not _inside(spec_dir, runs_dir):
        raise TrackerError(f"run folder for {spec_name!r} would leave {runs_dir}")
    from tracker.storage import output_dir, output_error

    output_dir(spec_dir, "runs folder")
    stamp = now.strftime("%Y%m%d-%H%M%S")
    tmp = spec_dir / f".incomplete-{stamp}-{os.getpid()}"
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        for name, content in files.items():
            if "/" in name or name.startswith("."):
                raise TrackerError(f"bad run file name {name!r}")
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for n in range(1, 1000):
            final = spec_dir / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                os.rename(tmp, final)  # atomic; fails if `final` exists and is not empty
                return final
            except OSError:
                if not final.exists():
                    raise
        raise TrackerError(f"too many runs of {spec_name} at {stamp}")
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise output_error(spec_dir, exc, "no run folder was left behind") from None
        raise


def is_complete(run_dir: Path) -> bool:
    """A run folder named like a run (no leading dot) holding every run file.

    Whether the files' content is whole is :func:`tracker.backtest.runcheck.run_problems`'s
    question: a damaged run is named as such, not mistaken for a missing one.
    """
    if run_dir.name.startswith(".") or not _RUN_NAME.match(run_dir.name):
        return False
    return any(all((run_dir / f).is_file() for f in files) for files in (RUN_FILES, SWEEP_FILES))


@dataclass(frozen=True)
class RunInfo:
    path: Path
    spec: str
    run: str
    manifest: dict
    stats: dict  # a sweep's: {"variants": [...]}

    @property
    def kind(self) -> str:
        """``"run"`` or ``"sweep"``."""
        return str(self.manifest.get("kind", "run"))


def load_run(run_dir: Path) -> RunInfo:
    """Manifest and stats of a complete run.

    Raises
    ------
    RunNotFound
        Missing or incomplete.
    RunDamaged
        A file holds what no run writes (see :mod:`tracker.backtest.runcheck`).
    """
    from tracker.backtest.runcheck import check_run

    if not run_dir.is_dir():
        raise RunNotFound(f"no run folder {run_dir}")
    if not is_complete(run_dir):
        raise RunNotFound(f"{run_dir} is not a complete run (missing files or an unfinished write)")
    check_run(run_dir, COMPARED_STATS)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    name = "sweep.json" if manifest.get("kind") == "sweep" else "stats.json"
    stats = json.loads((run_dir / name).read_text(encoding="utf-8"))
    return RunInfo(run_dir, run_dir.parent.name, run_dir.name, manifest, stats)


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every complete, undamaged run under ``runs_dir``, oldest first within each spec."""
    from tracker.backtest.runcheck import run_problems

    out: list[RunInfo] = []
    if not runs_dir.is_dir():
        return out
    for spec_dir in sorted(
        p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        for run_dir in sorted(spec_dir.iterdir()):
            if (
                run_dir.is_dir()
                and is_complete(run_dir)
                and not run_problems(run_dir, COMPARED_STATS)
            ):
                out.append(load_run(run_dir))
    return out


def resolve_run(ref: str, runs_dir: Path) -> Path:
    """A run folder from a path, ``<spec>/<run>``, or ``<spec>`` (its latest complete run)."""
    for cand in (Path(ref), runs_dir / ref):
        if not cand.is_dir():
            continue
        if is_complete(cand):
            return cand
        runs = sorted(p for p in cand.iterdir() if p.is_dir() and is_complete(p))
        if runs:
            return runs[-1]
    raise RunNotFound(
        f"no complete run {ref!r}: give a run folder, <spec>/<run> or <spec> under {runs_dir}"
        " (see `tracker backtest list`)"
    )


#: Stats shown by `backtest compare`, in order (fractions unless the name says otherwise).
COMPARED_STATS = (
    "final_equity_hkd",
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "beta",
    "alpha",
    "tracking_error",
    "information_ratio",
    "excess_return",
    "trades",
    "calls_skipped",
    "win_rate",
    "turnover",
    "costs_paid_hkd",
)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def differing_inputs(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{input, a, b}`` for every manifest field (spec fields flattened) that differs."""
    ma = _flatten({k: v for k, v in a.items() if k not in ("created_utc", "WARNING")})
    mb = _flatten({k: v for k, v in b.items() if k not in ("created_utc", "WARNING")})
    return [
        {"input": k, "a": ma.get(k), "b": mb.get(k)}
        for k in sorted(set(ma) | set(mb))
        if ma.get(k) != mb.get(k)
    ]


def compare_runs(a: RunInfo, b: RunInfo) -> dict[str, Any]:
    """Differences between two runs: their stats, and the inputs that explain them.

    Returns
    -------
    dict
        ``stats``: rows ``{stat, a, b, change}``; ``inputs``: rows
        ``{input, a, b}`` for every manifest field (spec fields flattened) that
        differs; ``calls``: call ids traded in only one of the runs. Two sweeps:
        see :func:`tracker.backtest.sweep.compare_sweeps`.
    """
    if a.kind == "sweep" or b.kind == "sweep":
        from tracker.backtest.sweep import compare_sweeps

        return compare_sweeps(a, b)
    rows = []
    for key in COMPARED_STATS:
        va, vb = a.stats.get(key), b.stats.get(key)
        change = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append({"stat": key, "a": va, "b": vb, "change": change})
    inputs = differing_inputs(a.manifest, b.manifest)
    ta = read_csv(a.path / "trades.csv")
    tb = read_csv(b.path / "trades.csv")
    traded_a = set(ta.loc[ta["status"] != "skipped", "call_id"])
    traded_b = set(tb.loc[tb["status"] != "skipped", "call_id"])
    return {
        "stats": rows,
        "inputs": inputs,
        "calls": {"only_a": sorted(traded_a - traded_b), "only_b": sorted(traded_b - traded_a)},
    }
