"""People who sign in: users, sign-in and sessions, OpenID Connect, API tokens."""

from survey_app.services.accounts import api_tokens, sign_in, users

__all__ = [
    "api_tokens",
    "oidc",
    "sign_in",
    "users",
]
