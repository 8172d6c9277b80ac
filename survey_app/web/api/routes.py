"""``/api/v1``: relationships, waves, scores, gaps, trends and alerts, as JSON (read only).

Every list is paginated (``page``, ``per_page``); every table is suppressed exactly as on the
dashboard (the rows come from :mod:`survey_app.services.dashboard`). Errors are JSON:
``{"error": {"code": "...", "message": "..."}}`` with status 400, 401, 403, 404 or 405. Times
are RFC 3339 in UTC (``2012-10-01T09:00:00Z``). The OpenAPI 3.1 description is
``/api/v1/openapi.json``, public: it describes the API, not data; the API answers exactly as
it says (``tests/test_api_conformance.py`` checks with schemathesis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from analysis.status import STATUSES
from survey_app.extensions import csrf
from survey_app.models import ROLE_LEVELS, WAVE_STATES, Relationship, Wave
from survey_app.services import ServiceError, dashboard
from survey_app.services import relationships as relationships_service
from survey_app.services import waves as waves_service
from survey_app.services.alerts import ALERT_KINDS
from survey_app.services.results import AREA_ALL, AREA_NONE, INDEX, SIDE_KEYS, closed_waves
from survey_app.web.access import access_for, current_scope, public, requires
from survey_app.web.api.auth import bearer_token, token_user
from survey_app.web.api.errors import FORBIDDEN, NOT_VALID, NOTHING_HERE, ApiError, handle_errors
from survey_app.web.api.openapi import document
from survey_app.web.api.parameters import (
    boolean,
    check_args,
    choice,
    key,
    page_of,
)
from survey_app.web.loading import relationship_or_404, wave_or_404

bp = Blueprint("api", __name__, url_prefix="/api/v1")
requires("manager", "reviewer")(bp)  # every role: managers, reviewers and admins
csrf.exempt(bp)  # read only: GET, and no cookie-driven change

handle_errors(bp)


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
    if access is None or not access.admits(user):
        raise ApiError(403, "forbidden", FORBIDDEN)


@bp.after_request
def no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


def _area(relationship: Relationship) -> str | None:
    """The ``area`` asked for: a service area key of the relationship, or ``_none`` / ``_all``."""
    return key("area", [a.key for a in relationship.service_areas] + [AREA_NONE, AREA_ALL])


def _dimension(known: list[str]) -> str | None:
    """The ``dimension`` asked for, one of ``known``."""
    return key("dimension", known)


def _relationship_rows_query(
    relationship_id: int, extra: str, choices: Sequence[str]
) -> tuple[Relationship, str | None, str | None, str | None]:
    """The relationship of a query of its rows (which may name a side, an area, a dimension
    and ``extra``, one of ``choices``), and the side, ``extra`` and area asked for."""
    check_args(("side", "area", "dimension", extra))
    relationship = relationship_or_404(relationship_id)
    side, chosen = choice("side", SIDE_KEYS), choice(extra, choices)
    return relationship, side, chosen, _area(relationship)


def _dimensions(wave: Wave) -> list[str]:
    return [d for d, _ in dashboard.dimension_order(dashboard.instrument_of(wave))]


def _timestamp(moment: datetime | None) -> str | None:
    """An RFC 3339 time in UTC, ``2012-10-01T09:00:00Z`` (stored times are UTC, naive)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def _results(build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    try:
        return build()
    except ServiceError as exc:
        raise ApiError(404, "results_not_available", str(exc)) from exc


# ============================================================================ endpoints


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    return jsonify(document())


@bp.get("/relationships")
def relationships() -> ResponseReturnValue:
    check_args(())
    rels = relationships_service.all_relationships(by_id=True, scope=current_scope())
    return jsonify(page_of([_relationship_json(r) for r in rels]))


@bp.get("/relationships/<int:relationship_id>/waves")
def relationship_waves(relationship_id: int) -> ResponseReturnValue:
    check_args(("state",))
    rel = relationship_or_404(relationship_id)
    state = choice("state", WAVE_STATES)
    waves = waves_service.waves_in_time_order(rel)
    with_results = waves_service.waves_with_results(rel)
    items = [_wave_json(w, w.id in with_results) for w in waves if not state or w.state == state]
    return jsonify(page_of(items))


@bp.get("/waves/<int:wave_id>/scores")
def wave_scores(wave_id: int) -> ResponseReturnValue:
    check_args(("side", "area", "dimension", "role_level"))
    wave = wave_or_404(wave_id, closed=True)
    side = choice("side", SIDE_KEYS)
    role = choice("role_level", tuple(ROLE_LEVELS))
    area = _area(wave.relationship)
    dimension = _dimension(_dimensions(wave))
    rows = _results(lambda: dashboard.wave_rows("scores", wave, role))
    items = dashboard.filter_rows(rows, side=side, area=area, dimension=dimension)
    return jsonify(page_of(items, _context(wave, role)))


@bp.get("/waves/<int:wave_id>/gaps")
def wave_gaps(wave_id: int) -> ResponseReturnValue:
    check_args(("area", "dimension", "role_level", "material"))
    wave = wave_or_404(wave_id, closed=True)
    role = choice("role_level", tuple(ROLE_LEVELS))
    material = boolean("material")
    area = _area(wave.relationship)
    dimension = _dimension(_dimensions(wave))
    rows = _results(lambda: dashboard.wave_rows("gaps", wave, role))
    items = dashboard.filter_rows(rows, area=area, dimension=dimension)
    if material is not None:
        items = [r for r in items if bool(r.get("material")) == material]
    return jsonify(page_of(items, _context(wave, role)))


@bp.get("/relationships/<int:relationship_id>/trends")
def relationship_trends(relationship_id: int) -> ResponseReturnValue:
    rel, side, status, area = _relationship_rows_query(relationship_id, "status", STATUSES)
    rows = _results(lambda: dashboard.trend_rows(rel))
    dimension = _dimension(sorted({r["dimension"] for r in rows}) or [INDEX])
    items = dashboard.filter_rows(rows, side=side, area=area, dimension=dimension)
    if status:
        items = [r for r in items if r.get("status") == status]
    return jsonify(page_of(items, {"relationship": rel.id, "as_of": _as_of(rel)}))


@bp.get("/relationships/<int:relationship_id>/alerts")
def relationship_alerts(relationship_id: int) -> ResponseReturnValue:
    rel, side, kind, area = _relationship_rows_query(relationship_id, "kind", ALERT_KINDS)
    latest = dashboard.latest_closed_wave(rel)
    dimension = _dimension(_dimensions(latest) if latest else [INDEX])
    found = _results(
        lambda: dashboard.relationship_alerts(rel, side=side, area=area, dimension=dimension)
    )
    items = [_alert_json(a) for a in found if not kind or a.kind == kind]
    return jsonify(page_of(items, {"relationship": rel.id, "as_of": _as_of(rel)}))


@bp.get("/<path:unknown>")
def not_found(unknown: str) -> ResponseReturnValue:
    raise ApiError(404, "not_found", NOTHING_HERE)


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
        "opened_at": _timestamp(wave.opened_at),
        "closed_at": _timestamp(wave.closed_at),
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
        "how_we_know": list(alert.how),
        "latest_wave": alert.wave_label,
    }
