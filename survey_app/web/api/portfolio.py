"""``/api/v1``'s reading across relationships and of what managers agreed: the portfolio, the
installation's norms, a relationship's agreed targets (today's) and those a closed wave is
read against (as they stood then), and how many comments of a wave may be read (shapes in
:mod:`.openapi`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from survey_app.services import dashboard, targets
from survey_app.services.results import AREA_ALL, SIDE_KEYS
from survey_app.web.access import current_scope
from survey_app.web.api.parameters import check_args, choice, page_of
from survey_app.web.api.routes import _area, _dimension, _dimensions, bp
from survey_app.web.loading import relationship_or_404, wave_or_404


@bp.get("/portfolio")
def portfolio() -> ResponseReturnValue:
    check_args(())
    found = dashboard.portfolio(current_scope())
    return jsonify(page_of([_row_json(r) for r in found.rows]))


@bp.get("/norms")
def norms() -> ResponseReturnValue:
    check_args(())
    found, contributors = dashboard.installation_norms()
    extra = {"contributors": contributors, "min_contributors": dashboard.MIN_CONTRIBUTORS}
    return jsonify(page_of([_norm_json(n) for n in found], extra))


@bp.get("/relationships/<int:relationship_id>/targets")
def relationship_targets(relationship_id: int) -> ResponseReturnValue:
    check_args(())
    rel = relationship_or_404(relationship_id)
    latest = dashboard.latest_closed_wave(rel)
    items = [t.as_dict() for t in targets.distances(rel, latest).values()]
    extra = {
        "relationship": rel.id,
        "as_of": latest.label if latest else None,
        "rule": targets.RATING_RULE,
    }
    return jsonify(page_of(items, extra))


@bp.get("/waves/<int:wave_id>/targets")
def wave_targets(wave_id: int) -> ResponseReturnValue:
    check_args(("side", "dimension"))
    wave = wave_or_404(wave_id, closed=True)
    side = choice("side", SIDE_KEYS)
    dimension = _dimension(_dimensions(wave))
    rows = targets.wave_target_rows(wave.relationship, [wave])
    items = dashboard.filter_rows(rows, side=side, dimension=dimension)
    extra = {"wave": {"id": wave.id, "label": wave.label}, "rule": targets.RATING_RULE}
    return jsonify(page_of(items, extra))


@bp.get("/waves/<int:wave_id>/comment-counts")
def wave_comment_counts(wave_id: int) -> ResponseReturnValue:
    check_args(("side", "area"))
    wave = wave_or_404(wave_id, closed=True)
    rel = wave.relationship
    side = choice("side", SIDE_KEYS)
    area = _area(rel)
    chosen = dashboard.Filters(side if side != "all" else None, area if area != AREA_ALL else None)
    page = dashboard.comments_page(rel, chosen, as_of=wave)
    items = [{"question": q.key, "comments": len(q.comments)} for q in page.questions]
    extra = {"wave": {"id": wave.id, "label": wave.label}, "min_group_size": page.k}
    return jsonify(page_of(items, extra))


def _row_json(row: dashboard.PortfolioRow) -> dict[str, Any]:
    headline, gap = row.headline, row.widest_gap
    return {
        "relationship": {"id": row.relationship.id, "name": row.relationship.name},
        "latest_closed_wave": {"id": row.wave.id, "label": row.wave.label} if row.wave else None,
        "index": headline.mean if headline else None,
        "band": headline.band if headline else None,
        "status": headline.status if headline else None,
        "suppressed": headline.suppressed if headline else None,
        "widest_gap": (
            {
                "dimension": gap.dimension,
                "dimension_title": gap.title,
                "difference": gap.difference,
                "material": gap.material,
            }
            if gap
            else None
        ),
        "invited": row.invited,
        "submitted": row.submitted,
        "response_rate": row.response_rate,
        "alerts": row.n_alerts,
        "open_waves": [w.label for w in row.open_waves],
    }


def _norm_json(norm: dashboard.Norm) -> dict[str, Any]:
    return {
        "dimension": norm.dimension,
        "dimension_title": norm.title,
        "relationships": norm.n,
        "lower_quartile": norm.lower_quartile,
        "median": norm.median,
        "upper_quartile": norm.upper_quartile,
    }
