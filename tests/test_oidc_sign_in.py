"""Signing in through each organisation's OpenID Provider, from the sign-in page to a scoped
session: two real providers at once (tests/oidc_provider.py), the council's and the supplier's."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from survey_app.extensions import db
from survey_app.models import AuditEvent, Organisation, User
from survey_app.services.accounts import federated
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.relationships import create_relationship
from survey_app.web.auth.federated import PENDING
from tests.oidc_provider import COUNCIL, REDIRECT_URI, SUPPLIER, follow_sign_in, serving


@pytest.fixture(scope="module")
def providers():
    with serving(COUNCIL, SUPPLIER) as running:
        yield running


@pytest.fixture
def world(app, factory, providers):  # type: ignore[no-untyped-def]
    """The council is party to two relationships (one with the supplier), the supplier to one;
    each organisation's provider is set, with its ordinary client."""
    app.config["PUBLIC_BASE_URL"] = REDIRECT_URI.removesuffix("/sign-in/callback")
    ours = factory.relationship("Test Council — Test Supplier", areas=["Core ICT"])
    other = create_relationship(
        "Test Council — Another", client="Test Council", supplier="Another", service_areas=[]
    )
    for org_name in OWN:
        configure(providers, org_name)
    db.session.commit()
    return {"ours": ours.id, "other": other.id}


#: Each organisation's own email domain and group-to-role mapping (the world's settings).
OWN = {
    "Test Council": ("council.example", {"relationship-managers": "manager"}),
    "Test Supplier": ("supplier.example", {"Survey.Reviewer": "reviewer"}),
}


def configure(
    providers, org_name: str, *, client: str = "app", domain=None, group_roles=None, **kw
):  # type: ignore[no-untyped-def]
    """Set the organisation's provider; the domain and group roles default to its own."""
    own_domain, own_roles = OWN[org_name]
    organisation = db.session.query(Organisation).filter_by(name=org_name).one()
    running = providers["council" if "Council" in org_name else "supplier"]
    registered = running.client(f"{running.settings.name}-{client}")
    federated.configure_provider(
        organisation,
        issuer=running.issuer,
        client_id=registered.client_id,
        client_secret=registered.client_secret,
        email_domains=[domain or own_domain],
        group_roles=own_roles if group_roles is None else group_roles,
        **kw,
    )
    db.session.commit()
    return organisation.id


def organisation_id(name: str) -> int:
    return db.session.query(Organisation).filter_by(name=name).one().id


def sign_in_through(client, org_name: str, login_hint: str):  # type: ignore[no-untyped-def]
    """The browser's round trip: our redirect, the provider, our callback. (callback answer, query)"""
    started = client.get(
        f"/sign-in/with/{organisation_id(org_name)}?{urlencode({'login_hint': login_hint})}"
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    query = follow_sign_in(started.headers["Location"])
    return client.get("/sign-in/callback?" + urlencode(query)), query


def problem(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_the_sign_in_page_offers_each_organisation_s_provider(app, client, world):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with your Test Council account" in page
    assert "Sign in with your Test Supplier account" in page


def test_a_council_manager_signs_in_and_sees_only_the_council_s_relationships(app, client, world):
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert answer.status_code == 302
    user = db.session.query(User).filter_by(email="ann@council.example").one()
    assert (user.oidc_subject, user.role, user.password_hash) == ("c-ann", None, None)
    assert {m.relationship_id: m.role for m in user.memberships} == {
        world["ours"]: "manager",
        world["other"]: "manager",
    }
    assert user.last_signed_in_at is not None
    assert client.get(f"/dashboard/{world['ours']}/").status_code == 200
    assert client.get("/downloads/").status_code == 403  # a manager, not a reviewer


def test_a_supplier_reviewer_downloads_only_the_supplier_s_relationship(app, world):
    council, supplier = app.test_client(), app.test_client()
    assert sign_in_through(council, "Test Council", "c-ann")[0].status_code == 302
    answer, _ = sign_in_through(supplier, "Test Supplier", "s-dev")  # both providers at once
    assert answer.status_code == 302
    assert supplier.get(f"/downloads/{world['ours']}/").status_code == 200
    assert supplier.get(f"/downloads/{world['other']}/").status_code == 404
    assert supplier.get(f"/dashboard/{world['ours']}/").status_code == 403


def test_the_account_is_keyed_on_issuer_and_subject_and_updated_on_each_sign_in(app, client, world):
    sign_in_through(client, "Test Council", "c-ann")
    user = db.session.query(User).filter_by(oidc_subject="c-ann").one()
    user.name = "Changed here"
    user.email = "renamed@council.example"
    db.session.commit()
    again = app.test_client()
    assert sign_in_through(again, "Test Council", "c-ann")[0].status_code == 302
    accounts = db.session.query(User).filter_by(oidc_subject="c-ann").all()
    assert len(accounts) == 1 and accounts[0].name == "Ann Archer"


def test_an_existing_local_account_with_the_same_email_is_not_taken_over(app, client, world):
    ensure_user(
        "ann@council.example", name="Local Ann", role="admin", password="a local passphrase"
    )
    db.session.commit()
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert "already exists" in problem(answer)
    assert db.session.query(User).filter_by(email="ann@council.example").one().role == "admin"


def test_a_replayed_callback_is_refused(app, client, world):
    answer, query = sign_in_through(client, "Test Council", "c-ann")
    assert answer.status_code == 302
    replayed = app.test_client().get("/sign-in/callback?" + urlencode(query))
    assert "not started here" in problem(replayed)
    same_browser = client.get("/sign-in/callback?" + urlencode(query))
    assert "not started here" in problem(same_browser)


def test_a_wrong_nonce_is_refused(app, client, world):
    started = client.get(f"/sign-in/with/{organisation_id('Test Council')}?login_hint=c-ann")
    with client.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "nonce": "not-the-nonce-sent"}
    query = follow_sign_in(started.headers["Location"])
    answer = client.get("/sign-in/callback?" + urlencode(query))
    assert "belongs to another sign-in" in problem(answer)
    assert db.session.query(User).count() == 0


def test_an_expired_id_token_is_refused(app, client, world, providers):
    app.config["OIDC_CLOCK_LEEWAY_SECONDS"] = 0
    configure(providers, "Test Council", client="expiring")
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert "already expired" in problem(answer)


@pytest.mark.parametrize(
    ("client_name", "message"),
    [
        ("wrong-audience", "meant for another service"),
        ("foreign-key", "not signed by that provider"),
    ],
)
def test_a_token_for_another_audience_or_with_a_bad_signature_is_refused(
    app, client, world, providers, client_name, message
):
    configure(providers, "Test Council", client=client_name)
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert message in problem(answer)
    assert db.session.query(User).count() == 0


def test_a_domain_not_allowed_and_an_unverified_email_are_refused(app, client, world, providers):
    configure(providers, "Test Council", domain="elsewhere.example")
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert "council.example cannot sign in" in problem(answer)
    configure(providers, "Test Council")
    unverified, _ = sign_in_through(app.test_client(), "Test Council", "c-ben")
    assert "did not confirm your email address" in problem(unverified)
    assert db.session.query(User).count() == 0
    reasons = [e.detail.get("reason") for e in db.session.query(AuditEvent).all()]
    assert "domain not allowed" in reasons and "email not verified" in reasons


def test_a_disabled_user_is_refused_here_and_by_the_provider(app, client, world):
    assert sign_in_through(client, "Test Council", "c-ann")[0].status_code == 302
    user = db.session.query(User).filter_by(oidc_subject="c-ann").one()
    user.active = False
    db.session.commit()
    answer, _ = sign_in_through(app.test_client(), "Test Council", "c-ann")
    assert "switched off" in problem(answer)
    refused, _ = sign_in_through(app.test_client(), "Test Council", "c-cat")
    assert "This account is disabled" in problem(refused)


def test_an_admin_must_have_signed_in_with_multi_factor_where_the_organisation_says(
    app, client, world, providers
):
    configure(
        providers,
        "Test Council",
        group_roles={"relationship-managers": "admin"},
        admin_mfa_claim="mfa",
    )
    answer, _ = sign_in_through(client, "Test Council", "c-ann")  # amr: pwd only
    assert "second factor" in problem(answer)
    configure(
        providers, "Test Supplier", group_roles={"Survey.Reviewer": "admin"}, admin_mfa_claim="mfa"
    )
    assert sign_in_through(app.test_client(), "Test Supplier", "s-dev")[0].status_code == 302


def test_nobody_mapped_to_a_role_gets_an_account(app, client, world, providers):
    configure(providers, "Test Council", group_roles={"other": "admin"})
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert "not given you a role" in problem(answer)
    assert db.session.query(User).count() == 0


def test_an_organisation_without_local_passwords_refuses_its_users_passwords(app, client, world):
    from tests.factories import post_sign_in

    organisation = db.session.get(Organisation, organisation_id("Test Council"))
    organisation.local_passwords_allowed = False
    user = ensure_user(
        "local@council.example", name="Local", role="manager", password="a local passphrase"
    )
    user.organisation_id = organisation.id
    db.session.commit()
    answer = post_sign_in(client, "local@council.example", "a local passphrase")
    assert answer.status_code == 400


def test_the_command_line_sets_an_organisation_s_provider_with_its_secret_encrypted(
    app, runner, factory
):
    factory.relationship()
    result = runner.invoke(
        args=[
            "organisation",
            "oidc",
            "Test Council",
            "--issuer",
            "https://id.council.example",
            "--client-id",
            "relhealth",
            "--client-secret",
            "s3cret-value",
            "--domain",
            "council.example",
            "--group",
            "Survey Managers=manager",
            "--no-local-passwords",
            "--admin-mfa",
            "mfa",
        ]
    )
    assert result.exit_code == 0, result.output
    organisation = db.session.query(Organisation).filter_by(name="Test Council").one()
    assert organisation.group_roles == {"Survey Managers": "manager"}
    assert not organisation.local_passwords_allowed
    assert "s3cret-value" not in organisation.oidc_client_secret
    assert federated.identity_provider(organisation).client_secret == "s3cret-value"
    bad = runner.invoke(
        args=[
            "organisation",
            "oidc",
            "Test Council",
            "--issuer",
            "https://x.example",
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--domain",
            "x.example",
            "--group",
            "G=owner",
        ]
    )
    assert bad.exit_code == 1 and "not owner" in bad.output


def test_an_invited_person_takes_up_the_invitation_by_signing_in_through_the_provider(
    app, client, world
):
    """The invitation link, opened first, lets the provider's identity sign in to the invited
    account (bound to its issuer + subject from then on); without the link the same email is
    never taken over."""
    from survey_app.models import Relationship
    from survey_app.services.accounts import people

    operator = ensure_user(
        "operator@council.example", name="Operator", role="admin", password="x" * 20
    )
    ours = db.session.get(Relationship, world["ours"])
    invited, token = people.invite(
        "ann@council.example", "Ann Invited", ours, "reviewer", actor=operator
    )
    db.session.commit()
    invited_id = invited.id
    without_link, _ = sign_in_through(app.test_client(), "Test Council", "c-ann")
    assert "already exists" in problem(without_link)  # the provider alone: refused

    assert client.get(f"/account/link/{token}").status_code == 303
    page = client.get("/account/set-password").get_data(as_text=True)
    assert "Sign in with your Test Council account" in page
    answer, _ = sign_in_through(client, "Test Council", "c-ann")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    db.session.expire_all()
    ann = db.session.get(User, invited_id)
    assert ann.oidc_subject == "c-ann" and ann.organisation.name == "Test Council"
    assert db.session.query(User).filter_by(email="ann@council.example").count() == 1
    assert client.get(f"/dashboard/{world['ours']}/").status_code == 200  # the provider's role
    assert "user.linked" in [e.action for e in db.session.query(AuditEvent)]
    # the link is used up; the account now signs in through the provider without it
    assert app.test_client().get(f"/account/link/{token}").status_code == 404
    assert sign_in_through(app.test_client(), "Test Council", "c-ann")[0].status_code == 302
