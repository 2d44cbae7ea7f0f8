"""Building blocks for fuzzing hand-edited YAML files (call files, scales, backtest specs).

``mutated_text`` makes the edits people and accidents make to a valid file;
``NASTY`` holds YAML snippets for a value position (huge numbers, wrong
types, bad dates, object tags, aliases); ``values`` draws random structures
that ``dump`` turns into syntactically valid YAML of any shape.
"""

from __future__ import annotations

import io

from hypothesis import strategies as st
from ruamel.yaml import YAML

#: Keys the loaders know (so mutations reach validation, not only the parser).
FIELDS = [
    "broker",
    "broker_local",
    "title",
    "published",
    "seen",
    "analysts",
    "source",
    "language",
    "scale",
    "industry",
    "industry_rating",
    "recommendations",
    "name",
    "ticker",
    "rating",
    "target",
    "value",
    "currency",
    "horizon_months",
    "note",
    "registration",
    "min_months",
    "max_months",
    "id",
    "company",
    "bands",
    "lower_pp",
    "upper_pp",
    "lower_inclusive",
    "upper_inclusive",
    "aliases",
    "attention",
    "benchmarks",
    "defined_in_report",
    # backtest specs
    "description",
    "select",
    "brokers",
    "reports",
    "ratings",
    "tickers",
    "exclude_tickers",
    "published_from",
    "published_to",
    "entry",
    "exit",
    "rule",
    "months",
    "sizing",
    "method",
    "max_positions",
    "amount_hkd",
    "rating_weights",
    "capital_hkd",
    "costs",
    "enabled",
    "commission_rate",
    "commission_min_hkd",
    "stamp_duty_rate",
    "settlement_fee_min_hkd",
    "settlement_fee_max_hkd",
    "board_lots",
    "benchmark",
]

#: YAML text for a value position: huge numbers, wrong types, bad dates, tags, aliases.
NASTY = [
    "1e308",
    "1e999",
    "-1e999",
    ".nan",
    ".inf",
    "-0",
    "0x" + "f" * 64,
    "9" * 60,
    "9" * 4400,
    "-9" * 30,
    "1_000_000",
    "0o777",
    "12:30:45",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: {b: c}}",
    "~",
    "null",
    "true",
    "yes",
    "no",
    "''",
    '""',
    "2025-02-30",
    "2025-13-01",
    "0000-01-01",
    "9999-12-31",
    "2025-01-01T25:00:00",
    "2025-01-01 10:00:00 +08:00",
    "1900-01-01",
    "2100-01-01",
    "0700.HK",
    "700.HK",
    "00700.HK",
    "99999.HK",
    "0700",
    "买入",
    "BUY",
    "强烈买入",
    "attention",
    "S0010521080002",
    "S1",
    "6-12",
    "0-0",
    "12-6",
    "[6, 12]",
    "[6, 12, 18]",
    '"\\x00"',
    '"a\\nb"',
    '"\\u202e\\u0000"',
    '"\\ud800"',
    '"\\t"',
    "x" * 5000,
    "|\n  line one\n  line two",
    ">-\n  folded",
    "&anchor value",
    "*anchor",
    "*undefined",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!foo bar",
    "!!timestamp x",
    "!!int x",
    "!!float x",
    "!!bool maybe",
    "!!str",
    "!!map [1]",
    "? complex\n: key",
    "!!python/object/apply:os.mkdir [PWNED-DIR]",
    "!!python/object/apply:builtins.open [PWNED-FILE, w]",
    "!!python/object/new:os.mkdir [PWNED-DIR]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!<tag:yaml.org,2002:python/tuple> [1]",
    "<<: {merged: 1}",
    "'unterminated",
    '"unterminated',
    "[unclosed",
    "{unclosed: 1",
    "- list item",
    "key: value: other",
    "@reserved",
    "`reserved",
    "%directive",
    "# only a comment",
    "../../outside",
    "..",
    "/tmp/abs",
    "a/b",
    "runs/../../x",
    "ＡＢＣ",
    "․․",
    "CON",
    "-1",
    "0",
    "1e-300",
    "0.0999999",
    "0.1",
    "1e9",
    "100000",
    "100001",
    "fixed",
    "downgrade",
    "next-open",
    "same-close",
    "^HSI",
    "2800.HK",
    "^ZZZZ",
    "[buy, sell]",
    "{buy: 11}",
    "6M",
    "121",
    "'6m'",
]

SPECIALS = list("&*!|>'\"%@`{}[],#:-?\t\r\n\\ ") + ["\ufeff", "\u2028", "\x85", "\x00", "\x7f"]


def _split(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


@st.composite
def mutated_text(draw, seeds: list[str]) -> str:
    """A seed file with one to five random edits of the kinds people (and accidents) make."""
    lines = _split(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "swap",
                    "value",
                    "insert",
                    "indent",
                    "char",
                    "truncate",
                    "newlines",
                    "bom",
                    "tab",
                ]
            )
        )
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip(" -"))]
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(NASTY))}\n"
        elif op == "insert":
            key = draw(st.sampled_from(FIELDS) | st.text(min_size=1, max_size=12))
            lines.insert(i, f"{indent}{key}: {draw(st.sampled_from(NASTY))}\n")
        elif op == "indent":
            shift = draw(st.integers(-3, 3))
            lines[i] = line[-shift:] if shift < 0 else " " * shift + line
        elif op == "char":
            at = draw(st.integers(0, len(line)))
            ch = draw(st.sampled_from(SPECIALS) | st.characters())
            lines[i] = line[:at] + ch + line[at:]
        elif op == "truncate":
            text = "".join(lines)
            lines = _split(text[: draw(st.integers(0, len(text)))])
        elif op == "newlines":
            lines = _split("".join(lines).replace("\n", draw(st.sampled_from(["\r\n", "\r"]))))
        elif op == "bom":
            lines[0] = "\ufeff" + lines[0]
        elif op == "tab":
            lines[i] = line.replace("  ", "\t", 1)
    return "".join(lines)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(),
    st.sampled_from(["0700.HK", "9988.HK", "buy", "attention", "买入", "huaan", "HKD", "6-12"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def dump(data) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.dump(data, out)
    return out.getvalue()
