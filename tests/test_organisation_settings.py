"""``/admin/organisations``: a service-wide admin sets an organisation's OpenID sign-in in the
browser — the secret stored encrypted, kept when left empty; bad settings change nothing; all
audited without the secret."""

from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Organisation
from survey_app.services.accounts.federated import CLIENT_SECRET
from survey_app.services.accounts.secrets_box import unseal
from tests.factories import assert_form_error, submit
from tests.factories import sign_in as client_as

SECRET = "s3cret-from-the-provider"  # noqa: S105 (a test value)
SETTINGS = {
    "issuer": "https://login.microsoftonline.com/tenant-a/v2.0",
    "client_id": "client-a",
    "client_secret": SECRET,
    "domains": "Council-A.example\n@staff.council-a.example\n",
    "groups": "Contract managers=manager\n\nAuditors = reviewer",
    "local_passwords": "no",
    "admin_mfa": " mfa ",
}


def organisation_page(app):  # type: ignore[no-untyped-def]
    organisation = Organisation(name="Council A")
    db.session.add(organisation)
    db.session.commit()
    path = f"/admin/organisations/{organisation.id}/sign-in"
    return client_as(app, "admin"), path


def stored() -> Organisation:
    db.session.expire_all()
    return db.session.scalar(select(Organisation))


def test_a_service_wide_admin_sets_an_organisations_sign_in(app):
    admin, path = organisation_page(app)
    assert "/admin/organisations/" in admin.get("/admin/people/").get_data(as_text=True)
    assert "Council A" in admin.get("/admin/organisations/").get_data(as_text=True)
    saved = submit(admin, path, SETTINGS)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    organisation = stored()
    assert organisation.oidc_issuer == SETTINGS["issuer"]
    assert organisation.oidc_client_id == "client-a"
    assert SECRET not in organisation.oidc_client_secret
    assert unseal(CLIENT_SECRET, organisation.oidc_client_secret) == SECRET
    assert organisation.allowed_email_domains == ["council-a.example", "staff.council-a.example"]
    assert organisation.group_roles == {"Contract managers": "manager", "Auditors": "reviewer"}
    assert organisation.local_passwords_allowed is False
    assert organisation.admin_mfa_claim == "mfa"
    # the page shows what is stored, never the secret; an empty secret keeps it
    page = admin.get(path).get_data(as_text=True)
    assert "client-a" in page and SECRET not in page
    assert submit(admin, path, {**SETTINGS, "client_secret": "", "client_id": "b"}).status_code == (
        303
    )
    assert unseal(CLIENT_SECRET, stored().oidc_client_secret) == SECRET
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "organisation.oidc")
    ).all()
    assert len(events) == 2 and all(e.actor == "admin.pages@council.example" for e in events)
    assert SECRET not in repr([(e.actor, e.detail) for e in events])


def test_bad_settings_are_refused_and_change_nothing(app):
    admin, path = organisation_page(app)
    cases = [
        ({"issuer": "login.example"}, "the issuer must be a URL"),
        ({"domains": "not a domain"}, "is not an e-mail domain"),
        ({"groups": "Auditors=owner"}, "groups map to roles"),
        ({"groups": "no equals sign"}, "write GROUP=ROLE"),
        ({"client_secret": ""}, "needs a client id and a client secret"),
        ({"domains": ""}, "Enter at least one email domain"),
    ]
    for change, message in cases:
        response = submit(admin, path, {**SETTINGS, **change})
        assert_form_error(response)
        assert message.lower() in response.get_data(as_text=True).lower(), change
        organisation = stored()
        assert organisation.oidc_issuer is None and organisation.oidc_client_secret is None
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.oidc"))
        is None
    )
