"""The API's query parameters: how they are read — an unknown, repeated or invalid parameter is a 400 naming it — and
how a list is cut into pages."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from flask import request, url_for

from survey_app.web.api.errors import ApiError

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
PAGING = ("page", "per_page")
#: The kinds of alert: a group getting worse, a perception gap widening, a group to watch.
ALERT_KINDS = ("deteriorating", "gap_widening", "watch")


def check_args(allowed: Iterable[str]) -> None:
    """400 for a query parameter the endpoint does not take, or one given twice."""
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


def boolean(name: str) -> bool | None:
    """``true`` or ``false``; ``None`` when it is not given."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise ApiError(400, "invalid_parameter", f"{name} must be true or false, not {value!r}")
    return value == "true"


def _whole_number(name: str, default: int, top: int | None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 9  # "²" is a digit to isdigit
    if not ok or int(raw) < 1 or (top is not None and int(raw) > top):
        limit = f" from 1 to {top}" if top else " of at least 1"
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number{limit}")
    return int(raw)


def page_of(items: Sequence[Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page of ``items`` the query asks for, with the links to its neighbours (and
    ``extra``, what the whole list is of)."""
    page = _whole_number("page", 1, None)
    per_page = _whole_number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page

    def link(number: int) -> str | None:
        if number < 1 or number > pages:
            return None
        args = {**request.args.to_dict(), "page": number, "per_page": per_page}
        return url_for(request.endpoint or "", **(request.view_args or {}), **args)

    out: dict[str, Any] = {
        "items": list(items[start : start + per_page]),
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "links": {"self": link(page), "next": link(page + 1), "prev": link(page - 1)},
    }
    if extra is not None:
        out.update(extra)
    return out
