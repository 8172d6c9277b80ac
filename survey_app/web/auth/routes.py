"""Sign in and sign out (``/sign-in``, ``/sign-out``)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services import audit
from survey_app.services.accounts import federated, totp
from survey_app.services.accounts import sign_in as auth_service
from survey_app.services.accounts.sign_in import WRONG_DETAILS
from survey_app.texts import N_
from survey_app.web.access import accessible, public
from survey_app.web.auth.forms import SignInForm
from survey_app.web.languages import adopt_session_language, fresh_session, remember
from survey_app.web.submissions import acting_user

bp = Blueprint("auth", __name__)

STAMP_KEY = "_auth_stamp"
#: Who passed the password step and must still give a second factor (web/auth/second_factor).
PENDING = "_second_factor"
SIGNED_IN_AT_KEY = "_signed_in_at"
#: The hash of the account link (an invitation, a reset) opened in this browser.
ACCOUNT_LINK = "_account_link"

#: The sections a signed-in user may be shown, in order: each appears in the service
#: navigation when its endpoint exists and the user's role may use it.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("dashboard.index", N_("Dashboard")),
    ("downloads.index", N_("Downloads")),
    ("admin.index", N_("Administration")),
    ("imports.upload", N_("Import responses")),
    ("actions.index", N_("Actions")),
    ("people.index", N_("People")),
    ("api_tokens.index", N_("API tokens")),
    ("account.index", N_("Your account")),
)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/...``), else ``None``: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def landing_page() -> str:
    """Where a signed-in user starts: their first section, else the home page."""
    sections = accessible(endpoint for endpoint, _label in SECTIONS)
    return url_for(sections[0]) if sections else url_for("pages.index")


def start_session(user) -> None:  # type: ignore[no-untyped-def]
    """Sign ``user`` in on a fresh session (whatever the old one held is dropped, but for the
    language chosen, which the account adopts if it has none)."""
    kept = fresh_session()
    login_user(user)
    session[STAMP_KEY] = auth_service.session_stamp(user)
    session[SIGNED_IN_AT_KEY] = int(time.time())
    adopt_session_language(user, kept)


def after_password(user: User, target: str | None) -> WerkzeugResponse:
    """Sign in — or first ask for the second factor, or have an admin set one up."""
    if not totp.second_factor_follows(user):
        start_session(user)
        return redirect(target or landing_page())
    fresh_session()
    session[PENDING] = {
        "user": user.id,
        "stamp": auth_service.session_stamp(user),
        "at": time.time(),
        "tries": 0,
        "next": target,
    }
    endpoint = "auth.second_factor" if user.totp_secret else "auth.set_up_second_factor"
    return redirect(url_for(endpoint), 303)


def too_many_attempts(retry_after: int, **page: object):  # type: ignore[no-untyped-def]
    """The 429 page while the sign-in throttle pauses an action, for ``retry_after`` seconds
    (``page``: its ``heading``, what is ``paused`` and the ``next`` page after sign-in)."""
    minutes = max(1, -(-retry_after // 60))
    page.setdefault("next", None)
    return (
        render_template("auth/too_many_attempts.html", minutes=minutes, **page),
        429,
        {"Retry-After": str(retry_after)},
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():  # type: ignore[no-untyped-def]
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or landing_page())
    form = SignInForm()
    if form.validate_on_submit():
        outcome = auth_service.authenticate(
            form.email.data, form.password.data, client_address=request.remote_addr or ""
        )
        db.session.commit()
        if outcome.retry_after:
            return too_many_attempts(
                outcome.retry_after,
                heading=_("Too many attempts to sign in"),
                paused=_("signing in with these details"),
                next=target,
            )
        if outcome.user is not None:
            return after_password(outcome.user, target)
        problem = outcome.problem or WRONG_DETAILS
        form.email.errors = [*form.email.errors, _(problem)]
    page = render_template(
        "auth/sign_in.html", form=form, providers=federated.providers(), next=target
    )
    return page, (400 if form.errors else 200)


@bp.post("/sign-out")
@public
def sign_out() -> WerkzeugResponse:
    """Sign out (POST with the CSRF token only: a link or an image cannot sign anyone out)."""
    language = None
    if current_user.is_authenticated:
        language = current_user.language
        audit.record("sign_out", actor=acting_user())
        db.session.commit()
        logout_user()
    fresh_session()
    remember(language)  # the sign-in page after it is still in the person's language
    flash(_("You have signed out"), "signed-out")
    return redirect(url_for("auth.sign_in"))


def navigation() -> list[dict[str, object]]:
    """The service navigation's links for the current user (``navigation`` in base.html)."""
    items: list[dict[str, object]] = []
    for endpoint in accessible(endpoint for endpoint, _label in SECTIONS):
        items.append(
            {
                "href": url_for(endpoint),
                "text": _(dict(SECTIONS)[endpoint]),
                "active": request.blueprint == endpoint.partition(".")[0],
            }
        )
    return items
