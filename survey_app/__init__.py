"""Relationship Health web service: ``create_app`` wires configuration, extensions,
the GOV.UK template loaders, blueprints, error pages and the CLI."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask.cli import FlaskGroup
from flask.logging import default_handler
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from survey_app import cli, database, web
from survey_app.config import Config
from survey_app.extensions import csrf, db, migrate
from survey_app.logging_redaction import RedactSurveyTokens
from survey_app.services import MAX_ID
from survey_app.services.jobs import init_app as init_job_queue
from survey_app.services.mailing import check_mail_config
from survey_app.web import (
    access,
    actions,
    admin,
    admin_import,
    api,
    api_tokens,
    auth,
    dashboard,
    downloads,
    errors,
    jobs,
    languages,
    pages,
    people,
    survey,
)

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings (tests pass theirs here)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("RELHEALTH_INSTANCE_PATH") or None,
        static_url_path="/assets",
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    # A path with "//" (an empty part, or a %2F that WSGI decodes) is not found, not redirected:
    # werkzeug's default answers a POST to it with a 308 to another address (found by the fuzz
    # tests: a target's key "0/" in .../targets/0%2F/remove).
    app.url_map.merge_slashes = False
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    database.init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    init_job_queue(app)  # huey (SQLite file or Redis): wakes workers when a job is committed
    auth.init_app(app)  # Flask-Login: sessions, user loader, the way to the sign-in page
    access.init_app(app)  # every request: the view's declared access, before the CSRF check
    csrf.init_app(app)
    WTFormsHelpers(app)
    _configure_templates(app)
    web.init_app(app)  # the template filters every page may use
    languages.init_app(app)  # Welsh and English: each page in the reader's language
    _configure_security_headers(app)
    _configure_logging(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(survey.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(downloads.bp)  # /downloads (reviewers)
    app.register_blueprint(admin_import.bp)  # /admin/import (admins)
    admin.init_app(app)  # /admin (admins): survey administration
    app.register_blueprint(actions.bp)  # /actions (managers)
    app.register_blueprint(dashboard.bp)  # /dashboard (managers)
    app.register_blueprint(api.bp)  # /api/v1 (read-only JSON, bearer tokens)
    app.register_blueprint(api_tokens.bp)  # /account/api-tokens (any signed-in account)
    app.register_blueprint(jobs.bp)  # /jobs/<id>: progress pages (whoever asked, and admins)
    app.register_blueprint(people.bp)  # /admin/people (admins): invite, roles, switch off
    app.register_blueprint(people.organisations_bp)  # /admin/organisations: sign-in settings
    app.register_blueprint(people.account_bp)  # /account/password, reset and invitation links
    access.public(pages.bp)
    access.public(survey.bp)  # respondents have no account
    errors.init_app(app)

    cli.init_app(app)
    check_mail_config(app.config)  # a wrong SMTP_* setting stops the start, naming it
    return app


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: at most MAX_ID, so that a huge number in a URL is a 404 rather
    than a query the database cannot run (SQLite overflows past 64 bits)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # type: ignore[no-untyped-def]
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def _instance_secret(instance: Path) -> str:
    """Without SECRET_KEY, one random key kept in the instance folder (shared by all workers)."""
    path = instance / "secret_key"
    if not path.exists():
        tmp = instance / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first process to get here wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("survey_app"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"service_name": app.config["SERVICE_NAME"], "cspNonce": csp_nonce()}


def csp_nonce() -> str:
    """A per-request nonce for the one inline script of the GOV.UK template."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _configure_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src {script_src}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Survey links carry a token: never let it leave in a Referer header.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.path.startswith(("/s/", "/survey")):
            response.headers["Cache-Control"] = "no-store"
        return response


def _configure_logging(app: Flask) -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSurveyTokens) for f in logger.filters):
            logger.addFilter(RedactSurveyTokens())
    # Flask's handler: the app's own records (from every survey_app.* logger) pass through it.
    if not any(isinstance(f, RedactSurveyTokens) for f in default_handler.filters):
        default_handler.addFilter(RedactSurveyTokens())


def main() -> None:
    """The ``relhealth`` console script: Flask's command line over :func:`create_app`."""
    group = FlaskGroup(
        create_app=create_app, help="Relationship Health: survey and scoring service."
    )
    group(prog_name="relhealth")
