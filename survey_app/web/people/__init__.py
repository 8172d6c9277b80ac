"""``/admin/people`` (administrators manage people) and ``/account/...`` (a person's own
password, and the single-use links e-mailed to them) — blueprints ``people`` and ``account``."""

from survey_app.web.people.account import bp as account_bp
from survey_app.web.people.routes import bp

__all__ = ["account_bp", "bp"]
