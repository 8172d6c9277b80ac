"""Typed readers shared by the definition checker and the translation checker.

A `Reader` walks loaded YAML (or a frozen definition), records every problem it finds as one
line naming the source, the part and the fault, and returns None for a value it cannot use,
so that a whole file is checked before anything is raised.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

#: An instrument key: the folder name under ``instruments/``.
INSTRUMENT_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
#: A dimension, item, comment or placeholder name.
NAME = re.compile(r"[a-z][a-z0-9_]*")

MISSING = object()


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def suggestion(name: object, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest of `choices`, or ''."""
    hint = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def placeholders_in(text: str) -> set[str]:
    """The placeholder names a checked text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Reader:
    """Records problems for one source; the small readers below return None on a bad value."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, where: str, fault: str) -> None:
        prefix = f"{self.source}: {where}: " if where else f"{self.source}: "
        self.problems.append(prefix + fault)

    def fields(
        self,
        where: str,
        value: object,
        allowed: tuple[str, ...],
        required: Iterable[str],
        what: str = "a mapping of fields",
    ) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(where, f"must be {what}, not {describe(value)}")
            return None
        for name in value:
            if name not in allowed:
                self.problem(where, f"unknown field {name!r}{suggestion(name, allowed)}")
        for name in required:
            if name not in value or value[name] is None:
                self.problem(where, f"missing field {name!r}")
        return dict(value)

    def text(self, where: str, fields: Mapping[str, Any], name: str, default: object = MISSING):
        value = fields.get(name)
        if value is None:
            if default is MISSING:
                return None  # reported as a missing field already
            return default
        optional = default is not MISSING
        if not isinstance(value, str) or not (optional or value.strip()):
            kind = "text" if optional else "non-empty text"
            self.problem(where, f"{name!r} must be {kind}, not {describe(value)}")
            return None
        return value.strip()

    def boolean(self, where: str, fields: Mapping[str, Any], name: str, default: bool = False):
        value = fields.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(where, f"{name!r} must be true or false, not {describe(value)}")
            return None
        return value

    def whole_number(
        self, where: str, fields: Mapping[str, Any], name: str, low: int, high: int | None = None
    ) -> int | None:
        value = fields.get(name)
        if value is None:
            return None
        in_range = is_int(value) and value >= low and (high is None or value <= high)
        if not in_range:
            bounds = f"from {low} to {high}" if high is not None else f"of {low} or more"
            self.problem(where, f"{name!r} must be a whole number {bounds}, not {describe(value)}")
            return None
        return value

    def slug(self, where: str, value: object, what: str, pattern: re.Pattern[str]) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            shape = "a-z, 0-9 and '-'" if pattern is INSTRUMENT_KEY else "a-z, 0-9 and '_'"
            self.problem(
                where,
                f"{what} {describe(value)} must be lower-case {shape}"
                + (", starting with a letter" if pattern is NAME else ""),
            )
            return None
        return value

    def placeholders_ok(
        self, where: str, what: str, text: str, placeholders: tuple[str, ...]
    ) -> bool:
        """Whether `text` (called `what` in messages, e.g. "client wording") uses only plain
        placeholders from `placeholders` and has no stray braces."""
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError:
            self.problem(
                where,
                f"{what} has an unmatched '{{' or '}}' (write '{{{{' or '}}}}' for a literal brace)",
            )
            return False
        ok = True
        for _literal, name, format_spec, conversion in parts:
            if name is None:
                continue
            if not NAME.fullmatch(name) or format_spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "")
                shown += (f":{format_spec}" if format_spec else "") + "}"
                self.problem(
                    where, f"{what}: {shown!r} is not a plain placeholder like {{partner}}"
                )
                ok = False
            elif name not in placeholders:
                declared = ", ".join(placeholders)
                self.problem(
                    where, f"{what} uses undeclared placeholder {{{name}}} (declared: {declared})"
                )
                ok = False
        return ok

    @staticmethod
    def label(kind: str, position: int, entry: object) -> str:
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str):
            return f"{kind} {entry['key']!r}"
        return f"{kind} {position}"
