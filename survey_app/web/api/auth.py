"""Bearer-token authentication of API requests."""

from __future__ import annotations

from flask import Request, g

from survey_app.models import User
from survey_app.services.accounts import api_tokens
from survey_app.web.access import TOKEN_RELATIONSHIP

_CHECKED = "api_token_checked"
_USER = "api_token_user"


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def token_user(request: Request) -> User | None:
    """The owner of the request's bearer token (looked up once per request), else ``None``."""
    if _CHECKED not in g:
        token = bearer_token(request.headers.get("Authorization"))
        holder = api_tokens.holder_of(token) if token else None
        setattr(g, _USER, holder.user if holder else None)
        setattr(g, TOKEN_RELATIONSHIP, holder.relationship_id if holder else None)
        setattr(g, _CHECKED, True)
    return g.get(_USER)


def load_user_from_request(request: Request) -> User | None:
    """Flask-Login request loader: API paths only, and only with a bearer token."""
    if not request.path.startswith("/api/") or "Authorization" not in request.headers:
        return None
    return token_user(request)
