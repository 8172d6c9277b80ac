"""``/api/v1``: relationships, waves, scores, gaps, trends and alerts, as JSON (read only).

Every list is paginated (``page``, ``per_page``); every table is suppressed exactly as on the
dashboard (the rows come from :mod:`survey_app.services.dashboard`). Errors are JSON:
``{"error": {"code": "...", "message": "..."}}`` with status 400, 401, 403 or 404. The
OpenAPI 3.1 description is ``/api/v1/openapi.json``, public: it describes the API, not data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from survey_app.extensions import csrf, db
from survey_app.models import ROLE_LEVELS, Relationship, ResultTable, Wave
from survey_app.services import ServiceError, dashboard
from survey_app.services.results import AREA_ALL, AREA_NONE, INDEX, closed_waves
from survey_app.web.access import access_for, public, requires
from survey_app.web.api.auth import bearer_token, token_user

bp = Blueprint("api", __name__, url_prefix="/api/v1")
requires("manager", "reviewer")(bp)  # every role: managers, reviewers and admins
csrf.exempt(bp)  # read only: GET, and no cookie-driven change

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    500: "server_error",
}
NOT_VALID = "The API token is not valid: it may be mistyped, revoked, or its account deactivated."


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> ResponseReturnValue:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        challenge = 'Bearer realm="relationship-health"'
        if code == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> ResponseReturnValue:
    db.session.rollback()
    return _error(exc.status, exc.code, exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    db.session.rollback()
    status = exc.code or 500
    if status == 401:
        if "Authorization" in request.headers:
            return _error(401, "invalid_token", NOT_VALID)
        return _error(401, "missing_token", "Send an API token: Authorization: Bearer <token>.")
    if status == 403:
        return _error(403, "forbidden", "Your account's role cannot use the API.")
    if status == 404:
        return _error(404, "not_found", "There is nothing at this address.")
    return _error(status, CODES.get(status, "error"), exc.description or "Request failed.")


@bp.errorhandler(Exception)
def server_error(exc: Exception) -> ResponseReturnValue:
    db.session.rollback()
    current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
    return _error(500, "server_error", "Sorry, there is a problem with the service.")


@bp.before_request
def authenticate() -> None:
    """A bearer token, when sent, must be valid, and its owner is the one acting.

    Without a session the request loader has already resolved the token (and the access
    check has run with its owner). With a session too, the token still decides: the owner
    replaces the browser's user and the view's access rule is checked again for them.
    """
    if "Authorization" not in request.headers:
        return
    if bearer_token(request.headers["Authorization"]) is None:
        raise ApiError(401, "invalid_token", NOT_VALID)
    user = token_user(request)
    if user is None:
        raise ApiError(401, "invalid_token", NOT_VALID)
    g._login_user = user  # Flask-Login's current user for the rest of the request
    access = access_for(current_app, request.endpoint or "")
    if access is None or not access.allows(user.role):
        raise ApiError(403, "forbidden", "Your account's role cannot use the API.")


@bp.after_request
def no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


# ============================================================================ parameters


def _check_args(allowed: Iterable[str]) -> None:
    unknown = sorted(set(request.args) - set(allowed) - {"page", "per_page"})
    if unknown:
        raise ApiError(
            400,
            "unknown_parameter",
            f"Unknown query parameter {unknown[0]!r}; this endpoint takes "
            + ", ".join(sorted({*allowed, "page", "per_page"})),
        )
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, "invalid_parameter", f"Give {name!r} once only")


def _choice(name: str, allowed: Sequence[str]) -> str | None:
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


def _boolean(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise ApiError(400, "invalid_parameter", f"{name} must be true or false, not {value!r}")
    return value == "true"


def _paging() -> tuple[int, int]:
    def number(name: str, default: int, top: int | None) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        ok = raw.isascii() and raw.isdigit() and len(raw) <= 9  # "²" is a digit to isdigit
        if not ok or int(raw) < 1 or (top is not None and int(raw) > top):
            limit = f" from 1 to {top}" if top else " of at least 1"
            raise ApiError(400, "invalid_parameter", f"{name} must be a whole number{limit}")
        return int(raw)

    return number("page", 1, None), number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)


def _page(items: Sequence[Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    page, per_page = _paging()
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


def _relationship_or_404(relationship_id: int) -> Relationship:
    relationship = db.session.get(Relationship, relationship_id)
    if relationship is None:
        raise ApiError(404, "not_found", f"There is no relationship {relationship_id}.")
    return relationship


def _wave_or_404(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise ApiError(404, "not_found", f"There is no wave {wave_id}.")
    if wave.state != "closed":
        raise ApiError(
            404,
            "results_not_available",
            f"Wave {wave.label} is {wave.state}: results exist only once a wave has closed.",
        )
    return wave


def _areas(relationship: Relationship) -> list[str]:
    return [a.key for a in relationship.service_areas] + [AREA_NONE, AREA_ALL]


def _dimensions(wave: Wave) -> list[str]:
    return [key for key, _ in dashboard.dimension_order(dashboard.instrument_of(wave))]


def _results(build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    try:
        return build()
    except ServiceError as exc:
        raise ApiError(404, "results_not_available", str(exc)) from exc


# ============================================================================ endpoints


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    from survey_app.web.api.openapi import document

    return jsonify(document())


@bp.get("/relationships")
def relationships() -> ResponseReturnValue:
    _check_args(())
    rels = list(db.session.scalars(select(Relationship).order_by(Relationship.id)))
    return jsonify(_page([_relationship_json(r) for r in rels]))


@bp.get("/relationships/<int:relationship_id>/waves")
def relationship_waves(relationship_id: int) -> ResponseReturnValue:
    _check_args(("state",))
    rel = _relationship_or_404(relationship_id)
    state = _choice("state", ("draft", "open", "closed"))
    waves = db.session.scalars(select(Wave).where(Wave.relationship_id == rel.id)).all()
    waves = sorted(waves, key=lambda w: (w.opened_at or w.closed_at or w.created_at, w.id))
    with_results = set(
        db.session.scalars(
            select(ResultTable.wave_id).where(
                ResultTable.relationship_id == rel.id, ResultTable.name == "scores"
            )
        )
    )
    items = [_wave_json(w, w.id in with_results) for w in waves if not state or w.state == state]
    return jsonify(_page(items))


@bp.get("/waves/<int:wave_id>/scores")
def wave_scores(wave_id: int) -> ResponseReturnValue:
    _check_args(("side", "area", "dimension", "role_level"))
    wave = _wave_or_404(wave_id)
    side = _choice("side", ("client", "supplier", "all"))
    area = _choice("area", _areas(wave.relationship))
    dimension = _choice("dimension", _dimensions(wave))
    role = _choice("role_level", tuple(ROLE_LEVELS))
    rows = _results(lambda: dashboard.wave_rows("scores", wave, role))
    items = dashboard.filter_rows(rows, side=side, area=area, dimension=dimension)
    return jsonify(_page(items, _context(wave, role)))


@bp.get("/waves/<int:wave_id>/gaps")
def wave_gaps(wave_id: int) -> ResponseReturnValue:
    _check_args(("area", "dimension", "role_level", "material"))
    wave = _wave_or_404(wave_id)
    area = _choice("area", _areas(wave.relationship))
    dimension = _choice("dimension", _dimensions(wave))
    role = _choice("role_level", tuple(ROLE_LEVELS))
    material = _boolean("material")
    rows = _results(lambda: dashboard.wave_rows("gaps", wave, role))
    items = dashboard.filter_rows(rows, area=area, dimension=dimension)
    if material is not None:
        items = [r for r in items if bool(r.get("material")) == material]
    return jsonify(_page(items, _context(wave, role)))


@bp.get("/relationships/<int:relationship_id>/trends")
def relationship_trends(relationship_id: int) -> ResponseReturnValue:
    _check_args(("side", "area", "dimension", "status"))
    rel = _relationship_or_404(relationship_id)
    side = _choice("side", ("client", "supplier", "all"))
    area = _choice("area", _areas(rel))
    status = _choice("status", ("deteriorating", "watch", "improving", "stable"))
    rows = _results(lambda: dashboard.trend_rows(rel))
    dimension = _choice("dimension", sorted({r["dimension"] for r in rows}) or [INDEX])
    items = dashboard.filter_rows(rows, side=side, area=area, dimension=dimension)
    if status:
        items = [r for r in items if r.get("status") == status]
    return jsonify(_page(items, {"relationship": rel.id, "as_of": _as_of(rel)}))


@bp.get("/relationships/<int:relationship_id>/alerts")
def relationship_alerts(relationship_id: int) -> ResponseReturnValue:
    _check_args(("side", "area", "dimension", "kind"))
    rel = _relationship_or_404(relationship_id)
    side = _choice("side", ("client", "supplier", "all"))
    area = _choice("area", _areas(rel))
    kind = _choice("kind", ("deteriorating", "gap_widening", "watch"))
    latest = dashboard.latest_closed_wave(rel)
    dimension = _choice("dimension", _dimensions(latest) if latest else [INDEX])
    status = "watch" if kind == "watch" else "deteriorating"
    found = _results(
        lambda: dashboard.relationship_alerts(
            rel, side=side, area=area, dimension=dimension, status=status
        )
    )
    items = [_alert_json(a) for a in found if not kind or a.kind == kind]
    return jsonify(_page(items, {"relationship": rel.id, "as_of": _as_of(rel)}))


@bp.get("/<path:unknown>")
def not_found(unknown: str) -> ResponseReturnValue:
    raise ApiError(404, "not_found", "There is nothing at this address.")


# ============================================================================ shapes


def _as_of(relationship: Relationship) -> str | None:
    wave = dashboard.latest_closed_wave(relationship)
    return wave.label if wave else None


def _context(wave: Wave, role: str | None) -> dict[str, Any]:
    return {"wave": {"id": wave.id, "label": wave.label}, "role_level": role}


def _relationship_json(rel: Relationship) -> dict[str, Any]:
    closed = closed_waves(rel)
    latest = closed[-1] if closed else None
    return {
        "id": rel.id,
        "name": rel.name,
        "parties": [{"side": p.side, "name": p.name} for p in rel.parties],
        "service_areas": [{"key": a.key, "name": a.name} for a in rel.service_areas],
        "latest_closed_wave": {"id": latest.id, "label": latest.label} if latest else None,
        "links": {
            "waves": url_for("api.relationship_waves", relationship_id=rel.id),
            "trends": url_for("api.relationship_trends", relationship_id=rel.id),
            "alerts": url_for("api.relationship_alerts", relationship_id=rel.id),
        },
    }


def _wave_json(wave: Wave, has_results: bool) -> dict[str, Any]:
    version = wave.instrument_version
    links = (
        {
            "scores": url_for("api.wave_scores", wave_id=wave.id),
            "gaps": url_for("api.wave_gaps", wave_id=wave.id),
        }
        if wave.state == "closed"
        else {}
    )
    return {
        "id": wave.id,
        "relationship_id": wave.relationship_id,
        "label": wave.label,
        "state": wave.state,
        "instrument": {"key": version.key, "version": version.version},
        "opened_at": wave.opened_at.isoformat() if wave.opened_at else None,
        "closed_at": wave.closed_at.isoformat() if wave.closed_at else None,
        "closes_on": wave.closes_on.isoformat() if wave.closes_on else None,
        "has_results": has_results,
        "links": links,
    }


def _alert_json(alert: dashboard.Alert) -> dict[str, Any]:
    return {
        "kind": alert.kind,
        "dimension": alert.dimension,
        "dimension_title": alert.dimension_title,
        "side": alert.side,
        "area": alert.area,
        "area_name": alert.area_name,
        "summary": alert.summary,
        "evidence": list(alert.evidence),
        "latest_wave": alert.wave_label,
    }
