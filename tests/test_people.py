"""People in the browser: an admin invites, re-roles and switches off people of the relationships
they administer; a person sets a password from an e-mailed single-use link, resets a forgotten
one, and changes their own. Real e-mail through a local SMTP server."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AccountLink, AuditEvent, Organisation, Relationship, User
from survey_app.services.accounts.sign_in import ensure_user
from tests.factories import PASSWORD, post_sign_in, submit
from tests.factories import sign_in as client_as
from tests.smtp_mailbox import serving

ACCOUNT_LINK = re.compile(r"/account/link/([A-Za-z0-9_-]+)")


@pytest.fixture
def mailbox(app):  # type: ignore[no-untyped-def]
    with serving(app) as box:
        yield box


@pytest.fixture
def two(factory):  # type: ignore[no-untyped-def]
    a = factory.relationship("Council A — Supplier A", areas=["Core ICT"]).id
    b = factory.relationship("Council B — Supplier B", areas=["Core ICT"]).id
    return a, b


def link_in(mailbox, address: str) -> str:  # type: ignore[no-untyped-def]
    (message,) = mailbox.to(address)
    match = ACCOUNT_LINK.search(message.body)
    assert match, message.body
    return match.group(0)


def add_person(role: str, on: int | None = None) -> int:
    """P (p@council.example, PASSWORD) holding ``role`` on relationship ``on`` (service-wide
    without one), committed; their id."""
    relationships = None if on is None else [db.session.get(Relationship, on)]
    user_id = ensure_user(
        "p@council.example", name="P", role=role, password=PASSWORD, relationships=relationships
    ).id
    db.session.commit()
    return user_id


def scoped_admin(app, a: int):  # type: ignore[no-untyped-def]
    return client_as(
        app,
        "admin",
        relationships=[db.session.get(Relationship, a)],
        email="admin.a@council.example",
    )


def test_an_admin_invites_someone_who_sets_a_password_with_the_link_once(app, two, mailbox):
    a, b = two
    admin = scoped_admin(app, a)
    form = admin.get("/admin/people/invite").get_data(as_text=True)
    assert "Council A" in form and "Council B" not in form
    sent = submit(
        admin,
        "/admin/people/invite",
        {
            "email": "New@Council.example",
            "name": "New Person",
            "relationship": str(a),
            "role": "manager",
        },
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)
    user = db.session.query(User).filter_by(email="new@council.example").one()
    assert user.password_hash is None and [
        (m.relationship_id, m.role) for m in user.memberships
    ] == [(a, "manager")]
    link = link_in(mailbox, "new@council.example")
    assert db.session.query(AccountLink).one().token_hash not in link  # only the hash is kept

    person = app.test_client()
    opened = person.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/account/set-password"
    mismatch = submit(
        person,
        "/account/set-password",
        {"password": "a long new passphrase", "confirmation": "another one entirely"},
    )
    assert mismatch.status_code == 400 and "must be the same" in mismatch.get_data(as_text=True)
    done = submit(
        person,
        "/account/set-password",
        {"password": "a long new passphrase", "confirmation": "a long new passphrase"},
    )
    assert done.status_code == 303
    assert app.test_client().get(link).status_code == 404  # once only
    signed = app.test_client()
    assert post_sign_in(signed, "new@council.example", "a long new passphrase").status_code == 302
    assert signed.get(f"/dashboard/{a}/").status_code == 200
    assert signed.get(f"/dashboard/{b}/").status_code == 404


def test_an_admin_changes_roles_only_on_relationships_they_administer(app, two):
    a, b = two
    person_id = add_person("reviewer", on=b)
    admin = scoped_admin(app, a)
    # someone holding roles only on B is out of reach
    assert admin.get(f"/admin/people/{person_id}").status_code == 404
    user = db.session.get(User, person_id)
    user.memberships[0].role = "reviewer"
    from survey_app.services.accounts.users import set_memberships

    set_memberships(user, {a: "reviewer", b: "reviewer"})
    db.session.commit()
    page = admin.get(f"/admin/people/{person_id}").get_data(as_text=True)
    assert "Council A" in page and "Council B" not in page
    saved = submit(admin, f"/admin/people/{person_id}", {f"role-{a}": "manager"})  # A alone offered
    assert saved.status_code == 303
    roles = {m.relationship_id: m.role for m in db.session.get(User, person_id).memberships}
    assert roles == {a: "manager", b: "reviewer"}  # B untouched
    wrong = submit(admin, f"/admin/people/{person_id}", {f"role-{a}": "owner"})
    assert wrong.status_code == 400 and "Select one of the roles listed" in wrong.get_data(
        as_text=True
    )
    # a role on B cannot be slipped in
    submit(admin, f"/admin/people/{person_id}", {f"role-{a}": "", f"role-{b}": "admin"})
    roles = {m.relationship_id: m.role for m in db.session.get(User, person_id).memberships}
    assert roles == {b: "reviewer"}
    # now they hold nothing on A: out of this admin's reach
    assert admin.get(f"/admin/people/{person_id}").status_code == 404
    assert any(e.action == "user.roles" for e in db.session.query(AuditEvent))


def test_an_admin_switches_an_account_off_and_on(app, two):
    a, _ = two
    person_id = add_person("manager", on=a)
    their_browser = app.test_client()
    assert post_sign_in(their_browser, "p@council.example", PASSWORD).status_code == 302
    admin = scoped_admin(app, a)
    listed = admin.get("/admin/people/").get_data(as_text=True)
    assert (
        "p@council.example" in listed and "Never" not in listed.split("p@council.example")[1][:200]
    )
    off = submit(
        admin,
        f"/admin/people/{person_id}/active",
        {"active": "0"},
        page=f"/admin/people/{person_id}",
    )
    assert off.status_code == 303
    assert their_browser.get(f"/dashboard/{a}/").status_code == 302  # signed out
    assert post_sign_in(app.test_client(), "p@council.example", PASSWORD).status_code == 400
    submit(
        admin,
        f"/admin/people/{person_id}/active",
        {"active": "1"},
        page=f"/admin/people/{person_id}",
    )
    assert db.session.get(User, person_id).active
    own = db.session.query(User).filter_by(email="admin.a@council.example").one().id
    refused = submit(
        admin, f"/admin/people/{own}/active", {"active": "0"}, page=f"/admin/people/{own}"
    )
    assert refused.status_code == 400
    switched = [
        (e.action, e.actor)
        for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action in ("user.deactivate", "user.activate")
    ]
    assert switched == [
        ("user.deactivate", "admin.a@council.example"),
        ("user.activate", "admin.a@council.example"),
    ]


def test_a_forgotten_password_is_reset_by_an_emailed_link_that_expires(app, two, mailbox):
    add_person("manager")
    browser = app.test_client()
    unknown = submit(browser, "/sign-in/forgotten", {"email": "nobody@council.example"})
    known = submit(browser, "/sign-in/forgotten", {"email": "p@council.example"})

    # the same answer whether or not the address has an account
    def main(response) -> str:  # type: ignore[no-untyped-def]
        return re.search(r"<main.*</main>", response.get_data(as_text=True), re.S).group(0)

    assert main(unknown).replace("nobody", "p") == main(known)
    assert mailbox.to("nobody@council.example") == []
    link = link_in(mailbox, "p@council.example")
    # an expired link does nothing
    record = db.session.query(AccountLink).one()
    record.expires_at = datetime.utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(link).status_code == 404
    record = db.session.query(AccountLink).one()
    record.expires_at = datetime.utcnow() + timedelta(minutes=5)
    db.session.commit()
    person = app.test_client()
    assert person.get(link).status_code == 303
    submit(
        person,
        "/account/set-password",
        {"password": "the new passphrase", "confirmation": "the new passphrase"},
    )
    assert post_sign_in(app.test_client(), "p@council.example", PASSWORD).status_code == 400
    assert (
        post_sign_in(app.test_client(), "p@council.example", "the new passphrase").status_code
        == 302
    )


def test_a_person_changes_their_own_password(app):
    add_person("reviewer")
    browser = app.test_client()
    post_sign_in(browser, "p@council.example", PASSWORD)
    wrong = submit(
        browser,
        "/account/password",
        {
            "current": "not it at all",
            "password": "the new passphrase",
            "confirmation": "the new passphrase",
        },
    )
    assert wrong.status_code == 400 and "current password is not correct" in wrong.get_data(
        as_text=True
    )
    short = submit(
        browser,
        "/account/password",
        {"current": PASSWORD, "password": "short", "confirmation": "short"},
    )
    assert "at least 12 characters" in short.get_data(as_text=True)
    done = submit(
        browser,
        "/account/password",
        {
            "current": PASSWORD,
            "password": "the new passphrase",
            "confirmation": "the new passphrase",
        },
    )
    assert done.status_code == 303
    assert browser.get("/account/api-tokens/").status_code == 302  # signed out everywhere
    assert (
        post_sign_in(app.test_client(), "p@council.example", "the new passphrase").status_code
        == 302
    )
    assert any(e.action == "password.change" for e in db.session.query(AuditEvent))


def test_asking_for_reset_links_is_paused_by_the_sign_in_limits_in_counts_of_its_own(app, mailbox):
    app.config["SIGN_IN_MAX_FAILURES_PER_EMAIL"] = 2
    ensure_user("p@council.example", name="P", role="manager", password=PASSWORD)
    db.session.commit()
    browser = app.test_client()
    for _ in range(2):
        asked = submit(browser, "/sign-in/forgotten", {"email": "P@council.example "})
        assert asked.status_code == 200
    paused = submit(browser, "/sign-in/forgotten", {"email": "p@council.example"})
    assert paused.status_code == 429
    assert paused.headers["Retry-After"] == str(15 * 60)
    assert "Too many requests for a reset link" in paused.get_data(as_text=True)
    assert len(mailbox.to("p@council.example")) == 2  # the third sent nothing
    # an address with no account is paused alike (nothing to tell the two apart) …
    for _ in range(2):
        submit(browser, "/sign-in/forgotten", {"email": "nobody@council.example"})
    assert (
        submit(browser, "/sign-in/forgotten", {"email": "nobody@council.example"}).status_code
        == 429
    )
    # … and asking for links pauses nobody's sign-in
    assert post_sign_in(app.test_client(), "p@council.example", PASSWORD).status_code == 302


def test_your_password_is_not_offered_to_an_account_that_signs_in_through_its_provider(app):
    """Its account page offers no password change (its language it still chooses there)."""
    organisation = Organisation(name="Council A")
    db.session.add(organisation)
    ensure_user("p@council.example", name="P", role="reviewer", password=PASSWORD)
    person = db.session.scalar(select(User).where(User.email == "p@council.example"))
    person.organisation = organisation
    db.session.commit()
    browser = app.test_client()
    post_sign_in(browser, "p@council.example", PASSWORD)
    assert "Your account" in browser.get("/downloads/").get_data(as_text=True)
    assert "Change your password" in browser.get("/account/").get_data(as_text=True)
    organisation = db.session.scalar(select(Organisation))
    organisation.local_passwords_allowed = False  # from now on, its provider only
    db.session.commit()
    assert "Your account" in browser.get("/downloads/").get_data(as_text=True)
    assert "Change your password" not in browser.get("/account/").get_data(as_text=True)
