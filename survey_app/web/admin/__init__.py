"""``/admin``: survey administration (blueprint ``admin``, for admins; its response-rate
monitor for managers too), with the questionnaire previews."""

from flask import Flask

from survey_app.web.admin import emails, preview  # noqa: F401  (add their views to ``bp``)
from survey_app.web.admin.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
