"""Hypothesis strategies for bad input: junk values, junk field names, whole form bodies."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Values that break naive code: numbers out of range, markup, SQL, control characters, NUL,
#: lone surrogates, invalid UTF-8 (as bytes), right-to-left overrides, BOMs, huge strings.
SPECIAL: list[str | bytes] = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "x\x00y",
    "\x1b[31m",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999999999",
    str(2**63),
    str(-(2**63) - 1),
    "null",
    "true",
    "[]",
    "{}",
    '{"a": [[[[[[[[[[1]]]]]]]]]]}',
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "%00",
    "%s%n%x",
    "../../etc/passwd",
    "\u202e\u202dtxt.exe",
    "\ufeffemail",
    "\uffff\ufffe",
    "\U0010ffff",
    "😀" * 5,
    "İ ß ǅ ﬀ",
    "\ud800",  # a lone surrogate (sent with surrogatepass)
    "a\udfffb",
    "a" * 300,
    "é" * 2_001,
    "x" * 20_000,
    b"\xff\xfe\xfd",
    b"\xc0\xaf",
    b"\x80abc",
    b"\xed\xa0\x80",
]

junk = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=30),
    st.binary(max_size=12),
    st.integers().map(str),
)

field_names = st.one_of(
    st.sampled_from(["submit", "id", "__proto__", "csrf_token[]", "q_", "q_unknown", "save_later"]),
    st.text(min_size=1, max_size=12),
)


@st.composite
def fields(
    draw: st.DrawFn,
    known: dict[str, st.SearchStrategy[Any]],
    *,
    always: tuple[str, ...] = (),
    extra: bool = True,
) -> list[tuple[Any, Any]]:
    """(name, value) pairs: each known field present (maybe twice) or missing, plus extras.

    ``known`` maps a field name to the strategy of its value; names in ``always`` are sent."""
    pairs: list[tuple[Any, Any]] = []
    for name, values in known.items():
        times = 1 if name in always else draw(st.sampled_from([1, 1, 1, 0, 2]))
        for _ in range(times):
            pairs.append((name, draw(values)))
    if extra:
        for _ in range(draw(st.integers(0, 3))):
            pairs.append((draw(field_names), draw(junk)))
    return pairs


def maybe(valid: list[Any], weight: int = 1) -> st.SearchStrategy[Any]:
    """Sometimes one of the ``valid`` values, more often junk."""
    return st.one_of(*([st.sampled_from(valid)] * weight), junk)
