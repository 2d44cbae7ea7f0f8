"""``tracker registry``: resolve company names, show a security, import HKEX's list."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli._options import load_settings
from tracker.cli.output import OutputFormat

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tracker.registry.hkex import ImportSummary
    from tracker.registry.resolve import Security

app = typer.Typer(
    help="The HKEX ticker registry: resolve company names to tickers, import HKEX's list.",
    no_args_is_help=True,
)

NamesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--names",
        help="CSV of Chinese names (code,name_zh_hant,name_zh_hans); repeat for several files.",
        exists=True,
        dir_okay=False,
    ),
]


@app.command()
def resolve(
    names: Annotated[list[str], typer.Argument(help="Company names, aliases or codes.")],
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format", help="table (default on a terminal), tsv (default in a pipe), csv or json."
        ),
    ] = None,
) -> None:
    """Print the ticker and names of each company: query, ticker, Chinese name, English name.

    Example: tracker registry resolve 腾讯控股 "美团-W" 9988 "0700 HK"
    """
    from tracker.cli.output import Col, emit_rows
    from tracker.registry.lookup import lookup_failure, resolve_names
    from tracker.registry.resolve import Registry

    lookups = resolve_names(Registry.load(load_settings().home), names)
    rows: list[dict[str, str]] = []
    for lk in lookups:
        if lk.error is not None:
            if len(names) > 1:
                sys.stderr.write(f"error: {lk.error}\n")
            continue
        sec = lk.security
        rows.append(
            {
                "query": lk.name,
                "ticker": sec.ticker,
                "name_zh": sec.name_zh_hans or sec.name_zh_hant or "",
                "name_en": sec.name_en or "",
            }
        )
    columns = [
        Col("query", kind="text", priority=2),
        Col("ticker"),
        Col("name_zh", kind="text", priority=1),
        Col("name_en", kind="text", priority=3),
    ]
    if rows:
        emit_rows(rows, columns, fmt)
    failure = lookup_failure(lookups)
    if failure is not None:
        raise failure


def _show_lines(sec: Security) -> list[str]:
    fields = [
        ("ticker", sec.ticker),
        ("code", f"{sec.code:05d}"),
        ("name_en", sec.name_en or "-"),
        ("name_zh_hans", sec.name_zh_hans or "-"),
        ("name_zh_hant", sec.name_zh_hant or "-"),
        ("aliases", " | ".join(sec.aliases) or "-"),
        ("suffix", sec.suffix or "-"),
        ("board_lot", "-" if sec.board_lot is None else str(sec.board_lot)),
        ("category", sec.category),
        ("stamp_duty", "yes" if sec.stamp_duty else "no"),
    ]
    from tracker.cli.output import visible

    return [f"{key:<13}{visible(value)}" for key, value in fields]


@app.command()
def show(
    ticker: Annotated[str, typer.Argument(help="Ticker, code or company name.")],
) -> None:
    """Show what the registry knows about one security.

    Example: tracker registry show 0700.HK
    """
    from tracker.registry.resolve import Registry

    registry = Registry.load(load_settings().home)
    sec = registry.get(registry.resolve(ticker))
    sys.stdout.write("\n".join(_show_lines(sec)) + "\n")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A rich progress bar on stderr when it is a terminal; no callback otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    from tracker.cli._render import stderr

    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def summary_lines(summary: ImportSummary) -> list[str]:
    """The import summary, one fact per line."""
    when = f" (updated as at {summary.as_of:%d/%m/%Y})" if summary.as_of else ""
    kept = summary.kept
    lines = [
        f"read {_count(summary.rows_read, 'row')} from {summary.source}{when}",
        f"kept {sum(kept.values()):,}: {_count(kept.get('Equity', 0), 'equity', 'equities')},"
        f" {_count(kept.get('ETF', 0), 'ETF')}, {_count(kept.get('REIT', 0), 'REIT')}",
    ]
    if summary.skipped:
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in summary.skipped.items())
        lines.append(
            f"skipped {_count(sum(summary.skipped.values()), 'row')} that are not equities,"
            f" ETFs or REITs: {reasons}"
        )
    if summary.names_sources:
        lines.append(
            f"Chinese names: {_count(summary.names_read, 'row')} read,"
            f" {summary.names_merged:,} merged, {_count(summary.names_only, 'code')} added that"
            " are not in the list (no English name or board lot)"
        )
    lines.append(
        f"{_count(summary.without_chinese, 'security', 'securities')} without a Chinese name"
    )
    lines.append(f"wrote {_count(summary.written, 'security', 'securities')} to {summary.store}")
    return lines


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="HKEX's List of Securities (.xlsx),"
            " or a CSV with code,name_en,board_lot,category.",
            exists=True,
            dir_okay=False,
        ),
    ],
    names: NamesOption = None,
) -> None:
    """Import HKEX's List of Securities (and Chinese names) into the local registry.

    Example: tracker registry import ListOfSecurities.xlsx --names names_zh.csv
    """
    from tracker.registry.hkex import import_hkex

    with _progress("reading") as progress:
        summary = import_hkex(file, names, load_settings().home, progress)
    sys.stderr.write("\n".join(summary_lines(summary)) + "\n")


@app.command()
def update(
    url: Annotated[
        str | None,
        typer.Option(help="Address of the list (default: HKEX's ListOfSecurities.xlsx)."),
    ] = None,
    names: NamesOption = None,
) -> None:
    """Download HKEX's published List of Securities and import it.

    Example: tracker registry update --names names_zh.csv
    """
    from tracker.registry.hkex import HKEX_LIST_URL, update_registry

    with _progress("reading") as progress:
        summary = update_registry(load_settings().home, url or HKEX_LIST_URL, names, progress)
    sys.stderr.write("\n".join(summary_lines(summary)) + "\n")
