"""Configuration, database settings, security headers and the service-wide pages."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from survey_app.config import Config, normalise_database_url
from survey_app.extensions import db
from survey_app.web.access import public


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(app, dialect):
    if dialect != "sqlite":
        pytest.skip("SQLite settings")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (
            conn.execute(text("PRAGMA busy_timeout")).scalar()
            == app.config["SQLITE_BUSY_TIMEOUT_MS"]
        )
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    from survey_app.config import Config

    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = Config(tmp_path)
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'relhealth.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert Config(tmp_path).SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_without_secret_key_one_key_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    from survey_app import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RELHEALTH_INSTANCE_PATH", str(tmp_path))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("path", ["/", "/accessibility", "/cookies", "/privacy"])
def test_service_pages_render_with_govuk_frontend(client, path):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "govuk-template" in html
    assert "/assets/govuk-frontend.min.css" in html
    assert re.search(r"<title>[^<]+ – Relationship Health</title>", html)


def test_every_page_sends_security_headers_with_a_nonce_for_the_inline_script(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers
    https = client.get("/", base_url="https://survey.test")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_headers_count_only_from_trusted_proxies(migrated, tmp_path, proxies):
    """Behind TRUSTED_PROXIES proxies the client's scheme and address are the forwarded ones
    (HSTS over HTTPS; the sign-in limit per client); otherwise anyone could send them."""
    from flask import request

    from tests.conftest import make_app

    app = make_app(migrated, tmp_path / "instance", TRUSTED_PROXIES=proxies)
    app.add_url_rule("/test-only/client", "test_client", public(lambda: request.remote_addr))
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = client.get("/", headers=forwarded)
    assert ("Strict-Transport-Security" in response.headers) == bool(proxies)
    seen = client.get("/test-only/client", headers=forwarded).get_data(as_text=True)
    assert seen == ("203.0.113.9" if proxies else "127.0.0.1")


def test_nonces_differ_between_requests(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_survey_pages_are_not_cached(client, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    assert client.get(f"/s/{token}").headers["Cache-Control"] == "no-store"


def test_unknown_pages_get_a_govuk_404_or_json_for_api_clients(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    api = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/actions/1/targets/0%2F/remove", "/actions//1/targets/x/remove"])
def test_a_path_with_an_empty_part_is_not_found_not_redirected(client, path):
    # werkzeug's default merges "//" (also from a %2F that WSGI decodes) and answers a POST
    # with a 308 to another address; the fuzz tests found it on a target's key
    response = client.post(path)
    assert response.status_code == 404 and "Location" not in response.headers


def test_the_govuk_assets_are_served(client):
    response = client.get("/assets/govuk-frontend.min.css")
    assert response.status_code == 200
    response.close()


def test_the_health_check_answers(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_printed_links_follow_gunicorn_bind_unless_a_public_url_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:8123")
    assert Config(tmp_path).PUBLIC_BASE_URL == "http://127.0.0.1:8123"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://survey.example.org")
    assert Config(tmp_path).PUBLIC_BASE_URL == "https://survey.example.org"
    monkeypatch.delenv("GUNICORN_BIND")
    monkeypatch.delenv("PUBLIC_BASE_URL")
    assert Config(tmp_path).PUBLIC_BASE_URL == "http://127.0.0.1:5000"


def test_make_run_says_where_it_serves():
    root = Path(__file__).resolve().parents[1]
    recipe = subprocess.run(
        ["make", "-n", "-C", str(root), "run"], capture_output=True, text=True, check=False
    ).stdout
    line = next(c for c in recipe.splitlines() if "Serving on" in c)
    said = subprocess.run(
        ["sh", "-c", line],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GUNICORN_BIND": "127.0.0.1:8123"},
    ).stdout
    assert said.startswith("Serving on http://127.0.0.1:8123 ")


def test_the_service_name_is_shown_once_in_the_header(client):
    html = client.get("/").get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    assert header.count("Relationship Health") == 1


def test_each_relationship_has_a_privacy_notice_with_its_controller_and_details(
    app, client, factory, runner
):
    rel = factory.relationship()
    html = client.get(f"/privacy/{rel.id}").get_data(as_text=True)
    assert "Test Council runs this survey and is the data controller" in html
    assert "Public task (UK GDPR Article 6(1)(e))" in html
    assert "kept for 24 months" in html
    assert "Email addresses used to send invitations and reminders are deleted when" in html
    said = runner.invoke(
        args=[
            "relationship", "privacy", rel.name, "--controller", "supplier",
            "--contact", "dpo@supplier.example", "--retention-months", "36",
        ]
    )  # fmt: skip
    assert said.exit_code == 0, said.output
    html = client.get(f"/privacy/{rel.id}").get_data(as_text=True)
    assert "Test Supplier runs this survey" in html and "dpo@supplier.example" in html
    assert "kept for 36 months" in html
    bad = runner.invoke(args=["relationship", "privacy", rel.name, "--retention-months", "0"])
    assert bad.exit_code != 0 and "1 to 120 months" in bad.output
    assert client.get("/privacy/999999").status_code == 404
    # the survey's first page links to it
    wave = factory.wave(rel)
    (token,) = factory.tokens(wave)
    start = client.get(f"/s/{token}", follow_redirects=True).get_data(as_text=True)
    assert f'href="/privacy/{rel.id}"' in start


def test_the_accessibility_statement_has_its_status_known_issues_and_test_date(client):
    html = client.get("/accessibility").get_data(as_text=True)
    for heading in (
        "Compliance status",
        "Content that is not accessible",
        "How we tested this service",
        "Reporting accessibility problems",
        "Enforcement procedure",
    ):
        assert f">{heading}</h2>" in html, heading
    assert "partially compliant" in html and "3 December 2026" in html
