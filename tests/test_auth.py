"""Staff sign in and out: GOV.UK pages, no user enumeration, paused sign-in after repeated
failures (counted in the database), safe redirects, cookie flags, CSRF, session lifetime."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from survey_app.extensions import db
from survey_app.models import AuditEvent, SignInAttempt, User
from survey_app.services import ServiceError
from survey_app.services.accounts import sign_in as auth_service
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.web.access import requires
from tests.factories import PASSWORD, csrf_token, post_sign_in

WRONG_DETAILS = "Enter a correct email address and password"


def make_user(role: str = "manager", email: str | None = None, *, active: bool = True) -> User:
    user = ensure_user(
        email or f"{role}@council.example", name=f"Test {role}", role=role, password=PASSWORD
    )
    user.active = active
    db.session.commit()
    db.session.refresh(user)  # loaded, so still readable once a request ends the session
    return user


def set_active(email: str, active: bool) -> None:
    db.session.execute(update(User).where(User.email == email).values(active=active))
    db.session.commit()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def is_signed_in(client) -> bool:
    return client.get("/test-only/signed-in").status_code == 200


@pytest.fixture
def protected(app):
    """Pages only signed-in users may see (added before the app's first request)."""
    app.add_url_rule(
        "/test-only/signed-in", "test_signed_in", requires("manager", "reviewer")(lambda: "ok")
    )
    app.add_url_rule("/test-only/admin", "test_admin", requires("admin")(lambda: "admin page"))
    app.add_url_rule("/api/test-only", "test_api", requires("reviewer")(lambda: {"ok": True}))
    return app


def moved_clock(monkeypatch, minutes: float) -> None:
    """Stop the sign-in clock, ``minutes`` from where it stands now."""
    later = auth_service.utcnow() + timedelta(minutes=minutes)
    monkeypatch.setattr(auth_service, "utcnow", lambda: later)


# ------------------------------------------------------------------ the page


def test_the_sign_in_page_is_a_govuk_form(client):
    page = client.get("/sign-in")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<title>Sign in to Relationship Health – Relationship Health</title>" in html
    assert '<h1 class="govuk-heading-l">Sign in to Relationship Health</h1>' in html
    assert re.search(
        r'<input class="govuk-input[^"]*" id="email" name="email" type="email"[^>]*autocomplete="email"',
        html,
    )
    assert 'data-module="govuk-password-input"' in html
    assert 'autocomplete="current-password"' in html
    assert csrf_token(html)
    assert "personal link in your invitation" in html


def test_an_empty_form_shows_the_govuk_error_summary(protected, client):
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Error: Sign in to Relationship Health" in html
    assert "govuk-error-summary" in html
    assert 'href="#email">Enter your email address</a>' in html
    assert 'href="#password">Enter your password</a>' in html
    assert count(SignInAttempt) == 0, "a form error is not a failed sign-in"


def test_a_malformed_email_address_is_a_form_error(client):
    response = post_sign_in(client, "not-an-email")
    assert response.status_code == 400
    assert (
        "Enter an email address in the correct format, like name@example.com"
        in response.get_data(as_text=True)
    )


# ------------------------------------------------------------------ signing in


def test_a_user_signs_in_and_is_audited_without_the_password(protected, client):
    user = make_user("manager")
    response = post_sign_in(client, "  Manager@Council.example ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/", "a manager lands on the dashboard"
    assert is_signed_in(client)
    home = client.get("/").get_data(as_text=True)
    assert "Sign out" in home and ">Sign in<" not in home
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
    assert [(e.user_id, e.actor) for e in events] == [(user.id, "manager@council.example")]
    assert PASSWORD not in repr([e.detail for e in db.session.scalars(select(AuditEvent))])


def test_a_signed_in_user_who_opens_sign_in_again_is_sent_on(client):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    response = client.get("/sign-in?next=/accessibility")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accessibility"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back_again(protected, client):
    make_user("manager")
    response = client.get("/test-only/signed-in?tab=gaps")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == {"next": ["/test-only/signed-in?tab=gaps"]}
    response = post_sign_in(client, "manager@council.example", next="/test-only/signed-in?tab=gaps")
    assert response.headers["Location"] == "/test-only/signed-in?tab=gaps"


def test_a_user_without_the_role_gets_the_403_page(protected, client):
    make_user("reviewer")
    post_sign_in(client, "reviewer@council.example")
    response = client.get("/test-only/admin")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "You do not have permission to see this page" in html
    assert "ask your survey administrator" in html


def test_the_api_answers_401_not_a_redirect(protected, client):
    response = client.get("/api/test-only")
    assert response.status_code == 401
    assert response.is_json and response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nLocation: https://evil.example",
        "/\tevil",
        "evil.example",
    ],
)
def test_next_never_leads_off_the_site(client, target):
    make_user("manager")
    response = post_sign_in(client, "manager@council.example", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/", "the landing page, never the target"


def test_next_keeps_a_local_path_with_its_query(client):
    make_user("manager")
    response = post_sign_in(client, "manager@council.example", next="/privacy?section=cookies")
    assert response.headers["Location"] == "/privacy?section=cookies"


# ------------------------------------------------------------------ no user enumeration


def _comparable(html: str) -> str:
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", html)
    html = re.sub(r'nonce="[^"]+"', "NONCE", html)
    return re.sub(r'value="[^"@]*@council\.example"', 'value="EMAIL"', html)


def test_unknown_email_and_wrong_password_get_the_same_answer(protected, client):
    make_user("manager")
    wrong_password = post_sign_in(client, "manager@council.example", "not the password at all")
    unknown_email = post_sign_in(client, "nobody@council.example", "not the password at all")
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert WRONG_DETAILS in wrong_password.get_data(as_text=True)
    assert _comparable(wrong_password.get_data(as_text=True)) == _comparable(
        unknown_email.get_data(as_text=True)
    )
    assert set(wrong_password.headers.keys()) == set(unknown_email.headers.keys())
    assert not is_signed_in(client)
    assert count(SignInAttempt) == 2


@pytest.fixture
def password_checks(monkeypatch) -> list[tuple[str, str]]:
    """Every password check sign-in makes, as (hash, password); each still checked for real."""
    checks: list[tuple[str, str]] = []
    real = auth_service.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checks.append((pwhash, password))
        return real(pwhash, password)

    monkeypatch.setattr(auth_service, "check_password_hash", counting)
    return checks


def test_an_unknown_email_still_costs_a_full_password_check(client, monkeypatch, password_checks):
    from survey_app.models import user as user_model

    monkeypatch.setattr(user_model, "PASSWORD_HASH_METHOD", "scrypt")  # production's, not tests'
    user = make_user("manager")
    post_sign_in(client, "nobody@council.example", "a guess")
    post_sign_in(client, "manager@council.example", "a guess")
    assert len(password_checks) == 2
    (dummy, _), (real_hash, _) = password_checks
    assert dummy == auth_service.dummy_password_hash() != real_hash == user.password_hash
    # the same algorithm and cost parameters, so the same time
    assert dummy.split("$")[0] == real_hash.split("$")[0] == "scrypt:32768:8:1"


def test_failed_attempts_store_only_keyed_hashes(client):
    post_sign_in(client, "nobody@council.example", "hunter2-secret-guess")
    attempt = db.session.scalars(select(SignInAttempt)).one()
    stored = f"{attempt.email_hash} {attempt.client_hash}"
    assert "nobody" not in stored and "127.0.0.1" not in stored and "hunter2" not in stored
    assert len(attempt.email_hash) == len(attempt.client_hash) == 64
    audit = repr([(e.actor, e.detail) for e in db.session.scalars(select(AuditEvent))])
    assert "hunter2" not in audit and "nobody@" not in audit
    assert "unknown account" in audit


# ------------------------------------------------------------------ pausing after failures


def test_five_failures_pause_sign_in_for_that_email_with_a_429(client, monkeypatch):
    make_user("manager")
    moved_clock(monkeypatch, 0)
    for _ in range(5):
        assert post_sign_in(client, "manager@council.example", "wrong guess").status_code == 400
    paused = post_sign_in(client, "manager@council.example")  # even the right password
    html = paused.get_data(as_text=True)
    assert paused.status_code == 429
    assert paused.headers["Retry-After"] == str(15 * 60)
    assert "Too many attempts to sign in" in html
    assert "You can try again in 15 minutes" in html
    assert not is_signed_in(client)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["sign_in_failed"] * 4 + ["sign_in_failed", "sign_in_paused"]

    moved_clock(monkeypatch, 15)
    assert post_sign_in(client, "manager@council.example").status_code == 302


def test_the_pause_reads_the_same_whether_or_not_the_account_exists(client, monkeypatch):
    make_user("manager")
    moved_clock(monkeypatch, 0)
    pages = []
    for email in ("manager@council.example", "nobody@council.example"):
        for _ in range(5):
            post_sign_in(client, email, "wrong guess")
        response = post_sign_in(client, email, "wrong guess")
        assert response.status_code == 429
        pages.append(
            (_comparable(response.get_data(as_text=True)), response.headers["Retry-After"])
        )
    assert pages[0] == pages[1]


def test_the_wait_shown_counts_down_from_the_oldest_counted_failure(client, monkeypatch):
    make_user("manager")
    moved_clock(monkeypatch, 0)
    for _ in range(5):
        post_sign_in(client, "manager@council.example", "wrong guess")
    moved_clock(monkeypatch, 10)
    response = post_sign_in(client, "manager@council.example")
    assert response.status_code == 429
    assert "You can try again in 5 minutes" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "300"


def test_simultaneous_wrong_guesses_never_check_more_passwords_than_the_limit(app, password_checks):
    """Twelve attempts at the same moment, from different workers' connections: each takes its
    place in the count before its password is checked, so only five passwords are ever tried."""
    make_user("manager")
    start = threading.Barrier(12)

    def attempt(n: int) -> auth_service.SignInOutcome:
        with app.app_context():
            start.wait(timeout=30)
            try:
                return auth_service.authenticate(
                    "manager@council.example", f"guess {n}", client_address=f"10.0.0.{n}"
                )
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    db.session.rollback()  # leave this thread's older read snapshot (SQLite WAL)

    checked = len(password_checks)
    assert checked == 5, f"{checked} passwords were checked at once, limit 5"
    assert sum(o.problem == WRONG_DETAILS for o in outcomes) == 5
    assert sum(bool(o.retry_after) for o in outcomes) == 7
    assert count(SignInAttempt) == 5
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "sign_in_failed")) == 5


def test_a_successful_sign_in_clears_the_count_for_that_email(client):
    make_user("manager")
    for _ in range(4):
        post_sign_in(client, "manager@council.example", "wrong guess")
    assert post_sign_in(client, "manager@council.example").status_code == 302
    client.post(
        "/sign-out", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))}
    )
    for _ in range(4):
        assert post_sign_in(client, "manager@council.example", "wrong guess").status_code == 400
    assert post_sign_in(client, "manager@council.example").status_code == 302


def test_twenty_failures_from_one_address_pause_every_sign_in_from_it(client):
    make_user("manager")
    here = auth_service.keyed_hash("client", "127.0.0.1")
    now = auth_service.utcnow()
    for n in range(19):  # as earlier failures would have left them (each costs a scrypt check)
        email = auth_service.keyed_hash("email", f"guess{n}@council.example")
        db.session.add(SignInAttempt(at=now, email_hash=email, client_hash=here))
    db.session.commit()
    assert post_sign_in(client, "guess19@council.example", "wrong guess").status_code == 400
    assert post_sign_in(client, "manager@council.example").status_code == 429
    elsewhere = {"environ_base": {"REMOTE_ADDR": "192.0.2.7"}}
    assert post_sign_in(client, "manager@council.example", **elsewhere).status_code == 302


def test_old_failures_are_pruned(client, monkeypatch):
    post_sign_in(client, "nobody@council.example", "wrong guess")
    moved_clock(monkeypatch, 16)
    post_sign_in(client, "nobody@council.example", "wrong guess")
    assert count(SignInAttempt) == 1


# ------------------------------------------------------------------ accounts and sessions


def test_a_switched_off_account_cannot_sign_in(protected, client):
    make_user("manager", active=False)
    response = post_sign_in(client, "manager@council.example")
    assert response.status_code == 400
    assert "Your account has been switched off" in response.get_data(as_text=True)
    assert not is_signed_in(client)
    wrong = post_sign_in(client, "manager@council.example", "wrong guess")
    assert WRONG_DETAILS in wrong.get_data(as_text=True), "only the right password learns more"


def test_switching_an_account_off_ends_its_sessions(protected, client):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    assert is_signed_in(client)
    set_active("manager@council.example", False)
    assert not is_signed_in(client)


def test_a_new_password_ends_existing_sessions(protected, client):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    ensure_user("manager@council.example", name="Test manager", role="manager", password=PASSWORD)
    db.session.commit()
    assert is_signed_in(client), "the same password keeps the session"
    ensure_user(
        "manager@council.example",
        name="Test manager",
        role="manager",
        password="a brand new passphrase",
    )
    db.session.commit()
    assert not is_signed_in(client)


def test_a_sign_in_lasts_at_most_the_configured_hours(protected, client, monkeypatch):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    import survey_app.web.auth as web_auth

    later = time.time() + 12 * 3600 + 60
    monkeypatch.setattr(web_auth, "time", SimpleNamespace(time=lambda: later))
    assert not is_signed_in(client)


def test_a_session_copied_to_another_browser_is_refused(protected, client):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    assert (
        client.get("/test-only/signed-in", headers={"User-Agent": "Other/1.0"}).status_code == 302
    )


def test_the_session_cookie_is_httponly_and_samesite_lax(client):
    make_user("manager")
    cookies = post_sign_in(client, "manager@council.example").headers.getlist("Set-Cookie")
    assert len(cookies) == 1, "one session cookie, and no remember-me cookie"
    assert cookies[0].startswith("session=")
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
    assert "Secure" not in cookies[0]


def test_the_session_cookie_is_secure_when_configured(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user("manager")
    page = client.get("/sign-in", base_url="https://localhost")
    response = client.post(
        "/sign-in",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},  # Flask-WTF checks it over HTTPS
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "manager@council.example",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_respondents_session_is_not_rewritten_on_every_page(client):
    with client.session_transaction() as session:
        session["survey_invitation"] = "a-token-hash"
    response = client.get("/")
    assert "Set-Cookie" not in response.headers


# ------------------------------------------------------------------ CSRF and signing out


def test_sign_in_without_the_csrf_token_is_refused_and_changes_nothing(protected, client):
    make_user("manager")
    response = client.post(
        "/sign-in", data={"email": "manager@council.example", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert not is_signed_in(client)
    assert count(AuditEvent) == 0
    assert count(SignInAttempt) == 0


def test_sign_out_is_a_post_with_the_csrf_token(protected, client):
    make_user("manager")
    post_sign_in(client, "manager@council.example")
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400
    assert is_signed_in(client)

    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/sign-out"', home)
    response = client.post("/sign-out", data={"csrf_token": csrf_token(home)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<p class="govuk-notification-banner__heading">You have signed out' in page
    assert "&lt;p" not in page, "the banner's markup is rendered, not escaped"
    assert not is_signed_in(client)
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "sign_out"


def test_a_signed_in_user_lands_on_and_sees_only_the_sections_of_their_role(client):
    make_user("reviewer")
    response = post_sign_in(client, "reviewer@council.example")
    assert response.headers["Location"] == "/downloads/"
    nav = client.get("/").get_data(as_text=True).split("govuk-service-navigation__list")[1]
    nav = nav.split("</ul>")[0]
    assert re.search(r'href="/downloads/"[^>]*>\s*Downloads', nav)
    assert "/admin/" not in nav
    assert "Sign out" in nav and "Sign in" not in nav


def test_navigation_offers_sign_in_on_service_pages_but_not_to_respondents(client):
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/sign-in">\s*Sign in\s*</a>', home)
    assert "/sign-in" not in client.get("/survey/").get_data(as_text=True)


# ------------------------------------------------------------------ demo accounts


def test_ensure_user_creates_then_resets_an_account_idempotently(app):
    first = ensure_user(
        "Demo.Admin@council.example", name="Demo admin", role="admin", password=PASSWORD
    )
    db.session.commit()
    first_hash = first.password_hash
    again = ensure_user(
        "demo.admin@council.example", name="Demo admin", role="admin", password=PASSWORD
    )
    db.session.commit()
    assert again.id == first.id and again.password_hash == first_hash
    assert count(User) == 1

    set_active("demo.admin@council.example", False)
    reset = ensure_user(
        "demo.admin@council.example",
        name="Demo manager",
        role="manager",
        password="another passphrase",
    )
    db.session.commit()
    assert (reset.id, reset.name, reset.role, reset.active) == (
        first.id,
        "Demo manager",
        "manager",
        True,
    )
    assert reset.check_password("another passphrase")

    with pytest.raises(ServiceError, match="role must be one of"):
        ensure_user("demo.admin@council.example", name="Demo", role="owner", password=PASSWORD)
    with pytest.raises(ServiceError, match="at least 12 characters"):
        ensure_user("new@council.example", name="New", role="manager", password="short")


def test_ensure_user_lifts_a_paused_sign_in(client):
    make_user("manager")
    for _ in range(5):
        post_sign_in(client, "manager@council.example", "wrong guess")
    assert post_sign_in(client, "manager@council.example").status_code == 429
    ensure_user("manager@council.example", name="Test manager", role="manager", password=PASSWORD)
    db.session.commit()
    assert post_sign_in(client, "manager@council.example").status_code == 302
