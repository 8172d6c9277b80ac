"""The API's query parameters: how they are read, and how a list is cut into pages.

Every value a parameter may take is declared in the OpenAPI document (:mod:`.openapi` reads
the bounds, patterns and choices from here), and the API answers each request the document
allows with a 2xx or a 404, each it does not with a 400 naming the parameter:

* an unknown or repeated parameter, or a value outside the declared choices, bounds or shape
  (pattern), is a 400 (``unknown_parameter``, ``invalid_parameter``);
* an empty filter (``side=``, ``area=``...) is the same as leaving it out; ``page`` and
  ``per_page``, when given, are whole numbers;
* a service area or dimension key shaped like one that the relationship or wave does not have
  is a 404 (``unknown_area``, ``unknown_dimension``) that lists the keys it has;
* a page past the last is an empty page (``items`` is ``[]``), its ``prev`` the last page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from flask import request, url_for

from survey_app.web.api.errors import ApiError

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
#: The highest page number asked for (far past the end of any list: a million pages).
MAX_PAGE = 1_000_000
PAGING = ("page", "per_page")

#: A service area key (a slug of its name), or ``_all`` / ``_none``; empty = not given.
AREA_PATTERN = r"^(?:_all|_none|[a-z0-9]+(?:-[a-z0-9]+)*)?$"
AREA_MAX_LENGTH = 60
#: A dimension key of an instrument (``index`` for the health index); empty = not given.
DIMENSION_PATTERN = r"^(?:[a-z][a-z0-9_]*)?$"
DIMENSION_MAX_LENGTH = 64


def check_args(allowed: Iterable[str]) -> None:
    """400 for a query parameter the endpoint does not take, one given twice, or a page
    number or key that is not shaped as the document says (before anything is looked up, so
    that a 404 is only ever about something that could exist)."""
    unknown = sorted(set(request.args) - set(allowed) - set(PAGING))
    if unknown:
        raise ApiError(
            400,
            "unknown_parameter",
            f"Unknown query parameter {unknown[0]!r}; this endpoint takes "
            + ", ".join(sorted({*allowed, *PAGING})),
        )
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, "invalid_parameter", f"Give {name!r} once only")
    paging()
    for name, (pattern, max_length, what) in _KEYS.items():
        if name in allowed:
            _shaped(name, pattern, max_length, what)


def paging() -> tuple[int, int]:
    """The ``page`` and ``per_page`` asked for (400 when not whole numbers in bounds)."""
    return (
        _whole_number("page", 1, MAX_PAGE),
        _whole_number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def choice(name: str, allowed: Sequence[str]) -> str | None:
    """The parameter's value, one of ``allowed``; ``None`` when it is not given."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be one of {', '.join(allowed)}, not {value!r}",
        )
    return value


#: The key parameters: their pattern, longest value and what they name.
_KEYS = {
    "area": (AREA_PATTERN, AREA_MAX_LENGTH, "service area"),
    "dimension": (DIMENSION_PATTERN, DIMENSION_MAX_LENGTH, "dimension"),
}


def _shaped(name: str, pattern: str, max_length: int, what: str) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or not re.fullmatch(pattern, value):
        joiner = "-" if name == "area" else "_"
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be a {what} key (lower-case letters, digits and {joiner}, at most "
            f"{max_length} characters), not {value!r}",
        )
    return value


def key(name: str, known: Sequence[str]) -> str | None:
    """A key parameter (``area``, ``dimension``): ``None`` when it is not given; 400 when it is
    not shaped like a key; 404 when it is, but names none of ``known``."""
    pattern, max_length, what = _KEYS[name]
    value = _shaped(name, pattern, max_length, what)
    if value is None:
        return None
    if value not in known:
        raise ApiError(
            404,
            f"unknown_{name}",
            f"There is no {what} {value!r} here; {name} may be {', '.join(known)}.",
        )
    return value


def boolean(name: str) -> bool | None:
    """``true`` or ``false``; ``None`` when it is not given."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise ApiError(400, "invalid_parameter", f"{name} must be true or false, not {value!r}")
    return value == "true"


def _whole_number(name: str, default: int, top: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    ok = raw.isascii() and raw.isdigit() and len(raw) <= len(str(top))  # "²" is a digit to isdigit
    if not ok or not 1 <= int(raw) <= top:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number from 1 to {top}")
    return int(raw)


def page_of(items: Sequence[Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page of ``items`` the query asks for, with the links to its neighbours (and
    ``extra``, what the whole list is of). A page past the last is empty; its ``prev`` is the
    last page."""
    page, per_page = paging()
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        args = {**request.args.to_dict(), "page": number, "per_page": per_page}
        return url_for(request.endpoint or "", **(request.view_args or {}), **args)

    out: dict[str, Any] = {
        "items": list(items[start : start + per_page]),
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "links": {
            "self": link(page),
            "next": link(page + 1 if page < pages else None),
            "prev": link(min(page - 1, pages) if page > 1 else None),
        },
    }
    if extra is not None:
        out.update(extra)
    return out
