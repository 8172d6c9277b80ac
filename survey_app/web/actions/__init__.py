"""``/actions``: managers record the actions agreed on a relationship's alerts or dimensions
(blueprint ``actions``)."""

from survey_app.web.actions.routes import bp

__all__ = ["bp"]
