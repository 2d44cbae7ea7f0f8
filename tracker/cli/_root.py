"""The root command's own options (``--version``, ``-q``, ``-v``, ``--no-color``) and help
that reads as prose: placeholders such as DATE or FILE instead of type tags like ``<str>``.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Annotated, Any

import typer

from tracker.cli.output import OPTIONS

#: The distributions ``tracker --version`` names after tracker itself.
VERSIONED = ("vectorbt", "pandas", "yfinance")


def version_text() -> str:
    """``tracker 0.1.0 (vectorbt 0.28.1, pandas 2.3.3, yfinance 0.2.66)``.

    Read from the installed distributions' metadata, so nothing heavy is imported.
    """

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    others = ", ".join(f"{name} {version(name)}" for name in VERSIONED)
    return f"tracker {version('tracker')} ({others})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the versions of tracker, vectorbt, pandas and yfinance, and exit.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "-q", "--quiet", help="Only data, warnings and errors: no notes, no progress (cron)."
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("-v", "--verbose", help="Also print the detail behind each summary line."),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (as when NO_COLOR is set).")
    ] = False,
) -> None:
    """Track and backtest broker stock recommendations on the Hong Kong exchange.

    Rows go to stdout: a table on a terminal, tab-separated lines in a pipe (choose with
    --format). Notes, progress and problems go to stderr.

    Example: tracker recs list --broker 华安证券 | grep 0700.HK
    """
    # Set every field on every run: tests invoke the app many times in one process.
    OPTIONS.quiet, OPTIONS.verbose, OPTIONS.no_color = quiet, verbose and not quiet, no_color


_DATE_HELP = re.compile(r"YYYY-MM-DD|\bdate\b", re.IGNORECASE)


def _placeholder(param: Any) -> str:
    """What a value looks like, in words: DATE, N, FILE, one|two; empty for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    desc = getattr(param, "type_descriptor", None)
    name = (param.name or "value").upper()
    if desc is not None and desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    if _DATE_HELP.search(getattr(param, "help", None) or ""):
        return "DATE"
    if desc is not None and desc.is_path:
        return "DIR" if desc.path_type == "directory" else "FILE"
    annotation = getattr(desc, "annotation", None)
    if annotation in (int, float):
        return "N"
    return name


def _plain_param(param: Any) -> None:
    placeholder = _placeholder(param)
    many = "..." if param.nargs != 1 and placeholder else ""
    if param.param_type_name == "argument":
        # An argument's name is its placeholder (the usage line adds "..." itself);
        # typer would add a "<list[str]>" column.
        param.metavar = param.name.upper()
        param.display_type_rich = lambda ctx: None
    else:
        param.metavar = f"{placeholder}{many}"


def plain_help(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands a placeholder for help."""
    for param in getattr(command, "params", ()):
        _plain_param(param)
    make_help_option = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        # --help is made per context, not kept in params.
        option = make_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
