"""Downloads for reviewers (and admins): results tables, raw responses and the codebook."""

from survey_app.web.downloads.routes import bp

__all__ = ["bp"]
