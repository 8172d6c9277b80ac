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
from survey_app.models import Membership, Relationship, User
from survey_app.services.accounts import totp
from survey_app.services.accounts.secrets_box import unseal
from tests.browser.keyboard import enter, select_option, tab_to_button, tab_to_link, type_into
from tests.browser.page_types import PASSWORD, Site

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
