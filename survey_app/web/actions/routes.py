"""``/actions``: managers record the actions agreed on a relationship's alerts or dimensions,
keep their status up to date, and see what has changed since each one.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from survey_app.services import actions as actions_service
from survey_app.services import dashboard
from survey_app.services import relationships as relationships_service
from survey_app.web.access import current_scope, requires
from survey_app.web.actions.forms import ActionForm
from survey_app.web.loading import action_or_404, relationship_or_404
from survey_app.web.submissions import acting_user, carry_out, form_page

bp = Blueprint("actions", __name__, url_prefix="/actions")
requires("manager")(bp)  # managers, and admins (roles nest)


@bp.get("/")
@requires("manager")
def index() -> str:
    return render_template(
        "actions/index.html", relationships=relationships_service.relationship_rows(current_scope())
    )


@bp.get("/<int:relationship_id>/")
@requires("manager")
def relationship(relationship_id: int) -> str:
    rel = relationship_or_404(relationship_id)
    actions = actions_service.actions_for(rel)
    return render_template(
        "actions/relationship.html",
        relationship=rel,
        actions=actions,
        changes=actions_service.changes_since_actions(actions),
        alerts=actions_service.current_alerts(rel),
        titles=dict(actions_service.dimension_choices(rel)),
        alert_reference=actions_service.alert_reference,
        open_waves=dashboard.open_waves(rel),
    )


@bp.route("/<int:relationship_id>/new", methods=["GET", "POST"])
@requires("manager")
def new_action(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    reference = request.values.get("alert", "")
    alert = actions_service.find_alert(rel, reference) if reference else None
    if reference and alert is None:
        abort(404)
    dimensions = actions_service.dimension_choices(rel)
    # An alert's action is on the alert's dimension, whatever the form sends.
    form = ActionForm(dimensions, fixed_dimension=alert.dimension if alert else None)
    return carry_out(
        form,
        lambda: actions_service.record_action(
            rel,
            dimension_key=form.dimension.data,
            alert=alert,
            actor=acting_user(),
            **form.terms(),
        ),
        refused_on=form.what,
        done=_l("Action recorded"),
        then=url_for("actions.relationship", relationship_id=rel.id),
    ) or form_page("actions/form.html", form, relationship=rel, alert=alert, action=None)


@bp.route("/<int:relationship_id>/<int:action_id>/edit", methods=["GET", "POST"])
@requires("manager")
def edit_action(relationship_id: int, action_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    action = action_or_404(rel, action_id)
    # the dimension of an action never changes
    form = ActionForm(
        actions_service.dimension_choices(rel), obj=action, fixed_dimension=action.dimension_key
    )
    return carry_out(
        form,
        lambda: actions_service.update_action(action, actor=acting_user(), **form.terms()),
        refused_on=form.what,
        done=_l("Action saved"),
        then=url_for("actions.relationship", relationship_id=rel.id),
    ) or form_page("actions/form.html", form, relationship=rel, alert=None, action=action)
