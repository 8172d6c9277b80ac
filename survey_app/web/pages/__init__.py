"""Service-wide pages: home, accessibility statement, cookies, privacy notice."""

from datetime import date

from flask import Blueprint, render_template

from survey_app.web.loading import relationship_or_404

bp = Blueprint("pages", __name__)
#: When the accessibility statement was last tested and reviewed (update it with the text).
STATEMENT_DATE = date(2026, 12, 3)


@bp.get("/")
def index() -> str:
    return render_template("pages/index.html")


@bp.get("/accessibility", endpoint="accessibility", defaults={"page": "accessibility"})
@bp.get("/cookies", endpoint="cookies", defaults={"page": "cookies"})
@bp.get("/privacy", endpoint="privacy", defaults={"page": "privacy"})
def statement(page: str) -> str:
    """The accessibility statement, the cookies page and the privacy notice."""
    return render_template(f"pages/{page}.html", statement_date=STATEMENT_DATE)


@bp.get("/privacy/<int:relationship_id>")
def relationship_privacy(relationship_id: int) -> str:
    """The privacy notice of one relationship's surveys: its controller and their details."""
    rel = relationship_or_404(relationship_id)
    return render_template("pages/privacy.html", relationship=rel)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200
