"""Error pages (GOV.UK style), JSON for API clients; any server error rolls back.

Every JSON error of the service, the API's included, has one shape:
``{"error": {"code": "...", "message": "..."}}`` (:func:`json_error`), and a 405 always says
which methods are allowed (``Allow``).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

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


#: The ``code`` of a JSON error with no more particular one, by status.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}


def json_error(
    status: int, message: str, code: str | None = None, *, allow: Iterable[str] = ()
) -> Response:
    """The service's one JSON error: ``{"error": {"code", "message"}}`` with its status (and
    ``Allow`` for a 405)."""
    response = jsonify(
        {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message}}
    )
    response.status_code = status
    if allow:
        response.headers["Allow"] = ", ".join(allow)
    return response


def allowed_methods(exc: Exception) -> list[str]:
    """The methods a 405 allows (empty for any other error)."""
    if isinstance(exc, MethodNotAllowed):
        return sorted(exc.valid_methods or ())
    return []


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(status: int, message: str | None = None, allow: Iterable[str] = ()):  # type: ignore[no-untyped-def]
    title = TITLES.get(status, "There is a problem")
    if _wants_json():
        return json_error(status, message or title, allow=allow)
    template = "errors/404.html" if status == 404 else "errors/error.html"
    headers = {"Allow": ", ".join(allow)} if allow else {}
    return render_template(template, status=status, title=title, message=message), status, headers


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
        return _render(status, message, allowed_methods(exc))

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, _safe_path())
        return _render(500)


def _safe_path() -> str:
    return redact(request.path)
