"""Fuzzing sign-in, sign-out and the API tokens page.

A refused sign-in may legitimately write one thing: a failed attempt (a ``sign_in_attempts``
row and a ``sign_in_failed`` audit event, plus ``sign_in_paused`` when it reaches the limit).
That exact effect is asserted; every other table must be unchanged, and so must those two when
the form itself is refused (bad CSRF token, bad email address, missing password)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from survey_app.extensions import db
from survey_app.models import ApiToken, User
from survey_app.services.accounts import api_tokens
from tests.fuzz.conftest import (
    CSRF,
    FUZZ,
    FUZZ_SLOW,
    PASSWORD,
    assert_clear_refusal,
    csrf_passes,
    csrf_value,
    nothing_changes,
    page_csrf,
    post_form,
    sign_in,
    tracebacks,
)
from tests.fuzz.digest import changed_tables, database_digest, table_rows
from tests.fuzz.strategies import fields, junk, maybe

ATTEMPT_TABLES = {"sign_in_attempts", "audit_events"}
ACTION = [c.name for c in db.metadata.tables["audit_events"].columns].index("action")


def test_fuzz_sign_in(app, other_csrf, caplog):
    sign_in(app, "reviewer", "known.fuzz@council.example")  # an account to guess at
    client = app.test_client()
    valid = page_csrf(client, "/sign-in")
    counted: list[int] = []

    @FUZZ_SLOW
    @example(
        mode="valid",
        pairs=[("email", "known.fuzz@council.example"), ("password", "wrong \x00 \ud800")],
        next_="?next=//evil.example",
    )
    @example(mode="valid", pairs=[("email", "nobody@council.example"), ("password", "x")], next_="")
    @given(
        mode=CSRF,
        pairs=fields(
            {
                "email": maybe(["known.fuzz@council.example", " KNOWN.fuzz@council.example "], 2),
                "password": st.one_of(junk.filter(lambda p: p != PASSWORD), st.just("p" * 1025)),
            }
        ),
        next_=st.sampled_from(["", "?next=//evil.example", "?next=%00", "?next=/admin/"]),
    )
    def run(mode, pairs, next_):  # type: ignore[no-untyped-def]
        db.session.remove()
        before = database_digest()
        attempts = table_rows("sign_in_attempts")
        events = table_rows("audit_events")
        start = len(caplog.records)
        tokens = [("csrf_token", t) for t in csrf_value(mode, valid, other_csrf)]
        response = post_form(client, "/sign-in" + next_, tokens + pairs)
        kind = assert_clear_refusal(response, statuses=(400, 429))
        db.session.remove()
        changed = changed_tables(before, database_digest())
        assert set(changed) <= ATTEMPT_TABLES, changed
        new_attempts = table_rows("sign_in_attempts")[len(attempts) :]
        new_events = table_rows("audit_events")[len(events) :]
        assert table_rows("sign_in_attempts")[: len(attempts)] == attempts
        assert table_rows("audit_events")[: len(events)] == events
        actions = [row[ACTION] for row in new_events]
        if changed:  # a failed attempt was counted: exactly one, and its audit events
            assert csrf_passes(mode) and kind == "form" and response.status_code == 400
            assert "Enter a correct email address and password" in response.get_data(as_text=True)
            assert len(new_attempts) == 1
            assert actions[0] == "sign_in_failed" and set(actions[1:]) <= {"sign_in_paused"}
            counted.append(1)
        elif not csrf_passes(mode):
            assert kind == "csrf"
        assert tracebacks(caplog.records[start:]) == []

    run()
    assert counted, "no example reached the password check"


def test_fuzz_sign_out(app, client, other_csrf, caplog):
    """Signing out needs the CSRF token: without it, 400; an anonymous sign-out changes nothing."""

    @FUZZ
    @given(mode=CSRF, pairs=fields({"submit": junk}))
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        valid = page_csrf(client, "/sign-in")  # signing out starts a new session
        tokens = [("csrf_token", t) for t in csrf_value(mode, valid, other_csrf)]
        with nothing_changes(caplog):
            response = post_form(client, "/sign-out", tokens + pairs)
            if csrf_passes(mode):
                assert response.status_code == 302  # nobody was signed in: nothing to record
            else:
                assert assert_clear_refusal(response, statuses=(400,)) == "csrf"

    run()


def test_fuzz_api_token_form(app, other_csrf, caplog):
    """With the maximum of active tokens, every name is refused with a clear message."""
    client = sign_in(app, "manager")
    user = db.session.scalar(db.select(User).where(User.role == "manager"))
    for n in range(api_tokens.MAX_ACTIVE):
        api_tokens.create_token(user, f"token {n}")
    db.session.commit()
    valid = page_csrf(client, "/account/api-tokens/")

    @FUZZ
    @given(
        mode=CSRF,
        pairs=fields(
            {
                "name": st.one_of(junk, st.just("Power BI"), st.text(min_size=101, max_size=150)),
                "days": st.one_of(junk, st.just("30"), st.just("0"), st.just("366")),
                "reach": st.one_of(junk, st.just("all"), st.just("999999")),
                "submit": junk,
            }
        ),
    )
    def run(mode, pairs):  # type: ignore[no-untyped-def]
        tokens = [("csrf_token", t) for t in csrf_value(mode, valid, other_csrf)]
        with nothing_changes(caplog):
            response = post_form(client, "/account/api-tokens/", tokens + pairs)
            kind = assert_clear_refusal(response, statuses=(400,))
            assert kind == ("form" if csrf_passes(mode) else "csrf")

    run()


def test_fuzz_api_token_revoke(app, other_csrf, caplog):
    """Someone else's token, or none: 404; a bad CSRF token: 400. Nothing is revoked."""
    sign_in(app, "reviewer")
    client = sign_in(app, "manager")
    other_token = api_tokens.create_token(db.session.get(User, _user("reviewer")), "theirs")
    api_tokens.create_token(db.session.get(User, _user("manager")), "mine")
    other_token = other_token.record.id
    db.session.commit()
    valid = page_csrf(client, "/account/api-tokens/")

    @FUZZ
    @given(
        token_id=st.sampled_from([other_token, 0, 999_999, 2**31 - 1, 2**31, 2**63, 10**30]),
        mode=CSRF,
        pairs=fields({"submit": junk}),
    )
    def run(token_id, mode, pairs):  # type: ignore[no-untyped-def]
        tokens = [("csrf_token", t) for t in csrf_value(mode, valid, other_csrf)]
        with nothing_changes(caplog):
            response = post_form(client, f"/account/api-tokens/{token_id}/revoke", tokens + pairs)
            kind = assert_clear_refusal(response, statuses=(400, 404))
            if response.status_code == 400:
                assert kind == "csrf"
        db.session.remove()
        assert db.session.get(ApiToken, other_token).revoked_at is None

    run()


def _user(role: str) -> int:
    return db.session.scalar(db.select(User.id).where(User.role == role))
