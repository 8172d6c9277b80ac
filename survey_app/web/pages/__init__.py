"""Service-wide pages: home, accessibility statement, cookies, privacy notice."""

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    return render_template("pages/index.html")


@bp.get("/accessibility", endpoint="accessibility", defaults={"page": "accessibility"})
@bp.get("/cookies", endpoint="cookies", defaults={"page": "cookies"})
@bp.get("/privacy", endpoint="privacy", defaults={"page": "privacy"})
def statement(page: str) -> str:
    """The accessibility statement, the cookies page and the privacy notice."""
    return render_template(f"pages/{page}.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200
