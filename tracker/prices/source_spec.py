"""Choosing a price source by its command-line spelling: ``--source yahoo|csv:DIR|simulated``."""

from __future__ import annotations

from pathlib import Path

from tracker.constants import EXIT_USAGE
from tracker.errors import TrackerError
from tracker.prices.source import PriceSource

#: How sources are named on the command line.
SOURCE_SPECS = "yahoo, csv:DIR (a folder of <SYMBOL>.csv files) or simulated"


class UnknownSource(TrackerError):
    """A ``--source`` value that names no source, or a CSV folder that does not exist."""

    exit_code = EXIT_USAGE


def source_from_spec(spec: str, home: Path) -> PriceSource:
    """The source named by ``spec``: ``yahoo``, ``csv:DIR`` or ``simulated``.

    Parameters
    ----------
    spec
        The ``--source`` value.
    home
        The tracker home; yfinance keeps its cookie cache under it.

    Raises
    ------
    UnknownSource
        For any other spelling, or a ``csv:`` folder that does not exist.
    """
    if spec == "yahoo":
        import logging

        from tracker.prices.yahoo import YahooSource

        # Failures are reported per symbol in the summary; yfinance's own log
        # lines on stderr would only repeat them.
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)
        return YahooSource(cache_dir=home / "cache" / "yfinance")
    if spec == "simulated":
        from tracker.prices.simulated import SimulatedSource

        return SimulatedSource()
    if spec.startswith("csv:") and len(spec) > 4:
        from tracker.prices.csvsource import CsvFolderSource

        folder = Path(spec[4:]).expanduser()
        if not folder.is_dir():
            raise UnknownSource(f"--source {spec}: {folder} is not a folder")
        return CsvFolderSource(folder)
    raise UnknownSource(f"--source {spec!r}: use {SOURCE_SPECS}")
