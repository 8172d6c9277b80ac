"""``/actions/<id>/targets``: managers record the target both sides agreed for a dimension (or
the health index) and when, or remove it. The dashboard shows the distance to each target."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SubmitField
from wtforms.validators import ValidationError

from survey_app.services import targets as targets_service
from survey_app.web.access import requires
from survey_app.web.actions.routes import bp
from survey_app.web.fields import GovDateField, ListedSelectField, text_field
from survey_app.web.loading import relationship_or_404
from survey_app.web.submissions import acting_user, carry_out

MEAN = re.compile(r"\d(\.\d{1,2})?")


def _a_mean(form: Any, field: Any) -> None:
    if not MEAN.fullmatch(field.data or ""):
        raise ValidationError(_l("Enter the target as a mean such as 3.8 or 4.25"))


class TargetForm(FlaskForm):
    dimension = ListedSelectField(
        _l("What the target is for"),
        prompt=_l("Select the health index or a dimension"),
        required_message=_l("Select what the target is for"),
        invalid_message=_l("Select the health index or one of the dimensions listed"),
    )
    target = text_field(
        _l("Agreed target (mean on the 1 to 5 scale)"),
        description=_l("The mean both sides agreed to reach, for example 3.8."),
        required=_l("Enter the agreed target"),
        max_length=4,
        too_long=_l("Enter the target as a mean such as 3.8 or 4.25"),
        checks=[_a_mean],
    )
    agreed_on = GovDateField(
        _l("Date both sides agreed it"),
        description=_l("For example, 30 6 2013"),
        required_message=_l("Enter the date both sides agreed the target"),
    )
    submit = SubmitField(_l("Save target"), widget=GovSubmitInput())


class RemoveForm(FlaskForm):
    submit = SubmitField(_l("Remove"), widget=GovSubmitInput())


@bp.route("/<int:relationship_id>/targets", methods=["GET", "POST"])
@requires("manager")
def targets(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    choices = targets_service.target_choices(rel)
    form = TargetForm()
    form.dimension.offer(choices)
    done = carry_out(
        form,
        lambda: targets_service.record_target(
            rel,
            form.dimension.data,
            float(form.target.data),
            form.agreed_on.data,
            actor=acting_user(),
        ),
        refused_on=form.target,
        done=_l("Target saved"),
        then=url_for("actions.targets", relationship_id=rel.id),
    )
    if done is not None:
        return done
    return render_template(
        "actions/targets.html",
        form=form,
        remove=RemoveForm(formdata=None),
        relationship=rel,
        agreed=targets_service.targets_of(rel),
        choices=choices,
        rule=targets_service.RATING_RULE,
    ), (400 if form.errors else 200)


@bp.post("/<int:relationship_id>/targets/<dimension>/remove")
@requires("manager")
def remove_target(relationship_id: int, dimension: str) -> WerkzeugResponse:
    rel = relationship_or_404(relationship_id)
    if dimension not in targets_service.targets_of(rel):
        abort(404)
    form = RemoveForm()
    done = carry_out(
        form,
        lambda: targets_service.remove_target(rel, dimension, actor=acting_user()),
        refused_on=form.submit,
        done=_l("Target removed"),
        then=url_for("actions.targets", relationship_id=rel.id),
    )
    if done is None:
        abort(400)
    return done
