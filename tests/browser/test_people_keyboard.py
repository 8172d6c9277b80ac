"""The people and password pages with the keyboard alone, in a real browser: an admin invites
someone, changes their role and switches the account off; a person resets a forgotten password
from the emailed link, changes it, and signs in with a second factor. Tab, typing, the arrow
keys and Enter only (``tests/browser/keyboard.py``); what the keyboard did is then read back
from the database."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import ApiToken, Membership, Organisation, Relationship, User
from survey_app.services.accounts import totp
from survey_app.services.accounts.secrets_box import unseal
from survey_app.services.accounts.sign_in import ensure_user
from tests.browser.keyboard import (
    enter,
    select_option,
    tab_to_button,
    tab_to_link,
    tab_until,
    type_into,
)
from tests.browser.site import PASSWORD, Site

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase"  # noqa: S105 (a test account's password)
ACCOUNT_LINK = re.compile(r"https?://[^\s]+/account/link/[A-Za-z0-9_-]+")


def heading(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("h1").inner_text().strip()


def sign_in_by_keyboard(page, email: str, password: str):  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    type_into(page, "Email address", email)
    type_into(page, "Password", password)
    return enter(page)  # Enter in a field sends its form


def person(email: str) -> User:
    db.session.commit()  # a fresh snapshot: the server wrote meanwhile
    return db.session.scalar(select(User).where(User.email == email))


def test_an_admin_invites_re_roles_and_switches_off_a_person_by_keyboard(  # type: ignore[no-untyped-def]
    page, console, factory, client, mail_server
):
    site = Site(factory, client)
    relationship_id = site.ids["relationship"]
    relationship = db.session.get(Relationship, relationship_id).name
    sign_in_by_keyboard(page, site.user("admin"), PASSWORD)
    tab_to_link(page, "People")
    enter(page)
    assert heading(page) == "People"
    tab_to_button(page, "Invite someone")
    enter(page)
    assert heading(page) == "Invite someone"
    type_into(page, "Email address", "kim@council.example")
    type_into(page, "Full name", "Kim Keyboard")
    select_option(page, "Relationship", relationship)
    select_option(page, "Role", "Manager")
    tab_to_button(page, "Send invitation")
    assert enter(page).status == 200
    assert heading(page) == "Kim Keyboard"
    kim = person("kim@council.example")
    assert [(m.relationship_id, m.role) for m in kim.memberships] == [(relationship_id, "manager")]
    assert mail_server.mailbox.to("kim@council.example")

    select_option(page, relationship, "Reviewer")
    tab_to_button(page, "Save roles")
    enter(page)
    db.session.commit()  # a fresh snapshot
    assert db.session.scalar(select(Membership.role).where(Membership.user_id == kim.id)) == (
        "reviewer"
    )
    tab_to_button(page, "Switch off the account")
    enter(page)
    assert person("kim@council.example").active is False
    assert not console.errors(), console.errors()


def test_a_person_resets_and_changes_their_password_by_keyboard(  # type: ignore[no-untyped-def]
    page, console, factory, client, mail_server
):
    site = Site(factory, client)
    email = site.user("reviewer")
    mail_server.mailbox.clear()
    page.goto("/sign-in")
    tab_to_link(page, "Forgotten your password?")
    enter(page)
    assert heading(page) == "Reset your password"
    type_into(page, "Email address", email)
    enter(page)
    (message,) = mail_server.mailbox.to(email)
    link = ACCOUNT_LINK.search(message.body).group(0)
    page.goto(link)
    assert heading(page) == "Choose your password"
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "Confirm the new password", NEW_PASSWORD)
    tab_to_button(page, "Set password")
    enter(page)
    assert heading(page).startswith("Sign in")

    sign_in_by_keyboard(page, email, NEW_PASSWORD)
    tab_to_link(page, "Your account")
    enter(page)
    tab_to_link(page, "Change your password")
    enter(page)
    assert heading(page) == "Change your password"
    type_into(page, "Current password", NEW_PASSWORD)
    type_into(page, "New password", PASSWORD)
    type_into(page, "Confirm the new password", PASSWORD)
    tab_to_button(page, "Change password")
    enter(page)
    assert heading(page).startswith("Sign in")
    assert sign_in_by_keyboard(page, email, PASSWORD).url.endswith("/downloads/")
    assert not console.errors(), console.errors()


def test_a_person_signs_in_with_a_second_factor_by_keyboard(page, console, factory, client):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    email = site.user("manager")
    user = person(email)
    sealed = totp.new_secret()
    secret = unseal(totp.PURPOSE, sealed)
    earlier = time.time() - 120  # set up two minutes ago: today's code is not used yet
    assert totp.confirm_setup(user, sealed, pyotp.TOTP(secret).at(earlier), now=earlier)
    db.session.commit()

    sign_in_by_keyboard(page, email, PASSWORD)
    assert heading(page) == "Enter your code"
    type_into(page, "Code", pyotp.TOTP(secret).now())
    tab_to_button(page, "Continue")
    enter(page)
    assert "/sign-in" not in page.url
    assert page.get_by_role("button", name="Sign out").count() == 1
    assert not console.errors(), console.errors()


def test_an_admin_sets_up_a_second_factor_and_later_uses_a_recovery_code_by_keyboard(  # type: ignore[no-untyped-def]
    page, console, factory, client, request
):
    """On the server where admins must have a second factor (as in production): the first
    sign-in sets it up (key, code, recovery codes shown once); a recovery code then works
    once in place of the app's code."""
    server = request.getfixturevalue("live_server_with_second_factor")
    server.new_log()
    site = Site(factory, client, request)
    email = site.user("admin")
    page.goto(f"{server.url}/sign-in")
    type_into(page, "Email address", email)
    type_into(page, "Password", PASSWORD)
    enter(page)
    assert heading(page) == "Set up a second way to sign in"
    key = page.locator("#setup-key").inner_text().replace(" ", "")
    type_into(page, "Code", "000000")  # a wrong code first: the error is read, then fixed
    tab_to_button(page, "Continue")
    assert enter(page).status == 400
    assert "Enter a correct code" in page.locator(".govuk-error-summary").inner_text()
    type_into(page, "Code", pyotp.TOTP(key).now())
    tab_to_button(page, "Continue")
    enter(page)
    assert heading(page) == "Your recovery codes"
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert person(email).totp_secret is not None
    tab_to_link(page, "Continue")
    enter(page)
    tab_to_button(page, "Sign out")
    enter(page)

    page.goto(f"{server.url}/sign-in")
    type_into(page, "Email address", email)
    type_into(page, "Password", PASSWORD)
    enter(page)
    assert heading(page) == "Enter your code"
    type_into(page, "Code", codes[0])
    tab_to_button(page, "Continue")
    enter(page)
    assert page.get_by_role("button", name="Sign out").count() == 1
    log = server.new_log()
    assert "Traceback" not in log, log
    assert not console.errors(), console.errors()


def test_a_reviewer_makes_an_api_token_for_one_relationship_by_keyboard(
    page, console, factory, client
):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    relationship = db.session.get(Relationship, site.ids["relationship"])
    other = factory.relationship("Other Council — Other Supplier")
    email = "two.reviewer@council.example"
    ensure_user(
        email,
        name="Two Relationships",
        role="reviewer",
        password=PASSWORD,
        relationships=[relationship, other],
    )
    db.session.commit()
    sign_in_by_keyboard(page, email, PASSWORD)
    tab_to_link(page, "API tokens")
    enter(page)
    assert heading(page) == "API tokens"
    type_into(page, "Name the token", "Power BI refresh")
    page.keyboard.press("Tab")  # to the days, holding 365: replace it
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    select_option(page, "What may it read?", relationship.name)
    tab_to_button(page, "Create token")
    enter(page)
    assert page.locator("#new-token").inner_text().strip()
    db.session.commit()  # a fresh snapshot
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Power BI refresh"))
    assert token.relationship_id == relationship.id
    assert (token.expires_at - token.created_at).days == 30
    assert not console.errors(), console.errors()


def test_a_service_admin_sets_an_organisation_s_sign_in_by_keyboard(page, console, factory, client):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    organisation = Organisation(name="Keyboard Council")
    db.session.add(organisation)
    db.session.commit()
    organisation_id = organisation.id
    sign_in_by_keyboard(page, site.user("admin"), PASSWORD)
    page.goto("/admin/organisations/")
    tab_until(
        page,
        "Keyboard Council's link",
        lambda e: e["tag"] == "a" and (e["href"] or "").endswith(f"/{organisation_id}/sign-in"),
    )
    enter(page)
    assert heading(page) == "Sign-in settings"
    type_into(page, "Issuer", "https://login.example/keyboard/v2.0")
    type_into(page, "Client ID", "keyboard-client")
    type_into(page, "Client secret", "a-client-secret")
    type_into(page, "Allowed email domains", "keyboard.example")
    type_into(page, "Groups and the roles they give", "managers=manager")
    tab_until(page, "the radios", lambda e: e["type"] == "radio")
    page.keyboard.press("ArrowDown")  # "No, only through the provider"
    type_into(page, "Claim an admin's sign-in must carry (optional)", "mfa")
    tab_to_button(page, "Save sign-in settings")
    enter(page)
    db.session.commit()  # a fresh snapshot
    saved = db.session.get(Organisation, organisation_id)
    assert saved.oidc_issuer == "https://login.example/keyboard/v2.0"
    assert saved.local_passwords_allowed is False and saved.admin_mfa_claim == "mfa"
    assert not console.errors(), console.errors()
