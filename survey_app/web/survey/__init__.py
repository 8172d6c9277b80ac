"""The respondent journey under ``/s/<token>`` and ``/survey/...`` (no account; anonymous)."""

from survey_app.web.survey.routes import bp

__all__ = ["bp"]
