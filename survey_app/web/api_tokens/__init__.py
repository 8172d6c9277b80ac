"""``/account/api-tokens``: a signed-in user's API tokens (blueprint ``api_tokens``)."""

from survey_app.web.api_tokens.routes import bp

__all__ = ["bp"]
