"""The manager dashboard (``/dashboard``): health, perception gaps, hot spots and alerts."""

from survey_app.web.dashboard.routes import bp

__all__ = ["bp"]
