"""Fuzzing the people pages and a person's own password forms: every answer to a bad form is a
clear 4xx (the GOV.UK error summary, the CSRF page or the error page) and changes nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from survey_app.extensions import db
from survey_app.models import RecoveryCode, User
from tests.fuzz.conftest import (
    CSRF,
    FUZZ,
    FUZZ_SLOW,
    assert_clear_refusal,
    csrf_fields,
    nothing_changes,
    page_csrf,
    post_form,
    send_form,
    sign_in,
)
from tests.fuzz.strategies import fields, junk

NOT_AN_EMAIL = st.one_of(junk, st.just("no-at-sign"), st.just("a@b"), st.text(max_size=300))
ROLE = st.one_of(junk, st.sampled_from(["owner", "", "ADMIN"]))


def _fuzz_form(
    client, path: str, page: str, known, other_csrf: str, caplog, *, settings=FUZZ, no_op=False
):  # type: ignore[no-untyped-def]
    """``no_op``: a valid form that changes nothing may be accepted (303), as it is sent."""
    valid = page_csrf(client, page)

    @settings
    @given(mode=CSRF, pairs=fields(known))
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            answer = send_form(client, path, mode, valid, other_csrf, pairs)
            if not (no_op and answer.status_code == 303):
                assert_clear_refusal(answer)

    run()


def test_fuzz_invite(app, world, other_csrf, caplog):
    client = sign_in(app, "admin")
    known = {
        "email": NOT_AN_EMAIL,
        "name": st.one_of(junk, st.text(min_size=201, max_size=260)),
        "relationship": st.one_of(junk, st.just(str(world.rel.id)), st.just("999999")),
        "role": ROLE,
    }
    _fuzz_form(client, "/admin/people/invite", "/admin/people/invite", known, other_csrf, caplog)


def test_fuzz_person_roles_and_switch(app, world, other_csrf, caplog):
    client = sign_in(app, "admin")
    sign_in(app, "manager")
    person = db.session.scalar(db.select(User.id).where(User.role == "manager"))
    page = f"/admin/people/{person}"
    known = {f"role-{world.rel.id}": ROLE, f"role-{world.other.id}": ROLE, "active": junk}
    _fuzz_form(client, page, page, known, other_csrf, caplog, no_op=True)  # "no role" twice
    switch = {"active": st.one_of(junk, st.sampled_from(["2", "yes", ""]))}
    _fuzz_form(client, f"{page}/active", page, switch, other_csrf, caplog)


def test_fuzz_forgotten_password(app, other_csrf, caplog):
    client = app.test_client()
    known = {"email": NOT_AN_EMAIL}
    _fuzz_form(client, "/sign-in/forgotten", "/sign-in/forgotten", known, other_csrf, caplog)


def test_fuzz_set_password_without_a_link(app, other_csrf, caplog):
    """Without a link in the session: 404 whatever is sent (or the CSRF refusal)."""
    client = app.test_client()
    valid = page_csrf(client, "/sign-in")

    @FUZZ
    @given(mode=CSRF, pairs=fields({"password": junk, "confirmation": junk}))
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            answer = send_form(client, "/account/set-password", mode, valid, other_csrf, pairs)
            assert answer.status_code in (400, 404)
            assert_clear_refusal(answer)

    run()


def test_fuzz_change_password(app, other_csrf, caplog):
    client = sign_in(app, "reviewer")
    known = {
        "current": st.one_of(junk, st.just("not the password")),
        "password": st.one_of(junk, st.just("short"), st.text(min_size=1025, max_size=1100)),
        "confirmation": junk,
    }
    page = "/account/password"
    _fuzz_form(client, page, page, known, other_csrf, caplog, settings=FUZZ_SLOW)


def test_fuzz_account_language(app, other_csrf, caplog):
    client = sign_in(app, "reviewer")
    known = {"language": st.one_of(junk, st.sampled_from(["fr", "EN", "cy ", "unknown"]))}
    _fuzz_form(client, "/account/", "/account/", known, other_csrf, caplog)


def test_fuzz_language_switch(app, other_csrf, caplog):
    """The header's switch of a signed-in user: a language not offered changes nothing,
    wherever ``next`` points."""
    client = sign_in(app, "reviewer")
    known = {
        "language": st.one_of(junk, st.sampled_from(["fr", "EN", "cy ", "unknown", ""])),
        "next": st.one_of(junk, st.sampled_from(["//evil.example", "https://x.example/"])),
    }
    _fuzz_form(client, "/account/language", "/account/", known, other_csrf, caplog)


def test_fuzz_second_factor_codes(app, other_csrf, caplog):
    """Junk codes while setting up (nothing changes) and at the code step (a refusal, and the
    account's last accepted step and recovery codes unchanged)."""
    from tests.fuzz.conftest import PASSWORD, csrf_token

    app.config["ADMIN_SECOND_FACTOR"] = True
    sign_in_page = app.test_client()

    def password_step(client):  # type: ignore[no-untyped-def]
        html = client.get("/sign-in").get_data(as_text=True)
        client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token(html),
                "email": "admin.fuzz@council.example",
                "password": PASSWORD,
            },
        )

    from unittest.mock import patch

    from survey_app.services.accounts.sign_in import ensure_user
    from tests.fuzz.conftest import cheap_hash

    with patch("survey_app.models.user.generate_password_hash", cheap_hash):
        ensure_user(
            "admin.fuzz@council.example", name="Fuzz admin", role="admin", password=PASSWORD
        )
    db.session.commit()
    codes = st.one_of(junk, st.sampled_from(["000000", "12345", "1234567", " 1 2 3 4 5 6 "]))

    def tokens_after_password(path, mode):  # type: ignore[no-untyped-def]
        """Pass the password step afresh, then the ``csrf_token`` pairs ``mode`` sends to ``path``."""
        password_step(sign_in_page)
        valid = page_csrf(sign_in_page, path)
        return csrf_fields(mode, valid, other_csrf)

    @FUZZ
    @given(mode=CSRF, pairs=fields({"code": codes}))
    def set_up(mode, pairs):  # type: ignore[no-untyped-def]
        path = "/sign-in/set-up-code"
        tokens = tokens_after_password(path, mode)
        with nothing_changes(caplog):
            assert_clear_refusal(post_form(sign_in_page, path, tokens + pairs))

    set_up()

    # the code step: an account with a second factor; junk is refused and accepts nothing
    from survey_app.services.accounts import totp

    user = db.session.scalar(db.select(User).where(User.email == "admin.fuzz@council.example"))
    sealed = totp.new_secret()
    key = totp.setup_key(sealed).replace(" ", "")
    import pyotp

    assert totp.confirm_setup(user, sealed, pyotp.TOTP(key).now()) is not None
    db.session.commit()
    last_step = user.totp_last_step

    @FUZZ
    @given(mode=CSRF, pairs=fields({"code": codes}))
    def code_step(mode, pairs):  # type: ignore[no-untyped-def]
        tokens = tokens_after_password("/sign-in/code", mode)
        assert_clear_refusal(post_form(sign_in_page, "/sign-in/code", tokens + pairs))
        db.session.remove()
        again = db.session.get(User, user.id)
        assert again.totp_last_step == last_step
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.used_at.is_not(None))
            )
            == 0
        )

    code_step()


def test_fuzz_organisation_sign_in_settings(app, world, other_csrf, caplog):
    from survey_app.models import Organisation

    client = sign_in(app, "admin")
    organisation = db.session.scalar(db.select(Organisation.id).order_by(Organisation.id))
    page = f"/admin/organisations/{organisation}/sign-in"
    known = {
        # never a usable issuer, so no example can be a valid form that saves something
        "issuer": st.one_of(junk, st.sampled_from(["", "not a url", "http://plain.example"])),
        "client_id": junk,
        "client_secret": junk,
        "domains": st.one_of(junk, st.just("not a domain")),
        "groups": st.one_of(junk, st.just("staff=owner")),
        "local_passwords": st.one_of(junk, st.sampled_from(["", "maybe"])),
        "admin_mfa": junk,
    }
    _fuzz_form(client, page, page, known, other_csrf, caplog)
