"""``/account/api-tokens``: a signed-in user creates API tokens (each shown once) and revokes them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from survey_app.extensions import db
from survey_app.models import Relationship
from survey_app.services.accounts import api_tokens
from survey_app.services.relationships import all_relationships
from survey_app.web.access import current_scope, signed_in
from survey_app.web.api_tokens.forms import ALL, NewTokenForm, RevokeForm
from survey_app.web.loading import relationship_or_404
from survey_app.web.submissions import REFUSED, acting_user, attempt, form_page

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")
signed_in(bp)  # every account: admins, managers and reviewers may read the API


def _new_token_form(reachable: list[Relationship], **kwargs: Any) -> NewTokenForm:
    form = NewTokenForm(**kwargs)
    form.reach.offer(
        [(ALL, _("Everything my account can read")), *((str(r.id), r.name) for r in reachable)]
    )
    return form


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    user = acting_user()
    reachable = all_relationships(scope=current_scope())
    form = _new_token_form(reachable)
    issued = None
    if form.validate_on_submit():
        only = None if form.reach.data == ALL else relationship_or_404(int(form.reach.data))
        created = attempt(
            lambda: api_tokens.create_token(
                user, form.name.data, lifetime_days=form.days.data, relationship=only
            ),
            refused_on=form.name,
        )
        if created is not REFUSED:
            issued = created
            form = _new_token_form(reachable, formdata=None)  # the boxes as new again
    response = make_response(
        form_page("api_tokens/index.html", form, issued=issued, tokens=api_tokens.tokens_of(user))
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a token shown once
    return response


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        record = api_tokens.revoke_token(acting_user(), token_id)
    except LookupError:
        abort(404)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=record.name), "api-tokens")
    return redirect(url_for("api_tokens.index"))
