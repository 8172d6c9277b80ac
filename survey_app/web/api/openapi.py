"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

:func:`document` puts it together from one piece per part: the shared parameters, the paths
of each tag, the error responses, and a schema per object; the fragments every schema
repeats (a closed object, a nullable type, a list of values) are made by small functions.
The values a parameter may take are the ones the API checks (:mod:`.parameters`).

The row schemas of ``scores``, ``gaps`` and ``trends`` are built from the codebook
(:mod:`survey_app.services.codebook`), which describes every column of the results tables
with its type: the API, the downloads' codebook sheet and this document cannot drift apart.
Rows allow no other properties, so a new column must be described in the codebook first.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from analysis.status import STATUSES
from survey_app.models import ROLE_LEVELS, SIDES, WAVE_STATES
from survey_app.services import codebook
from survey_app.services.alerts import ALERT_KINDS
from survey_app.services.results import SIDE_KEYS
from survey_app.web.api.parameters import (
    AREA_MAX_LENGTH,
    AREA_PATTERN,
    DIMENSION_MAX_LENGTH,
    DIMENSION_PATTERN,
    MAX_PAGE,
    MAX_PER_PAGE,
)

VERSION = "1.0.0"
_JSON_TYPES = {"text": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
#: Label columns a row always has, whether shown or suppressed.
_LABELS = {
    "scores": ("wave", "side", "area", "area_name", "dimension", "dimension_title"),
    "gaps": ("wave", "area", "area_name", "dimension", "dimension_title"),
    "relative_weights": (
        "wave",
        "side",
        "area",
        "area_name",
        "outcome",
        "dimension",
        "dimension_title",
    ),  # fmt: skip
    "heat_map": ("wave", "side", "area", "area_name", "dimension", "dimension_title"),
    "margins": ("wave", "side", "area", "area_name", "dimension", "dimension_title"),
    "trends": ("relationship", "side", "area", "area_name", "dimension", "dimension_title"),
    "targets": ("wave", "dimension", "dimension_title", "side", "target", "agreed_on"),
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

**Pagination.** Lists take `page` (1 to 1,000,000) and `per_page` (1 to 1000, default 100)
and answer with `items`, `page`, `per_page`, `total`, `pages` and `links` (`self`, `next`,
`prev`). A page past the last is empty, and its `prev` is the last page.

**Filters.** A filter left empty (`side=`) is the same as leaving it out. Service area and
dimension keys are lower-case words (the patterns below); one that the relationship or wave
does not have is a 404 that lists the keys it has.

**Times** are RFC 3339, in UTC (`2012-10-01T09:00:00Z`); dates are `YYYY-MM-DD`.

**Errors** are JSON, always `{"error": {"code": "...", "message": "..."}}`: 400
(`unknown_parameter`, `invalid_parameter`), 401 (`missing_token`, `invalid_token`), 403
(`forbidden`), 404 (`not_found`, `results_not_available`, `unknown_area`,
`unknown_dimension`), 405 (`method_not_allowed`, with `Allow`: the API only reads).

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


# ============================================================================ fragments

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}


def _closed(
    properties: dict[str, Any],
    *,
    required: Sequence[str] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """An object with these properties and no other; every one required unless ``required``
    says which (an empty ``required``: none, and no list)."""
    schema: dict[str, Any] = {"type": "object"}
    if description is not None:
        schema["description"] = description
    schema["properties"] = properties
    names = list(properties) if required is None else list(required)
    if names:
        schema["required"] = names
    schema["additionalProperties"] = False
    return schema


def _one_of(values: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """A string that is one of ``values``."""
    return {"type": "string", "enum": list(values), **extra}


def _filter(values: Sequence[Any]) -> dict[str, Any]:
    """A query filter: one of ``values``, or empty (the same as not filtering)."""
    return _one_of([*values, ""])


def _key(pattern: str, max_length: int) -> dict[str, Any]:
    """A query filter naming a key: a string of ``pattern`` (empty: not filtering)."""
    return {"type": "string", "pattern": pattern, "maxLength": max_length}


def _or_null(kind: str, **extra: Any) -> dict[str, Any]:
    """A ``kind`` or null."""
    return {"type": [kind, "null"], **extra}


def _list_of(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON answer of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page_schema(item: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return _closed(
        {
            "items": _list_of(_ref("schemas", item)),
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("schemas", "PageLinks"),
            **(extra or {}),
        }
    )


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


WAVE_REFERENCE = _closed({"id": INTEGER, "label": STRING})
#: What a page of one wave's rows is of.
WAVE_CONTEXT = {
    "wave": WAVE_REFERENCE,
    "role_level": _or_null("string", enum=[*ROLE_LEVELS, None]),
}
#: What a page of a relationship's rows is of.
RELATIONSHIP_CONTEXT = {
    "relationship": INTEGER,
    "as_of": _or_null("string", description="Label of the latest closed wave the results cover."),
}


# ============================================================================ parameters


def _parameters() -> dict[str, dict[str, Any]]:
    """The parameters several paths take, by name."""
    return {
        "relationship_id": _param("relationship_id", "The relationship's id.", INTEGER, "path"),
        "wave_id": _param("wave_id", "A closed wave's id.", INTEGER, "path"),
        "side": _param(
            "side",
            "Whose answers: client staff, supplier staff, or all (both sides).",
            _filter(SIDE_KEYS),
        ),
        "area": _param(
            "area",
            "A service area key of the relationship (see its `service_areas`); `_none` = area "
            "not stated, `_all` = every area (the margin). A key it does not have: 404 "
            "`unknown_area`.",
            _key(AREA_PATTERN, AREA_MAX_LENGTH),
        ),
        "dimension": _param(
            "dimension",
            "A dimension key of the wave's instrument, or `index` for the health index. A key "
            "it does not have: 404 `unknown_dimension`.",
            _key(DIMENSION_PATTERN, DIMENSION_MAX_LENGTH),
        ),
        "role_level": _param(
            "role_level",
            "Only respondents of this role level (results of that level alone, suppressed with "
            "the other levels and the all-levels results; status and change are not computed "
            "per role level and are null).",
            _filter(ROLE_LEVELS),
        ),
    }


PAGING = [_ref("parameters", "page"), _ref("parameters", "per_page")]


# ================================================================================= paths


def _get(
    operation_id: str,
    summary: str,
    description: str,
    tag: str,
    response: dict[str, Any],
    parameters: list[dict[str, Any]],
    errors: tuple[int, ...] = (400, 401, 403, 404),
) -> dict[str, Any]:
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": [*parameters, *PAGING],
            "responses": {
                "200": _json(_ref("schemas", response["schema"]), response["description"]),
                **{str(s): _ref("responses", names[s]) for s in errors},
            },
        }
    }


def _answer(schema: str, description: str) -> dict[str, str]:
    """The 200 answer of a path: a page of ``schema``."""
    return {"schema": schema, "description": description}


def _meta_paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This OpenAPI document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
            }
        }
    }


def _relationship_paths(p: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "/relationships": _get(
            "listRelationships",
            "Relationships",
            "Every relationship, with its parties, service areas and latest closed wave.",
            "relationships",
            _answer("RelationshipPage", "A page of relationships."),
            [],
            errors=(400, 401, 403),
        ),
        "/relationships/{relationship_id}/waves": _get(
            "listWaves",
            "Waves of a relationship",
            "Every wave of the relationship in time order, whatever its state.",
            "relationships",
            _answer("WavePage", "A page of waves."),
            [
                p["relationship_id"],
                _param("state", "Only waves in this state.", _filter(WAVE_STATES)),
            ],
        ),
    }


def _wave_result_paths(p: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "/waves/{wave_id}/scores": _get(
            "listScores",
            "Scores of a closed wave",
            "One row per side × service area × dimension (the health index is the "
            "dimension `index`), suppressed.",
            "results",
            _answer("ScorePage", "A page of score rows."),
            [p["wave_id"], p["side"], p["area"], p["dimension"], p["role_level"]],
        ),
        "/waves/{wave_id}/gaps": _get(
            "listGaps",
            "Perception gaps of a closed wave",
            "Client vs supplier per service area × dimension, suppressed wherever either "
            "side's score is.",
            "results",
            _answer("GapPage", "A page of gap rows."),
            [
                p["wave_id"],
                p["area"],
                p["dimension"],
                p["role_level"],
                _param(
                    "material",
                    "Only material gaps (`true`) or only the others (`false`).",
                    _filter(["true", "false"]),
                ),
            ],
        ),
        **_deeper_paths(p),
    }


#: The deeper tables of a wave: (path, operation, page schema, rows of, summary, description).
_DEEPER = (
    (
        "relative-weights", "listRelativeWeights", "RelativeWeightPage", "relative-weight",
        "What moves commitment most, in a closed wave",
        "Johnson's relative weights of each dimension on each outcome dimension, with bootstrap "
        "intervals, per side × service area of at least 100 complete responses; suppressed "
        "like the scores.",
    ),
    (
        "heat-map", "listHeatMap", "HeatMapPage", "heat-map",
        "Heat map of a closed wave, marked where really different",
        "Each service area × dimension of each side against the rest of that side: Welch, "
        "Benjamini–Hochberg over the wave, marked higher or lower when adjusted p < 0.05 and "
        "at least 5 points apart.",
    ),
    (
        "margins", "listMargins", "MarginPage", "margin",
        "Response rates and margins of error of a closed wave",
        "Invited, response rate and the finite-population confidence interval of each cell's "
        "scores, with a note where the response rate is under 30%.",
    ),
)  # fmt: skip


def _deeper_paths(p: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The deeper tables of a wave (all role levels together)."""
    cell = [p["wave_id"], p["side"], p["area"], p["dimension"]]
    return {
        f"/waves/{{wave_id}}/{path}": _get(
            operation,
            summary,
            description,
            "results",
            _answer(page, f"A page of {what} rows."),
            cell,
        )  # fmt: skip
        for path, operation, page, what, summary, description in _DEEPER
    }


def _history_paths(p: dict[str, dict[str, Any]]) -> dict[str, Any]:
    cell = [p["relationship_id"], p["side"], p["area"], p["dimension"]]
    return {
        "/relationships/{relationship_id}/trends": _get(
            "listTrends",
            "Trends of a relationship",
            "Per side × service area × dimension across the closed waves, as of the "
            "latest: slope, Mann–Kendall test, EWMA and CUSUM, and the status with its "
            "evidence. Suppressed by the latest wave's cell.",
            "results",
            _answer("TrendPage", "A page of trend rows."),
            [*cell, _param("status", "Only rows with this status.", _filter(STATUSES))],
        ),
        "/relationships/{relationship_id}/alerts": _get(
            "listAlerts",
            "Alerts of a relationship",
            "Groups getting worse (`deteriorating`) and perception gaps widening "
            "(`gap_widening`) as of the latest closed wave, heaviest first (strength of evidence "
            "× size of the change × people covered), each in plain words with its evidence and "
            "how we know, in English. A group to *watch* is a status, never an alert. A widening "
            "gap concerns both sides (`side` null) and is listed whatever `side` is asked for.",
            "results",
            _answer("AlertPage", "A page of alerts."),
            [*cell, _param("kind", "Only alerts of this kind.", _filter(ALERT_KINDS))],
        ),
    }


def _portfolio_paths(p: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "/portfolio": _get(
            "listPortfolio",
            "Every relationship side by side",
            "Each relationship the caller may see, with its latest closed wave's health index "
            "(both sides, all service areas), band and status, widest perception gap, "
            "response rate and number of alerts.",
            "across relationships",
            _answer("PortfolioPage", "A page of relationships' figures."),
            [],
            errors=(400, 401, 403),
        ),
        "/norms": _get(
            "listNorms",
            "Norms across the installation's relationships",
            "The health index and each dimension: lower quartile, median and upper quartile "
            "of the latest closed waves' means (both sides, all areas) of the relationships "
            "both of whose organisations agreed to share. Harrell–Davis quartiles (every "
            "relationship weighs at most a third of a figure), rounded to one decimal, and "
            "null where fewer than `min_contributors` relationships contribute.",
            "across relationships",
            _answer("NormPage", "A page of norms."),
            [],
            errors=(400, 401, 403),
        ),
        "/waves/{wave_id}/comment-counts": _get(
            "listCommentCounts",
            "How many comments of a closed wave may be read",
            "Per free-text question, the number of comments from groups (side × service area "
            "× role level) of at least `min_group_size` people — those the dashboard shows "
            "managers — under the filters, and their themes (found on the server when the "
            "wave closed). The comments themselves are read on the dashboard.",
            "results",
            _answer("CommentCountPage", "A page of counts, one per question."),
            [p["wave_id"], p["side"], p["area"]],
        ),
        "/waves/{wave_id}/targets": _get(
            "listWaveTargets",
            "Agreed targets a closed wave is read against",
            "Each target as it stood for the wave (the one standing when it closed; today's "
            "for the latest closed wave), with the day agreed, per side over all service "
            "areas: the wave's published mean, the distance and its red, amber or green "
            "rating by `rule`. The downloads' `targets` table, for one wave.",
            "results",
            _answer("WaveTargetPage", "A page of target rows."),
            [p["wave_id"], p["side"], p["dimension"]],
        ),
        "/relationships/{relationship_id}/targets": _get(
            "listTargets",
            "Agreed targets of a relationship",
            "The mean both sides agreed to reach on the health index or a dimension, when, "
            "and the latest closed wave's published mean (both sides, all areas) beside it: "
            "the distance and its red, amber or green rating by `rule`.",
            "relationships",
            _answer("TargetPage", "A page of targets."),
            [p["relationship_id"]],
        ),
    }


# ============================================================================= components


def _error_responses() -> dict[str, Any]:
    return {
        name: _json(_ref("schemas", "Error"), text)
        for name, text in (
            ("BadRequest", "A query parameter is unknown or has a value not allowed."),
            ("Unauthorized", "No token, or a token that is not valid (or revoked)."),
            ("Forbidden", "The account's role cannot use this."),
            (
                "NotFound",
                "No such relationship or wave, no results yet, or a service area or dimension "
                "key the relationship or wave does not have.",
            ),
        )
    }


def _relationship_schema() -> dict[str, Any]:
    return _closed(
        {
            "id": INTEGER,
            "name": STRING,
            "parties": _list_of(_closed({"side": _one_of(SIDES), "name": STRING})),
            "service_areas": _list_of(_closed({"key": STRING, "name": STRING})),
            "latest_closed_wave": {"oneOf": [{"type": "null"}, WAVE_REFERENCE]},
            "links": _closed({"waves": STRING, "trends": STRING, "alerts": STRING}),
        }
    )


def _wave_schema() -> dict[str, Any]:
    return _closed(
        {
            "id": INTEGER,
            "relationship_id": INTEGER,
            "label": STRING,
            "state": _one_of(WAVE_STATES),
            "instrument": _closed({"key": STRING, "version": INTEGER}),
            "opened_at": _or_null("string", format="date-time", description="UTC, RFC 3339."),
            "closed_at": _or_null("string", format="date-time", description="UTC, RFC 3339."),
            "closes_on": _or_null("string", format="date"),
            "has_results": {"type": "boolean"},
            "links": _closed(
                {
                    "scores": STRING,
                    "gaps": STRING,
                    "relative_weights": STRING,
                    "heat_map": STRING,
                    "margins": STRING,
                },
                required=(),
                description="For a closed wave, where its results are.",
            ),
        }
    )


def _alert_schema() -> dict[str, Any]:
    return _closed(
        {
            "kind": _one_of(ALERT_KINDS),
            "dimension": STRING,
            "dimension_title": STRING,
            "side": _or_null("string", enum=[*SIDE_KEYS, None]),
            "area": STRING,
            "area_name": STRING,
            "summary": {
                "type": "string",
                "description": "The status in plain words, with its main evidence.",
            },
            "evidence": _list_of(STRING, description="Each piece of evidence, one sentence each."),
            "how_we_know": _list_of(
                STRING, description="The tests and limits behind the alert, one line each."
            ),
            "latest_wave": _or_null("string"),
        }
    )


def _comment_schemas() -> dict[str, Any]:
    return {
        "CommentCount": _closed(
            {
                "question": STRING,
                "comments": {"type": "integer", "minimum": 0},
                "themes": _list_of(
                    _ref("schemas", "CommentTheme"),
                    description="The comments' themes, largest first, found when the wave "
                    "closed; empty when fewer than `min_group_size` comments were grouped.",
                ),
            }
        ),
        "CommentTheme": _closed(
            {
                "name": STRING,
                "words": _list_of(
                    STRING, description="Most distinctive words, most distinctive first."
                ),
                "count": {"type": "integer", "minimum": 1},
            },
            description="A theme of comments: its name, its most distinctive words and how "
            "many comments it holds (the comments themselves are read on the dashboard).",
        ),
        "CommentCountPage": _page_schema(
            "CommentCount",
            {"wave": WAVE_REFERENCE, "min_group_size": INTEGER},
        ),
    }


def _portfolio_schemas() -> dict[str, Any]:
    number = _or_null("number")
    return {
        "PortfolioRow": _closed(
            {
                "relationship": _closed({"id": INTEGER, "name": STRING}),
                "latest_closed_wave": {"oneOf": [{"type": "null"}, WAVE_REFERENCE]},
                "index": _or_null("number", description="Health index mean (1–K)."),
                "band": _or_null("string", enum=["strength", "borderline", "concern", None]),
                "status": _or_null("string", enum=[*STATUSES, None]),
                "suppressed": _or_null("string", description="Why the index is not shown."),
                "widest_gap": {
                    "oneOf": [
                        {"type": "null"},
                        _closed(
                            {
                                "dimension": STRING,
                                "dimension_title": STRING,
                                "difference": {
                                    "type": "number",
                                    "description": "Client mean minus supplier mean (1–K).",
                                },
                                "material": {"type": "boolean"},
                            }
                        ),
                    ]
                },
                "invited": {"type": "integer", "minimum": 0},
                "submitted": {"type": "integer", "minimum": 0},
                "response_rate": _or_null("number", description="Submitted / invited."),
                "alerts": {"type": "integer", "minimum": 0},
                "open_waves": _list_of(STRING),
            }
        ),
        "Norm": _closed(
            {
                "dimension": STRING,
                "dimension_title": STRING,
                "relationships": {"type": "integer", "minimum": 0},
                "lower_quartile": number,
                "median": number,
                "upper_quartile": number,
            }
        ),
        "Target": _closed(
            {
                "dimension": STRING,
                "target": {"type": "number", "description": "The agreed mean (1–K)."},
                "agreed_on": {"type": "string", "format": "date"},
                "mean": number,
                "distance": _or_null("number", description="Mean minus target."),
                "rating": _or_null("string", enum=["green", "amber", "red", None]),
            }
        ),
        "PortfolioPage": _page_schema("PortfolioRow"),
        "NormPage": _page_schema(
            "Norm",
            {"contributors": INTEGER, "min_contributors": INTEGER},
        ),
        "WaveTargetPage": _page_schema(
            "TargetRow",
            {"wave": WAVE_REFERENCE, "rule": {"type": "string", "description": "The rating rule."}},
        ),
        "TargetPage": _page_schema(
            "Target",
            {**RELATIONSHIP_CONTEXT, "rule": {"type": "string", "description": "The rating rule."}},
        ),
    }


def _schemas() -> dict[str, Any]:
    return {
        "Error": _closed(
            {
                "error": _closed(
                    {
                        "code": {
                            "type": "string",
                            "description": "What went wrong, for a program (see the list above).",
                        },
                        "message": {"type": "string", "description": "The same, in words."},
                    }
                )
            },
            description="Every error of the API (and of the service) has this one shape.",
        ),
        "PageLinks": _closed(
            {"self": _or_null("string"), "next": _or_null("string"), "prev": _or_null("string")}
        ),
        "Relationship": _relationship_schema(),
        "Wave": _wave_schema(),
        "ScoreRow": _row_schema("scores"),
        "GapRow": _row_schema("gaps"),
        "TrendRow": _row_schema("trends"),
        "RelativeWeightRow": _row_schema("relative_weights"),
        "HeatMapRow": _row_schema("heat_map"),
        "MarginRow": _row_schema("margins"),
        "TargetRow": _row_schema("targets"),
        "Alert": _alert_schema(),
        "RelationshipPage": _page_schema("Relationship"),
        "WavePage": _page_schema("Wave"),
        "ScorePage": _page_schema("ScoreRow", WAVE_CONTEXT),
        "GapPage": _page_schema("GapRow", WAVE_CONTEXT),
        "TrendPage": _page_schema("TrendRow", RELATIONSHIP_CONTEXT),
        "RelativeWeightPage": _page_schema("RelativeWeightRow", WAVE_CONTEXT),
        "HeatMapPage": _page_schema("HeatMapRow", WAVE_CONTEXT),
        "MarginPage": _page_schema("MarginRow", WAVE_CONTEXT),
        "AlertPage": _page_schema("Alert", RELATIONSHIP_CONTEXT),
        **_portfolio_schemas(),
        **_comment_schemas(),
    }


def _components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token (`rh_...`), from the API tokens page.",
            }
        },
        "parameters": {
            "page": _param(
                "page",
                "Page number, from 1; a page past the last is empty.",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            ),
            "per_page": _param(
                "per_page",
                "Items per page (default 100).",
                {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            ),
        },
        "responses": _error_responses(),
        "schemas": _schemas(),
    }


# ============================================================================== document


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (paths relative to the server URL ``/api/v1``)."""
    shared = _parameters()
    described = {
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
            {
                "name": "across relationships",
                "description": "Relationships side by side, and the norms across them.",
            },
            {"name": "meta", "description": "This description."},
        ],
        "paths": {
            **_meta_paths(),
            **_relationship_paths(shared),
            **_wave_result_paths(shared),
            **_history_paths(shared),
            **_portfolio_paths(shared),
        },
        "components": _components(),
    }
    return copy.deepcopy(described)  # its pieces share fragments: a copy may be changed
