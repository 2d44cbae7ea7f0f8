"""Is a command's answer to bad input clean? One checker for CliRunner results and processes.

A clean answer is exit 0 with the command's one ``ok:`` line, or exit 1/2 with
stderr made only of ``file[:line]: [field:] message`` lines closed by
``error: N problem(s) found`` (N matching the lines, so no message spans two
lines), or a single ``error: message`` line. Anything else (a traceback, an
exception escaping the command, another exit code, data on stdout, a message
split over lines) is a crash.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from reliability.ledger import CLEAN_ERROR, CRASH, VALID


@contextmanager
def user_visible_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings a user would see on stderr, as Python's default filters show them.

    Under pytest, warnings are captured and never reach a command's stderr; in a
    real process they print several lines (and a library path) to stderr.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for hidden in (
            DeprecationWarning,
            PendingDeprecationWarning,
            ImportWarning,
            ResourceWarning,
        ):
            warnings.simplefilter("ignore", hidden)
        yield caught


_PROBLEM = re.compile(r"^(?P<file>[^:]+)(?::(?P<line>\d+))?: (?P<msg>\S.*)$")
_COUNT = re.compile(r"^error: (\d+) problems? found$")


def classify(
    exit_code: int | None,
    stdout: str,
    stderr: str,
    files: Sequence[str],
    ok_prefix: str = "ok: ",
    exception: BaseException | None = None,
) -> tuple[str, str]:
    """``(outcome, detail)`` for one run of a validating command.

    Parameters
    ----------
    files
        Paths (as given on the command line) that problem lines may name.
    ok_prefix
        How the command's single success line starts.
    exception
        ``Result.exception`` of a CliRunner run (``SystemExit`` is normal).
    """
    if exception is not None and not isinstance(exception, SystemExit):
        return CRASH, f"{type(exception).__name__}: {exception}"
    if "Traceback (most recent call last)" in stdout + stderr:
        return CRASH, "traceback: " + stderr[-300:]
    if stdout.strip():
        return CRASH, f"unexpected stdout: {stdout[:200]!r}"
    lines = stderr.splitlines()
    if exit_code == 0:
        if len(lines) == 1 and lines[0].startswith(ok_prefix):
            return VALID, lines[0]
        return CRASH, f"exit 0 with stderr {stderr[:200]!r}"
    if exit_code not in (1, 2):
        return CRASH, f"exit code {exit_code}: {stderr[-200:]!r}"
    if not lines:
        return CRASH, f"exit {exit_code} without a message"
    count = _COUNT.match(lines[-1])
    if count is None:
        if len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 7:
            return CLEAN_ERROR, lines[0]
        return CRASH, f"not one error line: {stderr[:300]!r}"
    problems = lines[:-1]
    if int(count.group(1)) != len(problems):
        return CRASH, f"{count.group(1)} problem(s) on {len(problems)} line(s): {stderr[:300]!r}"
    for line in problems:
        m = _PROBLEM.match(line)
        if m is None or m.group("file") not in files:
            return CRASH, f"malformed problem line {line[:200]!r}"
    return CLEAN_ERROR, problems[0][:200]
