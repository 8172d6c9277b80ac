"""The second step of a password sign-in: a TOTP code (``/sign-in/code``), or — for an admin
without one yet — setting it up (``/sign-in/set-up-code``). Until then the session holds only
who passed the password step (with their session stamp, for 5 minutes), never a signed-in user;
5 wrong codes end it."""

from __future__ import annotations

import time

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SubmitField

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services.accounts import sign_in as auth_service
from survey_app.services.accounts import totp
from survey_app.web.access import public
from survey_app.web.auth.routes import PENDING, bp, landing_page, safe_next, start_session
from survey_app.web.fields import text_field

SECRET = "_second_factor_secret"  # noqa: S105 (a session key)
LIFETIME = 300
MAX_TRIES = 5


class CodeForm(FlaskForm):
    code = text_field(
        _l("Code"), required=_l("Enter the code from your authenticator app"), max_length=40
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


def _pending() -> tuple[User, dict] | None:
    kept = session.get(PENDING)
    if not isinstance(kept, dict) or not 0 <= time.time() - kept.get("at", 0) <= LIFETIME:
        return None
    user = db.session.get(User, kept.get("user") or 0)
    if user is None or not user.active or auth_service.session_stamp(user) != kept.get("stamp"):
        return None
    return user, kept


def _wrong(form: CodeForm, kept: dict) -> None:
    kept["tries"] += 1
    session[PENDING] = kept
    form.code.errors = [*form.code.errors, _("Enter a correct code")]


def _finish(user: User, kept: dict) -> WerkzeugResponse:
    db.session.commit()
    target = safe_next(kept.get("next"))
    start_session(user)
    return redirect(target or landing_page(), 303)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def second_factor() -> ResponseReturnValue:
    found = _pending()
    if found is None or found[0].totp_secret is None or found[1]["tries"] >= MAX_TRIES:
        session.pop(PENDING, None)
        return redirect(url_for("auth.sign_in"))
    user, kept = found
    form = CodeForm()
    if form.validate_on_submit():
        if totp.verify(user, form.code.data):
            return _finish(user, kept)
        db.session.commit()  # the failure's audit row
        _wrong(form, kept)
    page = render_template("auth/second_factor.html", form=form)
    return page, (400 if form.errors else 200)


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@public
def set_up_second_factor() -> ResponseReturnValue:
    found = _pending()
    if found is None or found[0].totp_secret is not None or found[1]["tries"] >= MAX_TRIES:
        session.pop(PENDING, None)
        return redirect(url_for("auth.sign_in"))
    user, kept = found
    if not isinstance(session.get(SECRET), str):
        session[SECRET] = totp.new_secret()
    sealed = session[SECRET]
    form = CodeForm()
    if form.validate_on_submit():
        codes = totp.confirm_setup(user, sealed, form.code.data)
        if codes is not None:
            db.session.commit()
            target = safe_next(kept.get("next")) or landing_page()
            start_session(user)
            return render_template("auth/recovery_codes.html", codes=codes, next=target)
        _wrong(form, kept)
    page = render_template(
        "auth/set_up_second_factor.html",
        form=form,
        key=totp.setup_key(sealed),
        uri=totp.setup_uri(sealed, user),
        method=request.method,
    )
    return page, (400 if form.errors else 200)
