"""Survey administration: ``/admin`` (blueprint ``admin``, for admins; its response-rate
monitor for managers too) and ``/actions`` (blueprint ``actions``, for managers)."""

from flask import Flask

from survey_app.web.admin import preview  # noqa: F401  (adds the preview views to ``bp``)
from survey_app.web.admin.actions import bp as actions_bp
from survey_app.web.admin.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(actions_bp)


__all__ = ["actions_bp", "bp", "init_app"]
