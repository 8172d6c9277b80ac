"""Extensions, created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import session
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from survey_app.models.base import Base


class StaffLoginManager(LoginManager):
    """Flask-Login with "strong" session protection that leaves alone sessions with nobody
    signed in: a respondent's session (which holds only their survey) is not rewritten,
    nor a remember-me cookie cleared, on every page that mentions ``current_user``."""

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
login_manager = StaffLoginManager()
