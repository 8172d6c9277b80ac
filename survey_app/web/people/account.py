"""A person's own password: change it (signed in); forgotten → a reset link by e-mail; the
single-use link (an invitation or a reset) → set a password.

``/account/link/<token>`` swaps the token for its hash in the signed session and redirects, so
the token appears in no later URL, log line or ``Referer`` (as a survey link does)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from instruments import LANGUAGES
from survey_app.extensions import db
from survey_app.services import ServiceError
from survey_app.services.accounts import links
from survey_app.services.accounts.sign_in import local_password_usable, reset_request_wait
from survey_app.services.tokens import hash_token
from survey_app.web.access import can_access, public, signed_in
from survey_app.web.auth.routes import ACCOUNT_LINK, safe_next, too_many_attempts
from survey_app.web.languages import (
    choose_and_remember,
    chosen_language,
    current_language,
    fresh_session,
)
from survey_app.web.loading import Missing
from survey_app.web.people.forms import (
    ChangePasswordForm,
    ForgottenForm,
    LanguageForm,
    LanguageSwitchForm,
    NewPasswordForm,
)
from survey_app.web.submissions import acting_user, carry_out, form_page, show_refusal

bp = Blueprint("account", __name__)
LINK = ACCOUNT_LINK


@bp.route("/sign-in/forgotten", methods=["GET", "POST"])
@public
def forgotten() -> ResponseReturnValue:
    form = ForgottenForm()
    if form.validate_on_submit():
        wait = reset_request_wait(form.email.data, request.remote_addr or "")
        if wait:
            return too_many_attempts(
                wait,
                heading=_("Too many requests for a reset link"),
                paused=_("sending links to this email address"),
            )
        found = links.request_reset(form.email.data)
        if found is not None:
            try:
                links.send_link(*found, "reset", chosen_language())
            except ServiceError as exc:
                show_refusal(form.email, exc)
                return form_page("people/forgotten.html", form, error_status=503)
        db.session.commit()
        message = _(
            "If %(email)s has an account that signs in with a password, a link to reset it is "
            "on its way. It works once, within %(minutes)s minutes.",
            email=form.email.data,
            minutes=links.RESET_MINUTES,
        )
        return render_template("people/sent.html", message=message)
    return form_page("people/forgotten.html", form)


@bp.get("/account/link/<token>")
@public
def open_link(token: str) -> ResponseReturnValue:
    token_hash = hash_token(token)
    if len(token) > 100 or links.holder_of(token_hash) is None:
        raise Missing("This link has expired or has been used. Ask for a new one.")
    fresh_session()
    session[LINK] = token_hash
    return redirect(url_for("account.set_password"), 303)


@bp.route("/account/set-password", methods=["GET", "POST"])
@public
def set_password() -> ResponseReturnValue:
    token_hash = session.get(LINK)
    holder = links.holder_of(token_hash) if isinstance(token_hash, str) else None
    if holder is None:
        raise Missing("This link has expired or has been used. Ask for a new one.")
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            links.set_password_by_link(token_hash, form.password.data, form.confirmation.data)
        except ServiceError as exc:
            show_refusal(form.password, exc)
        else:
            db.session.commit()
            session.pop(LINK, None)
            flash(_("Your password is set: sign in with it"), "signed-out")
            return redirect(url_for("auth.sign_in"), 303)
    organisation = holder.user.organisation
    provider = (
        organisation
        if holder.link.purpose == "invite" and organisation and organisation.signs_in_with_oidc
        else None
    )  # an invitation may be taken up by signing in through the organisation instead
    return form_page(
        "people/set_password.html",
        form,
        person=holder.user,
        provider=provider,
        passwords=provider is None or provider.local_passwords_allowed,
    )


@bp.route("/account/", methods=["GET", "POST"])
@signed_in
def index() -> ResponseReturnValue:
    """The signed-in user's account: their language (for their pages and their emails), and
    the ways to their password and API tokens."""
    user = acting_user()
    form = LanguageForm(data={"language": user.language or current_language()})

    def choose() -> None:
        choose_and_remember(user, form.language.data)
        refresh()  # the message saying so is in the language just chosen

    done = carry_out(
        form,
        choose,
        refused_on=form.language,
        done=lambda _result: _("Your language is saved"),
        then=url_for("account.index"),
    )
    return done or form_page(
        "people/account.html",
        form,
        person=user,
        password=local_password_usable(user),
        tokens=can_access("api_tokens.index"),
    )


@bp.post("/account/language")
@signed_in
def language() -> ResponseReturnValue:
    """The header's language switch of a signed-in user (a POST with the CSRF token: a link on
    another site cannot change their preference): their choice saved, then back to the page
    they were on (``next``, a path on this site), in the language chosen."""
    form = LanguageSwitchForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form has expired: go back and try again"))
    chosen = request.form.get("language")
    if chosen not in LANGUAGES:
        abort(400, description=_("Choose English or Welsh"))
    choose_and_remember(acting_user(), chosen)
    db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("account.index"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            links.change_password(
                acting_user(), form.current.data, form.password.data, form.confirmation.data
            )
        except ServiceError as exc:
            show_refusal(form.current, exc)
        else:
            db.session.commit()
            flash(_("Your password is changed: sign in again with it"), "signed-out")
            fresh_session()
            return redirect(url_for("auth.sign_in"), 303)
    return form_page("people/change_password.html", form)
