"""The API's errors: ``{"error": {"code": "...", "message": "..."}}`` with its status, for
every failure (a bad parameter, a missing or invalid token, a forbidden role, nothing at the
address, a method the read-only API does not take, a server error), each rolling back whatever
the request had begun. The shape is the service's one JSON error
(:func:`survey_app.web.errors.json_error`), so an error answered outside the blueprint (a
method the router refuses, say) looks the same."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from survey_app.extensions import db
from survey_app.web.errors import allowed_methods, json_error
from survey_app.web.loading import Missing

NOT_VALID = "The API token is not valid: it may be mistyped, revoked, or its account deactivated."
FORBIDDEN = "Your account's role cannot use the API."
NOTHING_HERE = "There is nothing at this address."


class ApiError(Exception):
    """A failure to answer as JSON with ``status`` and ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    response = json_error(status, message, code)
    if status == 401:
        challenge = 'Bearer realm="relationship-health"'
        if code == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def api_error(exc: ApiError) -> ResponseReturnValue:
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message)


def http_error(exc: HTTPException) -> ResponseReturnValue:
    db.session.rollback()
    status = exc.code or 500
    if status == 401:
        if "Authorization" in request.headers:
            return error_response(401, "invalid_token", NOT_VALID)
        return error_response(
            401, "missing_token", "Send an API token: Authorization: Bearer <token>."
        )
    if status == 403:
        return error_response(403, "forbidden", FORBIDDEN)
    if isinstance(exc, Missing):  # a relationship or wave the URL names
        return error_response(404, exc.api_code, exc.description or NOTHING_HERE)
    if status == 404:
        return error_response(404, "not_found", NOTHING_HERE)
    return json_error(status, exc.description or "Request failed.", allow=allowed_methods(exc))


def server_error(exc: Exception) -> ResponseReturnValue:
    db.session.rollback()
    current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", "Sorry, there is a problem with the service.")


def handle_errors(bp: Blueprint) -> None:
    """Answer every error of ``bp``'s views as JSON."""
    bp.register_error_handler(ApiError, api_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, server_error)
