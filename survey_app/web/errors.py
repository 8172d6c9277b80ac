"""Error pages (GOV.UK style), JSON for API clients; any server error rolls back."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey_app.extensions import db
from survey_app.logging_redaction import redact

TITLES = {
    400: "There is a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That has already been done",
    410: "This page is no longer available",
    413: "What you sent is too large",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(status: int, message: str | None = None):  # type: ignore[no-untyped-def]
    title = TITLES.get(status, "There is a problem")
    if _wants_json():
        return {"error": {"status": status, "title": title, "message": message or title}}, status
    template = "errors/404.html" if status == 404 else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return _render(
            400,
            "This form has expired or was not sent from this service. "
            "Go back, reload the page and try again: nothing was saved.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        db.session.rollback()
        status = exc.code or 500
        message = exc.description if status not in (404, 500) else None
        return _render(status, message)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, _safe_path())
        return _render(500)


def _safe_path() -> str:
    return redact(request.path)
