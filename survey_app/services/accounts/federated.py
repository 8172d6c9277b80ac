"""Signing in through an organisation's OpenID Provider: its settings, and the account of the
person it vouches for (made or brought up to date just in time).

An organisation's provider is set with :func:`configure_provider` (``relhealth organisation
oidc``). When a sign-in completes (``oidc.complete_sign_in``), :func:`account_for` decides:

* the account is found by **issuer + subject** (for Entra ID: the tenant and the object id),
  never by e-mail address;
* the e-mail domain must be one the organisation lists, and the address **verified** by the
  provider — else refused (an unverified address says nothing about who it is);
* the provider's groups and app roles (``groups``, ``roles``) map to one of our roles by the
  organisation's ``group_roles``; the highest one found is held on every relationship the
  organisation is a party to, and replaces what the account held before (the provider decides).
  Nobody mapped to no role gets an account;
* a deactivated account is refused; an admin must have signed in with multi-factor when the
  organisation names the ``amr`` value (or ``acr``) that proves it (``admin_mfa_claim``).

Every refusal is a :class:`FederatedRefusal` whose message can be shown, and is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import ROLES, Organisation, User
from survey_app.services import ServiceError, audit
from survey_app.services.accounts import links, oidc
from survey_app.services.accounts.secrets_box import seal, unseal
from survey_app.services.accounts.users import (
    EMAIL,
    normalise_email,
    set_memberships,
    user_with_email,
)
from survey_app.services.organisations import relationships_of

CLIENT_SECRET = "oidc client secret"  # noqa: S105 (the purpose label of a sealed secret)
#: Most to least: the role kept when several groups map to roles.
RANKED = ("admin", "manager", "reviewer")


class FederatedRefusal(oidc.SignInFailed):
    """The provider vouched for someone this service will not sign in; the message says why."""


def identity_provider(organisation: Organisation) -> oidc.IdentityProvider:
    """The registration of this service with ``organisation``'s provider."""
    if not organisation.signs_in_with_oidc or not organisation.oidc_client_secret:
        raise oidc.ProviderMisconfigured()
    return oidc.IdentityProvider(
        organisation.oidc_issuer,  # type: ignore[arg-type]
        organisation.oidc_client_id,  # type: ignore[arg-type]
        unseal(CLIENT_SECRET, organisation.oidc_client_secret),
    )


def providers() -> list[Organisation]:
    """The organisations whose staff may sign in through their provider, by name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.oidc_issuer.is_not(None), Organisation.oidc_client_id.is_not(None))
            .order_by(Organisation.name)
        )
    )


def configure_provider(
    organisation: Organisation,
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    email_domains: Iterable[str],
    group_roles: Mapping[str, str],
    local_passwords_allowed: bool = True,
    admin_mfa_claim: str | None = None,
    actor: User | str = "cli",
) -> Organisation:
    """Set (or replace) ``organisation``'s provider. The secret is stored encrypted; an empty
    ``client_secret`` keeps the one stored."""
    domains = sorted({d.strip().lower().lstrip("@") for d in email_domains if d.strip()})
    problems = []
    if not issuer.startswith(("https://", "http://")):
        problems.append("the issuer must be a URL (https)")
    if not client_id.strip() or not (client_secret or organisation.oidc_client_secret):
        problems.append("the provider needs a client id and a client secret")
    if not domains:
        problems.append("list at least one e-mail domain the provider may sign in")
    for domain in domains:
        if not EMAIL.match(f"x@{domain}"):
            problems.append(f"{domain!r} is not an e-mail domain")
    wrong = sorted(r for r in group_roles.values() if r not in ROLES)
    if wrong:
        problems.append(f"groups map to roles {', '.join(ROLES)}, not {', '.join(wrong)}")
    taken = db.session.scalar(
        select(Organisation).where(
            Organisation.oidc_issuer == issuer, Organisation.id != organisation.id
        )
    )
    if taken is not None:
        problems.append(f"the issuer is already {taken.name}'s")
    if problems:
        raise ServiceError("; ".join(problems))
    organisation.oidc_issuer = issuer
    organisation.oidc_client_id = client_id.strip()
    if client_secret:
        organisation.oidc_client_secret = seal(CLIENT_SECRET, client_secret)
    organisation.allowed_email_domains = domains
    organisation.group_roles = dict(group_roles)
    organisation.local_passwords_allowed = local_passwords_allowed
    organisation.admin_mfa_claim = admin_mfa_claim or None
    db.session.flush()
    audit.record(
        "organisation.oidc",
        actor=actor,
        organisation=organisation.id,
        issuer=issuer,
        domains=domains,
        local_passwords=local_passwords_allowed,
    )
    return organisation


def group_roles_from(pairs: Iterable[str]) -> dict[str, str]:
    """``GROUP=ROLE`` pairs (as typed on the command line or a page, one a line) as a mapping;
    blank ones are skipped, a pair without ``=`` or a group is refused."""
    mapping = {}
    for pair in (p.strip() for p in pairs):
        if not pair:
            continue
        group, _, role = pair.rpartition("=")
        if not group.strip():
            raise ServiceError(f"{pair!r}: write GROUP=ROLE")
        mapping[group.strip()] = role.strip()
    return mapping


def mapped_role(organisation: Organisation, identity: oidc.VerifiedIdentity) -> str | None:
    """The highest of our roles that the identity's groups or app roles map to, if any."""
    found = {organisation.group_roles.get(name) for name in (*identity.groups, *identity.roles)}
    return next((role for role in RANKED if role in found), None)


def _refuse(identity: oidc.VerifiedIdentity, reason: str, message: str) -> FederatedRefusal:
    audit.record("sign_in_failed", actor=identity.email or "(identity provider)", reason=reason)
    return FederatedRefusal(message)


def account_for(
    organisation: Organisation,
    identity: oidc.VerifiedIdentity,
    *,
    invitation: str | None = None,
) -> User:
    """The account ``identity`` signs in to — made, or brought up to date — or a refusal.

    ``invitation`` is the hash of an invitation link opened in this browser before it went to
    the provider: the account it invites, still without an identity and with the identity's
    verified email, is then the one signed in to, and keeps this issuer + subject from now on
    (the link is used up). Without it an account is never found by its email.
    """
    email = normalise_email(identity.email or "")
    domain = email.rpartition("@")[2]
    if not identity.email_verified or not EMAIL.match(email):
        raise _refuse(
            identity,
            "email not verified",
            "Your organisation's identity provider did not confirm your email address, "
            "so you cannot sign in with it.",
        )
    if domain not in organisation.allowed_email_domains:
        raise _refuse(
            identity,
            "domain not allowed",
            f"Email addresses at {domain} cannot sign in through {organisation.name}'s "
            "identity provider.",
        )
    user = db.session.scalar(
        select(User).where(
            User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
        )
    )
    if user is not None and not user.active:
        raise _refuse(
            identity,
            "account switched off",
            "Your account has been switched off. "
            "Ask your survey administrator if you still need it.",
        )
    role = mapped_role(organisation, identity)
    if role is None and (user is None or organisation.group_roles):
        raise _refuse(
            identity,
            "no role",
            "Your organisation has not given you a role in this service. Ask your survey "
            "administrator.",
        )
    if role == "admin" and organisation.admin_mfa_claim:
        claim = organisation.admin_mfa_claim
        if claim not in identity.amr and claim != identity.acr:
            raise _refuse(
                identity,
                "no multi-factor sign-in",
                "Administrators must sign in with a second factor. Sign in again through "
                "your organisation with multi-factor authentication.",
            )
    if user is None:
        user = _invited_account(organisation, identity, email, invitation)
    if user is None:
        user = _new_account(organisation, identity, email)
    if role is not None:
        set_memberships(user, {r.id: role for r in relationships_of(organisation)})
    user.name = (identity.name or user.name).strip()[:200] or email
    user.last_signed_in_at = utcnow()
    db.session.flush()
    audit.record("sign_in", actor=user, method="oidc", organisation=organisation.id)
    return user


def _invited_account(
    organisation: Organisation, identity: oidc.VerifiedIdentity, email: str, invitation: str | None
) -> User | None:
    """The invited account of ``invitation`` (a link hash), bound to ``identity`` — if the link
    is an unused invitation of an account with this email, no identity yet, and no other
    organisation."""
    holder = links.holder_of(invitation) if invitation else None
    if holder is None or holder.link.purpose != "invite":
        return None
    invited = holder.user
    if invited.email != email or invited.oidc_subject is not None:
        return None
    if invited.organisation_id not in (None, organisation.id):
        return None
    invited.oidc_issuer, invited.oidc_subject = identity.issuer, identity.subject
    invited.organisation_id = organisation.id
    links.use_link(holder)
    audit.record("user.linked", actor=invited, method="oidc", organisation=organisation.id)
    return invited


def _new_account(organisation: Organisation, identity: oidc.VerifiedIdentity, email: str) -> User:
    if user_with_email(email) is not None:
        raise _refuse(
            identity,
            "email taken",
            "An account with your email address already exists here. Ask your survey "
            "administrator to let it sign in through your organisation.",
        )
    user = User(
        email=email,
        name=(identity.name or email).strip()[:200],
        organisation_id=organisation.id,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
    )
    return audit.created(
        user, "user.create", actor=user, method="oidc", organisation=organisation.id
    )
