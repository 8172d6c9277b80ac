"""The manager dashboard (``/dashboard``): health, perception gaps, hot spots and alerts; the
charts as files and the board pack (``files``)."""

from survey_app.web.dashboard import files  # noqa: F401 (its routes join the blueprint)
from survey_app.web.dashboard.routes import bp

__all__ = ["bp"]
