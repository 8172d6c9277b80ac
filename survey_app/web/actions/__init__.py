"""``/actions``: managers record the actions agreed on a relationship's alerts or dimensions
and the targets both sides agreed (blueprint ``actions``)."""

from survey_app.web.actions import targets  # noqa: F401 (its routes join the blueprint)
from survey_app.web.actions.routes import bp

__all__ = ["bp"]
