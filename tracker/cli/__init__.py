"""The ``tracker`` command line: parse, call the library, render.

Only ``tracker.cli`` imports typer or rich, prints or exits. Every
``TrackerError`` raised anywhere below is turned here, in one place, into
``error: <message>`` on stderr and the error's exit code.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from tracker.errors import InvalidInput, TrackerError


class TrackerGroup(TyperGroup):
    """Root group that translates domain errors into one-line messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tracker.cli._root import plain_help

        plain_help(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
            n = len(exc.problems)
            sys.stderr.write(f"error: {n} problem{'s' if n != 1 else ''} found\n")
            raise typer.Exit(exc.exit_code) from None
        except TrackerError as exc:
            sys.stderr.write(f"error: {exc}\n")
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            # A full disk can surface anywhere a file is written: one line, exit 75 (retry).
            from tracker.storage import disk_full, is_disk_failure

            if not is_disk_failure(exc):
                raise
            where = getattr(exc, "filename", None) or "a file"
            err = disk_full(where, exc)
            sys.stderr.write(f"error: {err}\n")
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=TrackerGroup,
    help="Track and backtest broker stock recommendations on the Hong Kong exchange.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

from tracker.cli._root import root as _root  # noqa: E402

app.callback()(_root)

# Command groups, one module each (imports stay light: typer, pydantic, stdlib).
from tracker.cli import prices as _prices  # noqa: E402
from tracker.cli import recs as _recs  # noqa: E402
from tracker.cli import registry as _registry  # noqa: E402

app.add_typer(_prices.app, name="prices")
app.add_typer(_recs.app, name="recs")
app.add_typer(_registry.app, name="registry")

from tracker.cli.score import score_cmd as _score_cmd  # noqa: E402

app.command("score")(_score_cmd)

from tracker.cli.scorecard import scorecard_cmd as _scorecard_cmd  # noqa: E402

app.command("scorecard")(_scorecard_cmd)

from tracker.cli import backtest as _backtest  # noqa: E402

app.add_typer(_backtest.app, name="backtest")


def main() -> None:
    """The ``tracker`` console script: the command, then a quick exit."""
    try:
        app()
    finally:
        _before_exit()


def _before_exit() -> None:
    """Spare the interpreter's last garbage collection its walk over every object.

    At exit Python collects garbage over all objects of the process: with vectorbt
    imported (hence numba, scipy and pandas) that walk takes about 0.4 s, as long
    as a whole backtest run. Nothing a command leaves needs it: its files, run
    folders, price store and outbox are written and closed (every write is atomic
    and survives even a kill), so every object is moved to the permanent
    generation (``gc.freeze``) and the process ends at once; objects are still
    released by reference counting and, with the process, by the system.
    """
    import gc

    gc.freeze()
