"""``/admin/import``: an administrator uploads historical responses (blueprint ``imports``)."""

from survey_app.web.admin_import.routes import bp

__all__ = ["bp"]
