"""Staff accounts: sign-in pages, the Flask-Login wiring, and the navigation they see.

``init_app`` configures the login manager ("strong" session protection; a session names its
user together with a stamp of the password hash and the time of sign-in, see
:func:`survey_app.services.accounts.sign_in.user_for_session`). An anonymous visitor to a protected page
is sent to ``/sign-in?next=<path>`` (GET) or ``/sign-in`` (other methods); under ``/api/``
the answer is 401 instead.
"""

from __future__ import annotations

import time

from flask import Flask, abort, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.extensions import login_manager
from survey_app.models import User
from survey_app.services.accounts import sign_in as auth_service
from survey_app.web.auth import federated as _federated  # noqa: F401 (its routes on bp)
from survey_app.web.auth import second_factor as _second_factor  # noqa: F401 (routes on bp)
from survey_app.web.auth.routes import SIGNED_IN_AT_KEY, STAMP_KEY, bp, navigation, safe_next

__all__ = ["bp", "init_app", "safe_next"]


def _load_user(user_id: str) -> User | None:
    return auth_service.user_for_session(
        user_id,
        stamp=session.get(STAMP_KEY),
        signed_in_at=session.get(SIGNED_IN_AT_KEY),
        now=time.time(),
    )


def _unauthorized() -> WerkzeugResponse:
    if request.path.startswith("/api/"):
        abort(401, description="Sign in, or send a valid API token, to use this.")
    if request.method == "GET":
        query = request.query_string.decode("utf-8", "replace")
        target = safe_next(request.path + (f"?{query}" if query else ""))
        return redirect(url_for("auth.sign_in", next=target))
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.add_template_global(navigation, "account_navigation")
