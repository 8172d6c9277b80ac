"""TOTP second factor: required for local-password admins, the secret stored encrypted, each code
accepted once, recovery codes hashed and single-use. Codes are computed with pyotp from the key the
set-up page shows (as an authenticator app would), at a controlled time."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import AuditEvent, RecoveryCode, User
from survey_app.services.accounts import totp
from survey_app.services.accounts.sign_in import ensure_user
from tests.factories import PASSWORD, submit


@pytest.fixture
def required(app):  # type: ignore[no-untyped-def]
    app.config["ADMIN_SECOND_FACTOR"] = True


def password_step(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    answer = submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    return client, answer


def set_up(app, email: str) -> tuple[object, str, list[str]]:
    """Sign in with the password, set up the app: (signed-in client, key, recovery codes)."""
    client, answer = password_step(app, email)
    assert answer.headers["Location"] == "/sign-in/set-up-code"
    page = client.get("/sign-in/set-up-code").get_data(as_text=True)
    key = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = submit(client, "/sign-in/set-up-code", {"code": pyotp.TOTP(key).now()})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.get_data(as_text=True))
    return client, key, codes


def test_an_admin_must_set_up_a_second_factor_before_being_signed_in(app, required):
    ensure_user("admin@council.example", name="Admin", role="admin", password=PASSWORD)
    db.session.commit()
    client, answer = password_step(app, "admin@council.example")
    assert answer.status_code == 303
    assert client.get("/admin/").status_code == 302  # not signed in yet
    wrong = submit(client, "/sign-in/set-up-code", {"code": "000000"})
    assert wrong.status_code == 400 and "Enter a correct code" in wrong.get_data(as_text=True)
    client, key, codes = set_up(app, "admin@council.example")
    assert client.get("/admin/").status_code == 200
    assert len(codes) == 10
    user = db.session.query(User).filter_by(email="admin@council.example").one()
    assert key not in user.totp_secret  # stored encrypted
    stored = {r.code_hash for r in db.session.query(RecoveryCode)}
    assert not stored & set(codes) and len(stored) == 10  # stored hashed


def test_a_manager_without_a_second_factor_is_signed_in_with_the_password(app, required):
    ensure_user("m@council.example", name="M", role="manager", password=PASSWORD)
    db.session.commit()
    client, answer = password_step(app, "m@council.example")
    assert answer.status_code == 302 and client.get("/dashboard/").status_code == 200


def test_each_code_is_accepted_once_and_a_recovery_code_once(app, required):
    ensure_user("admin@council.example", name="Admin", role="admin", password=PASSWORD)
    db.session.commit()
    _, key, codes = set_up(app, "admin@council.example")
    # the code used to set up cannot be used again; the next step's can
    client, answer = password_step(app, "admin@council.example")
    assert answer.headers["Location"] == "/sign-in/code"
    now = pyotp.TOTP(key).now()
    assert submit(client, "/sign-in/code", {"code": now}).status_code == 400
    later = pyotp.TOTP(key).at(time.time() + 30)
    assert submit(client, "/sign-in/code", {"code": later}).status_code == 303
    assert client.get("/admin/").status_code == 200
    again, _ = password_step(app, "admin@council.example")
    assert submit(again, "/sign-in/code", {"code": later}).status_code == 400
    # a recovery code, once
    assert submit(again, "/sign-in/code", {"code": codes[0]}).status_code == 303
    third, _ = password_step(app, "admin@council.example")
    assert submit(third, "/sign-in/code", {"code": codes[0]}).status_code == 400
    actions = [e.action for e in db.session.query(AuditEvent)]
    assert "totp.set_up" in actions and "totp.recovery_code" in actions and "totp.failed" in actions


def test_five_wrong_codes_end_the_attempt(app, required):
    ensure_user("admin@council.example", name="Admin", role="admin", password=PASSWORD)
    db.session.commit()
    set_up(app, "admin@council.example")
    client, _ = password_step(app, "admin@council.example")
    for _ in range(5):
        assert submit(client, "/sign-in/code", {"code": "123456"}).status_code == 400
    assert client.get("/sign-in/code").status_code == 302  # back to the password


def test_codes_are_checked_within_one_step_of_drift_only(app):
    user = ensure_user("admin@council.example", name="Admin", role="admin", password=PASSWORD)
    sealed = totp.new_secret()
    key = totp.setup_key(sealed).replace(" ", "")
    start = 1_800_000_000.0
    assert totp.confirm_setup(user, sealed, pyotp.TOTP(key).at(start), now=start) is not None
    assert not totp.verify(user, pyotp.TOTP(key).at(start + 90), now=start)  # 3 steps ahead
    assert totp.verify(user, pyotp.TOTP(key).at(start + 30), now=start)  # 1 step ahead
    assert not totp.verify(user, pyotp.TOTP(key).at(start + 30), now=start + 30)  # used


def test_the_last_sign_in_and_the_audit_wait_for_the_second_factor(app, required):
    """A password alone (someone who has it, stopped at the code) is not a sign-in on the
    people pages; the code that completes it is, and is audited."""
    ensure_user("code.last@council.example", name="Code Last", role="admin", password=PASSWORD)
    db.session.commit()
    _, key, _ = set_up(app, "code.last@council.example")
    user_id = db.session.scalar(select(User.id).where(User.email == "code.last@council.example"))
    assert db.session.get(User, user_id).last_signed_in_at is not None  # set up: signed in
    db.session.execute(update(User).where(User.id == user_id).values(last_signed_in_at=None))
    db.session.commit()

    client, answer = password_step(app, "code.last@council.example")
    assert answer.headers["Location"] == "/sign-in/code"
    db.session.expire_all()
    assert db.session.get(User, user_id).last_signed_in_at is None  # stopped at the code
    pending = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id)
    ).all()[-1]
    assert pending.detail == {"second_factor": "pending"}

    later = pyotp.TOTP(key).at(time.time() + 30)  # the next step: set-up used this one
    assert submit(client, "/sign-in/code", {"code": later}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user_id).last_signed_in_at is not None
    assert "totp.passed" in [e.action for e in db.session.query(AuditEvent)]
