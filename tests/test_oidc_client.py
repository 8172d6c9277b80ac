"""The OpenID Connect client core (survey_app/services/oidc.py) against real OpenID Providers:
two organisations' ``oidc-provider`` processes started by tests/oidc_provider.py."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from survey_app.services.accounts import oidc
from tests.oidc_provider import COUNCIL, REDIRECT_URI, SUPPLIER, follow_sign_in, serving
from tests.ports import free_port


@pytest.fixture(scope="module")
def providers():
    with serving(COUNCIL, SUPPLIER) as running:
        yield running


def registration(providers, organisation: str, client_id: str | None = None):
    """The service's registration with that organisation's provider (its ordinary client)."""
    provider = providers[organisation]
    client = provider.client(client_id or f"{organisation}-app")
    return oidc.IdentityProvider(provider.issuer, client.client_id, client.client_secret)


def start(idp: oidc.IdentityProvider, login_hint: str):
    """Begin a sign-in and let the provider sign ``login_hint`` in: (pending, callback query)."""
    redirect = oidc.begin_sign_in(idp, REDIRECT_URI, login_hint=login_hint)
    return redirect.pending, follow_sign_in(redirect.url)


# --- success ---------------------------------------------------------------------------------


def test_a_council_user_signs_in_through_the_councils_provider(providers):
    idp = registration(providers, "council")
    pending, callback = start(idp, "ann@council.example")

    identity = oidc.complete_sign_in(idp, pending, callback)

    # the council's provider keeps email, name and groups out of the ID token: from userinfo
    assert identity == oidc.VerifiedIdentity(
        issuer=providers["council"].issuer,
        subject="c-ann",
        email="ann@council.example",
        email_verified=True,
        name="Ann Archer",
        groups=("relationship-managers",),
        roles=(),
        amr=("pwd",),
        acr=None,
    )


def test_a_supplier_user_signs_in_through_the_suppliers_provider_at_the_same_time(providers):
    council, supplier = registration(providers, "council"), registration(providers, "supplier")
    council_pending, council_callback = start(council, "c-ann")
    supplier_pending, supplier_callback = start(supplier, "s-dev")

    identity = oidc.complete_sign_in(supplier, supplier_pending, supplier_callback)
    first = oidc.complete_sign_in(council, council_pending, council_callback)

    assert first.issuer == providers["council"].issuer and first.subject == "c-ann"
    assert identity.issuer == providers["supplier"].issuer != first.issuer
    assert (identity.subject, identity.email, identity.name) == (
        "s-dev",
        "dev@supplier.example",
        "Dev Dhillon",
    )
    assert identity.groups == ("0b1c2d3e-partnership",)
    assert identity.roles == ("Survey.Reviewer",)
    assert (identity.amr, identity.acr) == (("pwd", "mfa"), "urn:supplier:mfa")


def test_an_unverified_email_is_reported_as_unverified(providers):
    idp = registration(providers, "council")
    identity = oidc.complete_sign_in(idp, *start(idp, "c-ben"))
    assert (identity.email, identity.email_verified) == ("ben@council.example", False)


# --- the authorization request ---------------------------------------------------------------


def test_the_authorization_request_carries_fresh_state_nonce_and_an_s256_challenge(providers):
    idp = registration(providers, "council")
    first = oidc.begin_sign_in(idp, REDIRECT_URI)
    second = oidc.begin_sign_in(idp, REDIRECT_URI)

    for redirect in (first, second):
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect.url).query).items()}
        pending = redirect.pending
        assert query["state"] == pending.state and query["nonce"] == pending.nonce
        # RFC 7636 §4.2, computed here with hashlib: BASE64URL(SHA256(ASCII(code_verifier)))
        digest = hashlib.sha256(pending.code_verifier.encode("ascii")).digest()
        assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        assert query["code_challenge_method"] == "S256"
        assert 43 <= len(pending.code_verifier) <= 128
        assert len(pending.state) >= 43 and len(pending.nonce) >= 43  # 256 bits each
        assert query["redirect_uri"] == REDIRECT_URI and query["client_id"] == "council-app"
        assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert {first.pending.state, first.pending.nonce, first.pending.code_verifier}.isdisjoint(
        {second.pending.state, second.pending.nonce, second.pending.code_verifier}
    )


def test_the_provider_refuses_the_code_without_the_right_verifier(providers):
    idp = registration(providers, "council")
    pending, callback = start(idp, "c-ann")
    with pytest.raises(oidc.CodeRejected):
        oidc.complete_sign_in(idp, replace(pending, code_verifier="x" * 64), callback)


def test_the_pending_sign_in_goes_through_a_json_session(providers):
    pending = oidc.begin_sign_in(registration(providers, "council"), REDIRECT_URI).pending
    kept = json.loads(json.dumps(pending.to_session()))
    assert oidc.PendingSignIn.from_session(kept) == pending
    for broken in (None, {}, {**kept, "state": ""}, {**kept, "started_at": "yesterday"}):
        with pytest.raises(oidc.StateMismatch):
            oidc.PendingSignIn.from_session(broken)


# --- state, replay, mix-up -------------------------------------------------------------------


def test_a_replayed_callback_is_refused(providers):
    idp = registration(providers, "council")
    pending, callback = start(idp, "c-ann")
    oidc.complete_sign_in(idp, pending, callback)

    # the view removed the pending sign-in from the session: a replay finds none ...
    with pytest.raises(oidc.StateMismatch):
        oidc.PendingSignIn.from_session(None)
    # ... and were it kept, the provider refuses the code a second time
    with pytest.raises(oidc.CodeRejected):
        oidc.complete_sign_in(idp, pending, callback)


def test_the_state_of_another_sign_in_is_refused(providers):
    idp = registration(providers, "council")
    earlier_pending, earlier_callback = start(idp, "c-ann")
    later_pending, later_callback = start(idp, "c-ann")

    with pytest.raises(oidc.StateMismatch):
        oidc.complete_sign_in(idp, later_pending, earlier_callback)
    for forged in ("", "é" * 43, later_pending.state + "x"):
        with pytest.raises(oidc.StateMismatch):
            oidc.complete_sign_in(idp, later_pending, {**later_callback, "state": forged})
    with pytest.raises(oidc.StateMismatch):
        oidc.complete_sign_in(
            idp, later_pending, {k: v for k, v in later_callback.items() if k != "state"}
        )
    # the genuine pair still works: nothing above spent it
    assert oidc.complete_sign_in(idp, later_pending, later_callback).subject == "c-ann"
    assert oidc.complete_sign_in(idp, earlier_pending, earlier_callback).subject == "c-ann"


def test_a_callback_from_the_other_organisations_provider_is_refused(providers):
    council, supplier = registration(providers, "council"), registration(providers, "supplier")
    pending, callback = start(council, "c-ann")

    # completed against the supplier's registration (the session said council)
    with pytest.raises(oidc.StateMismatch):
        oidc.complete_sign_in(supplier, pending, callback)
    # the response names another issuer (RFC 9207), or none although the provider sends it
    with pytest.raises(oidc.StateMismatch, match="different identity provider"):
        oidc.complete_sign_in(council, pending, {**callback, "iss": supplier.issuer})
    with pytest.raises(oidc.StateMismatch, match="different identity provider"):
        oidc.complete_sign_in(council, pending, {k: v for k, v in callback.items() if k != "iss"})


def test_a_sign_in_older_than_its_lifetime_is_refused(providers):
    idp = registration(providers, "council")
    pending, callback = start(idp, "c-ann")
    stale = replace(pending, started_at=time.time() - oidc.PENDING_LIFETIME - 1)
    with pytest.raises(oidc.SignInExpired):
        oidc.complete_sign_in(idp, stale, callback)


# --- the ID token ----------------------------------------------------------------------------


def test_a_wrong_nonce_is_refused(providers):
    idp = registration(providers, "council")
    pending, callback = start(idp, "c-ann")
    with pytest.raises(oidc.NonceMismatch) as refused:
        oidc.complete_sign_in(
            idp, replace(pending, nonce="a-nonce-this-browser-never-sent"), callback
        )
    assert str(refused.value) == oidc.NonceMismatch.default_message


def test_an_expired_id_token_is_refused(providers):
    # the "expiring" client's ID tokens live one second and arrive 1.1 s after they are issued
    idp = registration(providers, "council", "council-expiring")
    with pytest.raises(oidc.IDTokenExpired):
        oidc.complete_sign_in(idp, *start(idp, "c-ann"), leeway=0)
    # the same late token is accepted within the clock leeway: it was refused for its age alone
    assert oidc.complete_sign_in(idp, *start(idp, "c-ann"), leeway=30).subject == "c-ann"


@pytest.mark.parametrize(
    ("client_id", "error"),
    [
        ("wrong-audience", oidc.AudienceMismatch),  # re-signed with the provider's own key
        ("foreign-key", oidc.SignatureInvalid),  # signed by a second key set under its kid
        ("altered-claims", oidc.SignatureInvalid),  # email changed after signing
    ],
)
@pytest.mark.parametrize("organisation", ["council", "supplier"])
def test_an_id_token_the_provider_never_issued_is_refused(
    providers, organisation, client_id, error
):
    idp = registration(providers, organisation, f"{organisation}-{client_id}")
    hint = providers[organisation].settings.users[0].sub
    with pytest.raises(error) as refused:
        oidc.complete_sign_in(idp, *start(idp, hint))
    assert str(refused.value) == error.default_message


# --- the provider's refusals and failures ----------------------------------------------------


def test_a_disabled_account_is_refused_by_its_provider(providers):
    idp = registration(providers, "council")
    with pytest.raises(oidc.SignInRefused, match="This account is disabled") as refused:
        oidc.complete_sign_in(idp, *start(idp, "c-cat"))
    assert refused.value.error == "access_denied"


def test_an_error_answer_with_a_forged_state_is_a_state_mismatch(providers):
    idp = registration(providers, "council")
    pending = oidc.begin_sign_in(idp, REDIRECT_URI).pending
    forged = {"error": "access_denied", "error_description": "Call 0800 FRAUD", "state": "forged"}
    with pytest.raises(oidc.StateMismatch):
        oidc.complete_sign_in(idp, pending, forged)


def test_a_registration_without_the_openid_scope_or_a_secret_is_refused():
    with pytest.raises(ValueError, match="openid"):
        oidc.IdentityProvider("https://login.council.example", "app", "secret", ("email",))
    with pytest.raises(ValueError, match="secret"):
        oidc.IdentityProvider("https://login.council.example", "app", "")


def test_the_issuer_must_be_exactly_the_providers_own(providers):
    idp = registration(providers, "council")
    with pytest.raises(oidc.ProviderMisconfigured, match="calls itself"):
        oidc.begin_sign_in(replace(idp, issuer=idp.issuer + "/"), REDIRECT_URI)


def test_a_provider_that_does_not_answer_is_unavailable(providers):
    idp = oidc.IdentityProvider(f"http://127.0.0.1:{free_port()}", "app", "secret")
    with pytest.raises(oidc.ProviderUnavailable):
        oidc.begin_sign_in(idp, REDIRECT_URI)


def test_plain_http_is_refused_except_to_loopback_in_tests(providers, monkeypatch):
    with pytest.raises(oidc.ProviderMisconfigured, match="https"):
        oidc.discover("http://login.council.example")
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT")
    with pytest.raises(oidc.ProviderMisconfigured, match="https"):
        oidc.discover(providers["council"].issuer)
