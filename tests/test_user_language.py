"""Each signed-in user's language is remembered: chosen on their account page or by the switch
in the header, used for their pages in every later session, and for the emails sent to them
(password resets, account invitations) — in both languages only where it is not known."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, User
from survey_app.services.accounts.sign_in import ensure_user
from tests.factories import PASSWORD, csrf_token, post_sign_in, submit
from tests.factories import sign_in as client_as
from tests.smtp_mailbox import serving


@pytest.fixture
def mailbox(app):  # type: ignore[no-untyped-def]
    with serving(app) as box:
        yield box


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_the_switch_remembers_a_signed_in_users_language_for_their_next_session(app):
    browser = client_as(app, "reviewer")
    assert user("reviewer.pages@council.example").language is None
    english = browser.get("/downloads/?wave=x").get_data(as_text=True)
    # The header's switch is a POST form with the CSRF token, back to this page.
    assert 'action="/account/language"' in english
    assert 'name="next" value="/downloads/?wave=x"' in english
    assert (
        'name="language" value="cy"' in english
        and 'href="/downloads/?wave=x&amp;lang=cy"' not in english
    )
    switched = browser.post(
        "/account/language",
        data={"csrf_token": csrf_token(english), "language": "cy", "next": "/downloads/?wave=x"},
    )
    assert switched.status_code == 303 and switched.location == "/downloads/?wave=x"
    welsh = browser.get(switched.location).get_data(as_text=True)
    assert '<html lang="cy"' in welsh and "Allgofnodi" in welsh
    assert user("reviewer.pages@council.example").language == "cy"

    later = app.test_client()  # another browser: nothing in its session
    assert post_sign_in(later, "reviewer.pages@council.example").status_code == 302
    assert '<html lang="cy"' in later.get("/downloads/").get_data(as_text=True)
    signed_out = later.post(
        "/sign-out", data={"csrf_token": _token(later)}, follow_redirects=True
    ).get_data(as_text=True)
    assert '<html lang="cy"' in signed_out  # the sign-in page after it too
    assert "Rydych wedi allgofnodi" in signed_out


def _token(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_token(client.get("/account/").get_data(as_text=True))


def test_a_get_changes_no_stored_preference_only_the_page(app):
    """A link on another site (``<img src=".../?lang=cy">``) cannot change a preference."""
    browser = client_as(app, "reviewer")
    welsh = browser.get("/downloads/?lang=cy").get_data(as_text=True)
    assert '<html lang="cy"' in welsh  # the page, and the session's next pages
    assert user("reviewer.pages@council.example").language is None
    assert '<html lang="cy"' in browser.get("/downloads/").get_data(as_text=True)
    account = user("reviewer.pages@council.example")
    account.language = "en"
    db.session.commit()
    assert '<html lang="cy"' in browser.get("/account/?lang=cy").get_data(as_text=True)
    assert user("reviewer.pages@council.example").language == "en"
    assert '<html lang="en"' in browser.get("/downloads/").get_data(as_text=True)
    assert browser.get("/account/language?language=cy").status_code == 405
    assert user("reviewer.pages@council.example").language == "en"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.language" not in actions


@pytest.mark.parametrize(
    "data",
    [
        {"language": "cy", "next": "/downloads/"},  # no CSRF token
        {"language": "fr", "next": "/downloads/", "csrf_token": True},
        {"language": "", "next": "/downloads/", "csrf_token": True},
    ],
)
def test_a_bad_switch_is_refused_and_changes_nothing(app, data):
    browser = client_as(app, "reviewer")
    if data.pop("csrf_token", None):
        data["csrf_token"] = _token(browser)
    refused = browser.post("/account/language", data=data)
    assert refused.status_code == 400
    assert user("reviewer.pages@council.example").language is None


def test_the_switch_returns_only_to_a_page_of_this_site(app):
    browser = client_as(app, "reviewer")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        done = browser.post(
            "/account/language",
            data={"csrf_token": _token(browser), "language": "cy", "next": target},
        )
        assert done.status_code == 303 and done.location == "/account/"
    assert user("reviewer.pages@council.example").language == "cy"


def test_a_visitor_and_a_respondent_keep_the_switch_link(app):
    visitor = app.test_client()
    page = visitor.get("/sign-in").get_data(as_text=True)
    assert 'href="/sign-in?lang=cy"' in page and "/account/language" not in page
    assert '<html lang="cy"' in visitor.get("/sign-in?lang=cy").get_data(as_text=True)


def test_a_person_chooses_their_language_on_their_account_page(app):
    browser = client_as(app, "manager")
    page = browser.get("/account/").get_data(as_text=True)
    assert "Your account" in page and "Which language do you want to use?" in page
    saved = submit(browser, "/account/", {"language": "cy"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and '<html lang="cy"' in html
    assert "Mae eich iaith wedi’i chadw" in html  # said in the language just chosen
    assert user("manager.pages@council.example").language == "cy"
    assert db.session.scalars(select(AuditEvent.action)).all().count("user.language") == 1
    back = submit(browser, "/account/", {"language": "en"}, follow_redirects=True)
    assert '<html lang="en"' in back.get_data(as_text=True)
    assert user("manager.pages@council.example").language == "en"


@pytest.mark.parametrize("value", ["fr", "", "cy\x00"])
def test_a_language_not_offered_is_refused_and_changes_nothing(app, value):
    browser = client_as(app, "reviewer")
    refused = submit(browser, "/account/", {"language": value})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html and "Select" in html
    assert user("reviewer.pages@council.example").language is None


def test_a_language_chosen_before_signing_in_is_kept_by_an_account_without_one(app):
    ensure_user("new.one@council.example", name="New One", role="reviewer", password=PASSWORD)
    db.session.commit()
    browser = app.test_client()
    browser.get("/sign-in?lang=cy")
    assert post_sign_in(browser, "new.one@council.example").status_code == 302
    assert user("new.one@council.example").language == "cy"
    # an account that chose already keeps its choice
    account = user("new.one@council.example")
    account.language = "en"
    db.session.commit()
    other = app.test_client()
    other.get("/sign-in?lang=cy")
    post_sign_in(other, "new.one@council.example")
    assert user("new.one@council.example").language == "en"
    assert '<html lang="en"' in other.get("/downloads/").get_data(as_text=True)


def test_a_reset_goes_in_the_accounts_language_whatever_the_page_it_was_asked_on(app, mailbox):
    ensure_user("p@council.example", name="P", role="reviewer", password=PASSWORD).language = "cy"
    ensure_user("q@council.example", name="Q", role="reviewer", password=PASSWORD)
    db.session.commit()
    browser = app.test_client()
    submit(browser, "/sign-in/forgotten", {"email": "p@council.example"})  # an English page
    submit(browser, "/sign-in/forgotten", {"email": "q@council.example"})
    (welsh,) = mailbox.to("p@council.example")
    assert (
        "Ailosod eich cyfrinair" in welsh.message["Subject"]
        and "Reset" not in welsh.message["Subject"]
    )
    assert "Agorwch y ddolen hon" in welsh.body and "Open this link" not in welsh.body
    (both,) = mailbox.to("q@council.example")  # not known: both languages
    assert "Reset" in both.message["Subject"] and "Ailosod" in both.message["Subject"]


def test_an_invitation_is_in_the_language_the_admin_gives_and_is_remembered(app, factory, mailbox):
    relationship = factory.relationship("Council A — Supplier A", areas=["Core ICT"]).id
    admin = client_as(app, "admin")
    form = admin.get("/admin/people/invite").get_data(as_text=True)
    assert "Which language should their invitation and pages be in?" in form
    for email, language in (("w@council.example", "cy"), ("u@council.example", "unknown")):
        sent = submit(
            admin,
            "/admin/people/invite",
            {
                "email": email,
                "name": "Someone",
                "relationship": str(relationship),
                "role": "manager",
                "language": language,
            },
        )
        assert sent.status_code == 303, sent.get_data(as_text=True)
    (welsh,) = mailbox.to("w@council.example")
    assert "gwahoddiad" in welsh.message["Subject"] and "invited" not in welsh.message["Subject"]
    assert user("w@council.example").language == "cy"
    (both,) = mailbox.to("u@council.example")
    assert "invited" in both.message["Subject"] and "gwahoddiad" in both.message["Subject"]
    assert user("u@council.example").language is None
    bad = submit(
        admin,
        "/admin/people/invite",
        {
            "email": "x@council.example",
            "name": "X",
            "relationship": str(relationship),
            "role": "manager",
            "language": "fr",
        },
    )
    assert bad.status_code == 400 and user("x@council.example") is None
