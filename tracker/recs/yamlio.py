"""Safe YAML reading with line numbers, and comment-preserving writing.

Files are read twice: once by ruamel's *safe* loader, which refuses tags such
as ``!!python/object`` and duplicate keys, and once by the round-trip loader,
whose nodes remember their line numbers so that a validation error can be
reported as ``file:line: field: message``. Both loaders are pure Python.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from tracker.constants import MAX_INPUT_BYTES
from tracker.errors import InputFileError, InvalidInput, Problem

T = TypeVar("T")

#: A structure nested deeper than this is refused (no legitimate file comes close).
MAX_DEPTH = 32
#: Nodes a document may expand to, aliases counted at each use ("billion laughs").
MAX_NODES = 100_000


def read_text(path: Path) -> str:
    """The file's text, refusing unreadable, oversized and non-UTF-8 files."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputFileError(
            path, f"file is {len(raw):,} bytes; the limit is {MAX_INPUT_BYTES:,}: split it"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path, f"not UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", line=line
        ) from None


def _yaml(typ: str):
    from ruamel.yaml import YAML

    yaml = YAML(typ=typ, pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def _check_size(node: Any, path: Path) -> None:
    """Refuse documents that nest too deep or expand (through aliases) too far."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    memo: dict[int, int] = {}

    def expanded(n: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise InputFileError(
                path, f"nested deeper than {MAX_DEPTH} levels", line=n.start_mark.line + 1
            )
        key = id(n)
        if key in memo:
            return memo[key]
        total = 1
        if isinstance(n, MappingNode):
            for k, v in n.value:
                total += expanded(k, depth + 1) + expanded(v, depth + 1)
                if total > MAX_NODES:
                    break
        elif isinstance(n, SequenceNode):
            for v in n.value:
                total += expanded(v, depth + 1)
                if total > MAX_NODES:
                    break
        if total > MAX_NODES:
            raise InputFileError(
                path,
                f"document expands to more than {MAX_NODES:,} values (aliases counted at each use)",
                line=n.start_mark.line + 1,
            )
        memo[key] = total
        return total

    if node is not None:
        expanded(node, 0)


#: Tags the safe loader constructs: YAML's standard types. Anything else
#: (``!!python/object/apply:...``, local ``!tags``) is refused before construction.
SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "map",
        "seq",
        "timestamp",
        "merge",
        "omap",
        "pairs",
        "set",
        "binary",
    )
)


def _check_tags(node: Any, path: Path) -> None:
    """Refuse any node whose tag would need a constructor beyond the standard types."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        tag = str(getattr(n.tag, "value", n.tag))
        if tag not in SAFE_TAGS:
            raise InputFileError(
                path, f"YAML: tag not allowed: {tag!r}", line=n.start_mark.line + 1
            )
        if isinstance(n, MappingNode):
            stack += [part for pair in n.value for part in pair]
        elif isinstance(n, SequenceNode):
            stack += n.value


def load_yaml(path: Path, text: str | None = None) -> Any:
    """Parse a YAML file safely; return round-trip data that keeps line numbers.

    Raises
    ------
    InputFileError
        Unreadable file, not UTF-8, too large, malformed YAML, a duplicate key,
        a tag that would construct an object, too deep or too large once expanded.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLFutureWarning, YAMLWarning

    if text is None:
        text = read_text(path)
    try:
        # One pass: compose the node graph, refuse what the safe loader would
        # refuse (tags beyond YAML's standard types), then construct round-trip
        # data, which keeps line numbers and comments.
        loader = _yaml("rt")
        with warnings.catch_warnings():
            # ruamel warns about legal YAML (a reused anchor: the later one counts);
            # a warning would print several lines and a library path to stderr.
            warnings.simplefilter("ignore", YAMLWarning)
            warnings.simplefilter("ignore", YAMLFutureWarning)
            node = loader.compose(io.StringIO(text))
            _check_size(node, path)
            _check_tags(node, path)
            return None if node is None else loader.constructor.construct_document(node)
    except InputFileError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        # ruamel quotes values raw: a line break in one (U+2028 too) must not split the line.
        problem = _printable((exc.problem or exc.context or "malformed YAML").strip())
        if "could not determine a constructor" in problem:
            problem = problem.replace(
                "could not determine a constructor for the tag", "tag not allowed:"
            )
        raise InputFileError(path, f"YAML: {problem}", line=line) from None
    except YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed YAML"
        raise InputFileError(path, f"YAML: {first}") from None
    except (ValueError, KeyError, OverflowError) as exc:
        # A scalar the safe constructor cannot build: 2025-02-30, `!!int abc`,
        # `!!bool maybe`, an integer of more than 4300 digits.
        raise _unbuildable(text, path, exc) from None
    except RecursionError:
        raise InputFileError(path, f"nested deeper than {MAX_DEPTH} levels") from None


#: Bumped when the memo's form of parsed YAML changes.
_MEMO_FORMAT = "yaml-plain/1"


class _NotPlain(Exception):
    """A value the memo does not keep (a set, a time stamp, a non-text key...)."""


def plain(data: Any) -> Any:
    """Round-trip YAML ``data`` as plain values (dict, list, str, int, float, bool, None,
    date), equal to it; :class:`_NotPlain` for anything else."""
    from datetime import date

    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if data is None or type(data) in (bool, str, int, float):
        return data
    if isinstance(data, int | float | str):
        return _scalar(data)
    if type(data) is date:
        return data
    if type(data) in (dict, CommentedMap):
        if not all(isinstance(k, str) for k in data):
            raise _NotPlain("a key that is not text")
        if any(k.startswith("\x00") for k in data):
            raise _NotPlain("a key the memo uses itself")
        return {str(k): plain(v) for k, v in data.items()}
    if type(data) in (list, CommentedSeq):
        return [plain(v) for v in data]
    raise _NotPlain(type(data).__name__)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarInt, ScalarFloat, ScalarBoolean...) as the base type."""
    from ruamel.yaml.scalarbool import ScalarBoolean

    if isinstance(value, bool | ScalarBoolean):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


@lru_cache(maxsize=1)
def _parser_version() -> str:
    from importlib.metadata import version

    return f"{_MEMO_FORMAT} ruamel.yaml {version('ruamel.yaml')}"


def _memo_key(text: str) -> str:
    from tracker import memo

    return memo.digest(_parser_version(), text)


def remembered(text: str) -> dict | None:
    """The plain data of ``text`` as :func:`remember` kept it, or ``None``.

    Only text that :func:`load_yaml` accepted is kept, so a hit has passed its
    checks (tags, duplicate keys, size); line numbers are not kept: a caller whose
    validation fails parses the text again to report lines.
    """
    from tracker import memo

    if memo.folder() is None:
        return None
    kept = memo.get_json("yaml", _memo_key(text))
    return kept if isinstance(kept, dict) else None


def remember(text: str, data: Any) -> None:
    """Keep the plain form of ``data``, what :func:`load_yaml` made of ``text`` (a mapping
    of plain values only; anything else is simply not kept)."""
    from tracker import memo

    if memo.folder() is None or not isinstance(data, dict):
        return
    try:
        value = plain(data)
    except (_NotPlain, RecursionError):
        return
    memo.put_json("yaml", _memo_key(text), value)


def load_validated(path: Path, validate: Callable[[dict], T]) -> T:
    """``validate`` (a pydantic ``model_validate``) of the mapping the YAML file ``path``
    holds, its parse taken from the memo when an earlier process kept it.

    Raises
    ------
    InvalidInput
        Every problem of the file as ``file:line: field: message`` (a memo hit that fails
        validation is parsed again, for the lines).
    """
    text = read_text(path)
    kept = remembered(text)
    if kept is not None:
        try:
            return validate(kept)
        except ValidationError:
            pass
    data = load_yaml(path, text)
    if not isinstance(data, dict):
        raise InvalidInput(
            [Problem(str(path), 1, "", "expected a mapping of fields at the top level")]
        )
    try:
        result = validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, path, data)) from None
    remember(text, data)
    return result


def _printable(text: str) -> str:
    """``text`` with each non-printable character (line breaks, controls) as its escape."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _unbuildable(text: str, path: Path, exc: Exception) -> InputFileError:
    """The problem for the first scalar of ``text`` that the safe loader cannot construct."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    # A KeyError (`!!bool maybe`) only names the value; a ValueError says what is wrong.
    reason = "not a value of its type" if isinstance(exc, KeyError) else str(exc).split(";")[0]
    stack = [_yaml("safe").compose(io.StringIO(text))]
    constructor = _yaml("safe").constructor
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            stack += [n for pair in reversed(node.value) for n in reversed(pair)]
        elif isinstance(node, SequenceNode):
            stack += list(reversed(node.value))
        elif isinstance(node, ScalarNode):
            try:
                constructor.construct_object(node, deep=True)
            except (ValueError, KeyError, OverflowError):
                value = node.value if len(node.value) <= 40 else node.value[:40] + "..."
                return InputFileError(
                    path, f"YAML: cannot read {value!r}: {reason}", line=node.start_mark.line + 1
                )
    return InputFileError(path, f"YAML: cannot read a value: {reason}")


def line_of(data: Any, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in ``data``."""
    line = None
    node = data
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                if isinstance(key, int) and isinstance(node, list):
                    line = lc.item(key)[0] + 1
                elif isinstance(node, dict) and key in node:
                    line = lc.key(key)[0] + 1
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    if line is None and getattr(data, "lc", None) is not None:
        line = data.lc.line + 1
    return line


def problems_from(exc: ValidationError, path: Path, data: Any) -> list[Problem]:
    """Map each pydantic error to ``file:line: field: message``."""
    import re

    problems = []
    for err in exc.errors(include_url=False):
        loc: list[str | int] = [p for p in err["loc"] if not str(p).startswith("function-")]
        msg = err["msg"]
        msg = re.sub(r"^(Value error|Assertion failed), ", "", msg)
        # A cross-field rule names the field it blames at the start of its message.
        m = re.match(r"^([A-Za-z_]\w*(?:\.\w+)*): (.*)$", msg, re.S)
        if m and not loc:
            loc = [int(p) if p.isdigit() else p for p in m.group(1).split(".")]
            msg = m.group(2)
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}: check the spelling"
        elif err["type"] == "missing":
            msg = "required field is missing"
        # A key holding a line break or control character must not split the line.
        field = ".".join(str(p) if str(p).isprintable() else repr(str(p)) for p in loc)
        problems.append(Problem(str(path), line_of(data, loc), field, msg))
    return sorted(problems, key=lambda p: p.line or 0)


def dump_yaml(data: Any) -> str:
    """Round-trip dump that keeps comments and key order."""
    out = io.StringIO()
    yaml = _yaml("rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.dump(data, out)
    return out.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
