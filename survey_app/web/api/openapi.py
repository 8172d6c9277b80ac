"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

The row schemas of ``scores``, ``gaps`` and ``trends`` are built from the codebook
(:mod:`survey_app.services.codebook`), which describes every column of the results tables
with its type: the API, the downloads' codebook sheet and this document cannot drift apart.
Rows allow no other properties, so a new column must be described in the codebook first.
"""

from __future__ import annotations

from typing import Any

from survey_app.models import ROLE_LEVELS
from survey_app.services import codebook

VERSION = "1.0.0"
_JSON_TYPES = {"text": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
#: Label columns a row always has, whether shown or suppressed.
_LABELS = {
    "scores": ("wave", "side", "area", "area_name", "dimension", "dimension_title"),
    "gaps": ("wave", "area", "area_name", "dimension", "dimension_title"),
    "trends": ("relationship", "side", "area", "area_name", "dimension", "dimension_title"),
}

DESCRIPTION = """\
Read-only access to the scored results of closed survey waves: health scores, client–supplier
perception gaps, trends and alerts.

**Authentication.** Send a personal API token, created on the service's *API tokens* page, in
the header `Authorization: Bearer <token>`. A token acts with its owner's role (any of admin,
manager and reviewer may read the API) for as long as the account is active and the token is
not revoked. A signed-in browser session works too. This document is public.

**Confidentiality.** Exactly as on the dashboard and in the downloads: a cell with fewer than
k responses (`MIN_CELL_SIZE`, 5 unless configured, never below 3) is suppressed, and so is any
cell that would let a suppressed one be worked out by subtracting shown cells from a total.
A suppressed row keeps its labels; every statistic, `n` included, is `null`, and `suppressed`
says why. Role-level results (`role_level`) are suppressed across side × service area × role
level together.

**Pagination.** Lists take `page` (from 1) and `per_page` (1 to 1000, default 100) and answer
with `items`, `page`, `per_page`, `total`, `pages` and `links` (`self`, `next`, `prev`).

**Errors** are JSON, `{"error": {"code": "...", "message": "..."}}`: 400 (`unknown_parameter`,
`invalid_parameter`), 401 (`missing_token`, `invalid_token`), 403 (`forbidden`), 404
(`not_found`, `results_not_available`).

Every column of the result rows is described in the codebook (each download's `codebook`
sheet); statistics are on the 1–K scale unless named `..._points` or `score100` (0–100).
"""


def _row_schema(table: str) -> dict[str, Any]:
    labels = _LABELS[table]
    properties: dict[str, Any] = {}
    for column in codebook.columns(table):
        kind = _JSON_TYPES[column.type]
        schema: dict[str, Any] = {
            "type": kind if column.name in labels else [kind, "null"],
            "description": column.description,
        }
        if column.value_labels:
            values: list[Any] = list(column.value_labels)
            schema["enum"] = values if column.name in labels else [*values, None]
        properties[column.name] = schema
    return {
        "type": "object",
        "description": codebook.table_description(table),
        "properties": properties,
        "required": [*labels, "suppressed"],
        "additionalProperties": False,
    }


def _page_schema(item: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 1000},
        "total": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 1},
        "links": {"$ref": "#/components/schemas/PageLinks"},
    }
    properties.update(extra or {})
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def _get(
    operation_id: str,
    summary: str,
    description: str,
    tag: str,
    response: dict[str, Any],
    parameters: list[dict[str, Any]],
    errors: tuple[int, ...] = (400, 401, 403, 404),
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": parameters,
            "responses": {"200": response, **_errors(*errors)},
        }
    }


PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (paths relative to the server URL ``/api/v1``)."""
    relationship_id = _param(
        "relationship_id", "The relationship's id.", {"type": "integer"}, "path"
    )
    wave_id = _param("wave_id", "A closed wave's id.", {"type": "integer"}, "path")
    side = _param(
        "side",
        "Whose answers: client staff, supplier staff, or all (both sides).",
        {"type": "string", "enum": ["client", "supplier", "all"]},
    )
    area = _param(
        "area",
        "A service area key of the relationship; `_none` = area not stated, `_all` = every "
        "area (the margin).",
        {"type": "string"},
    )
    dimension = _param(
        "dimension",
        "A dimension key of the wave's instrument, or `index` for the health index.",
        {"type": "string"},
    )
    role_level = _param(
        "role_level",
        "Only respondents of this role level (results of that level alone, suppressed with "
        "the other levels and the all-levels results; status and change are not computed "
        "per role level and are null).",
        {"type": "string", "enum": list(ROLE_LEVELS)},
    )
    wave_context = {
        "wave": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
            "required": ["id", "label"],
            "additionalProperties": False,
        },
        "role_level": {"type": ["string", "null"], "enum": [*ROLE_LEVELS, None]},
    }
    relationship_context = {
        "relationship": {"type": "integer"},
        "as_of": {
            "type": ["string", "null"],
            "description": "Label of the latest closed wave the results cover.",
        },
    }
    nullable_string = {"type": ["string", "null"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relationship Health API",
            "version": VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "relationships", "description": "Relationships and their waves."},
            {"name": "results", "description": "Scored results of closed waves."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": {
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This OpenAPI document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/relationships": _get(
                "listRelationships",
                "Relationships",
                "Every relationship, with its parties, service areas and latest closed wave.",
                "relationships",
                _ok("RelationshipPage", "A page of relationships."),
                PAGING,
                errors=(400, 401, 403),
            ),
            "/relationships/{relationship_id}/waves": _get(
                "listWaves",
                "Waves of a relationship",
                "Every wave of the relationship in time order, whatever its state.",
                "relationships",
                _ok("WavePage", "A page of waves."),
                [
                    relationship_id,
                    _param(
                        "state",
                        "Only waves in this state.",
                        {"type": "string", "enum": ["draft", "open", "closed"]},
                    ),
                    *PAGING,
                ],
            ),
            "/waves/{wave_id}/scores": _get(
                "listScores",
                "Scores of a closed wave",
                "One row per side × service area × dimension (the health index is the "
                "dimension `index`), suppressed.",
                "results",
                _ok("ScorePage", "A page of score rows."),
                [wave_id, side, area, dimension, role_level, *PAGING],
            ),
            "/waves/{wave_id}/gaps": _get(
                "listGaps",
                "Perception gaps of a closed wave",
                "Client vs supplier per service area × dimension, suppressed wherever either "
                "side's score is.",
                "results",
                _ok("GapPage", "A page of gap rows."),
                [
                    wave_id,
                    area,
                    dimension,
                    role_level,
                    _param(
                        "material",
                        "Only material gaps (`true`) or only the others (`false`).",
                        {"type": "string", "enum": ["true", "false"]},
                    ),
                    *PAGING,
                ],
            ),
            "/relationships/{relationship_id}/trends": _get(
                "listTrends",
                "Trends of a relationship",
                "Per side × service area × dimension across the closed waves, as of the "
                "latest: slope, Mann–Kendall test, EWMA and CUSUM, and the status with its "
                "evidence. Suppressed by the latest wave's cell.",
                "results",
                _ok("TrendPage", "A page of trend rows."),
                [
                    relationship_id,
                    side,
                    area,
                    dimension,
                    _param(
                        "status",
                        "Only rows with this status.",
                        {
                            "type": "string",
                            "enum": ["deteriorating", "watch", "improving", "stable"],
                        },
                    ),
                    *PAGING,
                ],
            ),
            "/relationships/{relationship_id}/alerts": _get(
                "listAlerts",
                "Alerts of a relationship",
                "Groups getting worse (`deteriorating`) and perception gaps widening "
                "(`gap_widening`) as of the latest closed wave, each in plain words with its "
                "evidence; `kind=watch` lists the groups to watch instead. A widening gap "
                "concerns both sides (`side` null) and is listed whatever `side` is asked for.",
                "results",
                _ok("AlertPage", "A page of alerts."),
                [
                    relationship_id,
                    side,
                    area,
                    dimension,
                    _param(
                        "kind",
                        "Only alerts of this kind.",
                        {"type": "string", "enum": ["deteriorating", "gap_widening", "watch"]},
                    ),
                    *PAGING,
                ],
            ),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (`rh_...`), from the API tokens page.",
                }
            },
            "parameters": {
                "page": _param("page", "Page number, from 1.", {"type": "integer", "minimum": 1}),
                "per_page": _param(
                    "per_page",
                    "Items per page (default 100).",
                    {"type": "integer", "minimum": 1, "maximum": 1000},
                ),
            },
            "responses": {
                name: {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for name, text in (
                    ("BadRequest", "A query parameter is unknown or has a value not allowed."),
                    ("Unauthorized", "No token, or a token that is not valid (or revoked)."),
                    ("Forbidden", "The account's role cannot use this."),
                    ("NotFound", "No such relationship or wave, or it has no results yet."),
                )
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                            "required": ["code", "message"],
                            "additionalProperties": False,
                        }
                    },
                    "required": ["error"],
                    "additionalProperties": False,
                },
                "PageLinks": {
                    "type": "object",
                    "properties": {
                        "self": nullable_string,
                        "next": nullable_string,
                        "prev": nullable_string,
                    },
                    "required": ["self", "next", "prev"],
                    "additionalProperties": False,
                },
                "Relationship": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "parties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "side": {"type": "string", "enum": ["client", "supplier"]},
                                    "name": {"type": "string"},
                                },
                                "required": ["side", "name"],
                                "additionalProperties": False,
                            },
                        },
                        "service_areas": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                                "required": ["key", "name"],
                                "additionalProperties": False,
                            },
                        },
                        "latest_closed_wave": {
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "label": {"type": "string"},
                                    },
                                    "required": ["id", "label"],
                                    "additionalProperties": False,
                                },
                            ]
                        },
                        "links": {
                            "type": "object",
                            "properties": {
                                "waves": {"type": "string"},
                                "trends": {"type": "string"},
                                "alerts": {"type": "string"},
                            },
                            "required": ["waves", "trends", "alerts"],
                            "additionalProperties": False,
                        },
                    },
                    "required": [
                        "id",
                        "name",
                        "parties",
                        "service_areas",
                        "latest_closed_wave",
                        "links",
                    ],
                    "additionalProperties": False,
                },
                "Wave": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "relationship_id": {"type": "integer"},
                        "label": {"type": "string"},
                        "state": {"type": "string", "enum": ["draft", "open", "closed"]},
                        "instrument": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string"},
                                "version": {"type": "integer"},
                            },
                            "required": ["key", "version"],
                            "additionalProperties": False,
                        },
                        "opened_at": {"type": ["string", "null"], "format": "date-time"},
                        "closed_at": {"type": ["string", "null"], "format": "date-time"},
                        "closes_on": {"type": ["string", "null"], "format": "date"},
                        "has_results": {"type": "boolean"},
                        "links": {
                            "type": "object",
                            "description": "For a closed wave, where its results are.",
                            "properties": {
                                "scores": {"type": "string"},
                                "gaps": {"type": "string"},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "required": [
                        "id",
                        "relationship_id",
                        "label",
                        "state",
                        "instrument",
                        "opened_at",
                        "closed_at",
                        "closes_on",
                        "has_results",
                        "links",
                    ],
                    "additionalProperties": False,
                },
                "ScoreRow": _row_schema("scores"),
                "GapRow": _row_schema("gaps"),
                "TrendRow": _row_schema("trends"),
                "Alert": {
                    "type": "object",
                    "properties": {
                        "kind": {
                            "type": "string",
                            "enum": ["deteriorating", "gap_widening", "watch"],
                        },
                        "dimension": {"type": "string"},
                        "dimension_title": {"type": "string"},
                        "side": {
                            "type": ["string", "null"],
                            "enum": ["client", "supplier", "all", None],
                        },
                        "area": {"type": "string"},
                        "area_name": {"type": "string"},
                        "summary": {
                            "type": "string",
                            "description": "The status in plain words, with its main evidence.",
                        },
                        "evidence": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Each piece of evidence, one sentence each.",
                        },
                        "latest_wave": {"type": ["string", "null"]},
                    },
                    "required": [
                        "kind",
                        "dimension",
                        "dimension_title",
                        "side",
                        "area",
                        "area_name",
                        "summary",
                        "evidence",
                        "latest_wave",
                    ],
                    "additionalProperties": False,
                },
                "RelationshipPage": _page_schema("Relationship"),
                "WavePage": _page_schema("Wave"),
                "ScorePage": _page_schema("ScoreRow", wave_context),
                "GapPage": _page_schema("GapRow", wave_context),
                "TrendPage": _page_schema("TrendRow", relationship_context),
                "AlertPage": _page_schema("Alert", relationship_context),
            },
        },
    }
