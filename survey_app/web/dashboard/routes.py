"""``/dashboard``: the relationships, each relationship's health, and a dimension's drill-down.

Views read their arguments, call one service function (survey_app.services.dashboard, which
reads stored results and suppresses them) and render. Managers and admins only.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from survey_app.models import ROLE_LEVELS, Relationship, Wave
from survey_app.services import dashboard
from survey_app.web.access import current_scope, requires
from survey_app.web.dashboard.forms import FilterForm
from survey_app.web.loading import closed_wave_by_label_or_404, relationship_or_404

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
requires("manager")(bp)  # managers, and admins (roles nest)


def _filters(relationship: Relationship) -> tuple[FilterForm, dashboard.Filters | None]:
    """The filter form bound to the query string, and the filters if they are valid."""
    given = any(name in request.args for name in ("side", "area", "role_level"))
    form = FilterForm(relationship, formdata=request.args if given else None)
    if given and not form.validate():
        return form, None
    return form, dashboard.Filters(
        form.side.data or None, form.area.data or None, form.role_level.data or None
    )


def chosen_wave(relationship: Relationship) -> Wave | None:
    """The closed wave named by ``?wave=<label>`` (a 404 for any other), else ``None``: the
    latest closed wave."""
    label = request.args.get("wave")
    return closed_wave_by_label_or_404(relationship, label) if label else None


def _page_args(
    relationship_id: int,
) -> tuple[Relationship, Wave | None, FilterForm, dashboard.Filters | None]:
    """What a relationship's dashboard page reads from its request: the relationship (a 404
    if there is none), the chosen wave (:func:`chosen_wave`), and the filter form with its
    filters (:func:`_filters`)."""
    rel = relationship_or_404(relationship_id)
    as_of = chosen_wave(rel)
    return (rel, as_of, *_filters(rel))


@bp.get("/")
@requires("manager")
def index() -> str:
    return render_template("dashboard/index.html", portfolio=dashboard.portfolio(current_scope()))


@bp.get("/how-we-know")
@requires("manager")
def how_we_know() -> str:
    return render_template("dashboard/how_we_know.html", rates=dashboard.ERROR_RATES)


@bp.get("/<int:relationship_id>/")
@requires("manager")
def relationship(relationship_id: int) -> tuple[str, int]:
    rel, as_of, form, filters = _page_args(relationship_id)
    page = dashboard.relationship_page(rel, filters or dashboard.Filters(), as_of=as_of)
    return render_template(
        "dashboard/relationship.html", page=page, form=form, role_levels=ROLE_LEVELS
    ), (200 if filters is not None else 400)


@bp.get("/<int:relationship_id>/dimension/<key>")
@requires("manager")
def dimension(relationship_id: int, key: str) -> tuple[str, int]:
    rel, as_of, form, filters = _page_args(relationship_id)
    try:
        page = dashboard.dimension_page(rel, key, filters or dashboard.Filters(), as_of=as_of)
    except LookupError:
        abort(404)
    return render_template(
        "dashboard/dimension.html", page=page, form=form, role_levels=ROLE_LEVELS
    ), (200 if filters is not None else 400)


@bp.get("/<int:relationship_id>/comments")
@requires("manager")
def comments(relationship_id: int) -> tuple[str, int]:
    rel, as_of, form, filters = _page_args(relationship_id)
    chosen = dashboard.Filters(filters.side, filters.area) if filters else dashboard.Filters()
    page = dashboard.comments_page(rel, chosen, as_of=as_of)
    return render_template(
        "dashboard/comments.html", page=page, form=form, chosen=as_of is not None
    ), (200 if filters is not None else 400)
