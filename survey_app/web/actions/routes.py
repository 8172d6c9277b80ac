"""``/actions``: managers record the actions agreed on a relationship's alerts or dimensions,
keep their status up to date, and see what has changed since each one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Wave
from survey_app.services import ServiceError
from survey_app.services import actions as actions_service
from survey_app.services import relationships as relationships_service
from survey_app.web.access import requires
from survey_app.web.actions.forms import ActionForm
from survey_app.web.loading import action_or_404, relationship_or_404

bp = Blueprint("actions", __name__, url_prefix="/actions")
requires("manager")(bp)  # managers, and admins (roles nest)

SUCCESS = "admin-success"


@bp.get("/")
@requires("manager")
def index() -> str:
    return render_template(
        "actions/index.html", relationships=relationships_service.relationship_rows()
    )


@bp.get("/<int:relationship_id>/")
@requires("manager")
def relationship(relationship_id: int) -> str:
    rel = relationship_or_404(relationship_id)
    actions = actions_service.actions_for(rel)
    open_waves = db.session.scalars(
        select(Wave).where(Wave.relationship_id == rel.id, Wave.state == "open").order_by(Wave.id)
    ).all()
    return render_template(
        "actions/relationship.html",
        relationship=rel,
        actions=actions,
        changes=actions_service.changes_since_actions(actions),
        alerts=actions_service.current_alerts(rel),
        titles=dict(actions_service.dimension_choices(rel)),
        open_waves=open_waves,
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
    if form.validate_on_submit():
        try:
            actions_service.record_action(
                rel,
                dimension_key=form.dimension.data,
                what=form.what.data,
                owner=form.owner.data,
                due_on=form.due_on.data,
                status=form.status.data,
                alert=alert,
                actor=_actor(),
            )
        except ServiceError as exc:
            _refused(form.what, exc)
        else:
            db.session.commit()
            flash("Action recorded", SUCCESS)
            return redirect(url_for("actions.relationship", relationship_id=rel.id))
    return render_template(
        "actions/form.html", form=form, relationship=rel, alert=alert, action=None
    ), (400 if form.errors else 200)


@bp.route("/<int:relationship_id>/<int:action_id>/edit", methods=["GET", "POST"])
@requires("manager")
def edit_action(relationship_id: int, action_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    action = action_or_404(rel, action_id)
    dimensions = actions_service.dimension_choices(rel)
    form = ActionForm(
        dimensions,
        data={
            "dimension": action.dimension_key,
            "what": action.what,
            "owner": action.owner,
            "due_on": action.due_on,
            "status": action.status,
        },
        fixed_dimension=action.dimension_key,  # the dimension of an action never changes
    )
    if form.validate_on_submit():
        try:
            actions_service.update_action(
                action,
                what=form.what.data,
                owner=form.owner.data,
                due_on=form.due_on.data,
                status=form.status.data,
                actor=_actor(),
            )
        except ServiceError as exc:
            _refused(form.what, exc)
        else:
            db.session.commit()
            flash("Action saved", SUCCESS)
            return redirect(url_for("actions.relationship", relationship_id=rel.id))
    return render_template(
        "actions/form.html", form=form, relationship=rel, alert=None, action=action
    ), (400 if form.errors else 200)


def _actor() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _refused(field: Any, exc: ServiceError) -> None:
    db.session.rollback()
    message = str(exc)
    field.errors = [*field.errors, message[:1].upper() + message[1:]]
