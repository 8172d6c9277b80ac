"""``/account/api-tokens``: a signed-in user creates API tokens (each shown once) and revokes them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey_app.extensions import db
from survey_app.services import ServiceError
from survey_app.services.accounts import api_tokens
from survey_app.web.access import signed_in
from survey_app.web.api_tokens.forms import NewTokenForm, RevokeForm

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")
signed_in(bp)  # every account: admins, managers and reviewers may read the API


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = NewTokenForm()
    issued = None
    if form.validate_on_submit():
        try:
            issued = api_tokens.create_token(user, form.name.data)
        except ServiceError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            form = NewTokenForm(formdata=None)
    response = make_response(
        render_template(
            "api_tokens/index.html",
            form=form,
            issued=issued,
            tokens=api_tokens.tokens_of(user),
        ),
        400 if form.errors else 200,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a token shown once
    return response


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        record = api_tokens.revoke_token(current_user._get_current_object(), token_id)
    except LookupError:
        abort(404)
    db.session.commit()
    flash(f"The token “{record.name}” is revoked: it no longer works.", "api-tokens")
    return redirect(url_for("api_tokens.index"))
