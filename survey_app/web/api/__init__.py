"""The read-only JSON API (``/api/v1``); users manage their tokens in :mod:`survey_app.web.api_tokens`.

An API request is authenticated by ``Authorization: Bearer <token>`` (a per-user token, see
:mod:`survey_app.services.api_tokens`) or, for someone using it from a signed-in browser, by
their session. The token is read by a Flask-Login request loader, installed when the
blueprint is registered, so the one access check of :mod:`survey_app.web.access` treats a
token's owner exactly like a signed-in user with the same role.

Its rooms: ``routes`` (the endpoints and the shapes they answer), ``parameters`` (reading the
query and cutting pages), ``errors`` (every failure as JSON), ``auth`` (bearer tokens) and
``openapi`` (the document that describes it all).
"""

from survey_app.extensions import login_manager
from survey_app.web.api import portfolio  # noqa: F401 (its routes join the blueprint)
from survey_app.web.api.auth import load_user_from_request
from survey_app.web.api.routes import bp


def _install_token_loader(state) -> None:  # type: ignore[no-untyped-def]
    login_manager.request_loader(load_user_from_request)


bp.record_once(_install_token_loader)

__all__ = ["bp"]
