"""People, as administrators manage them: who has an account and what they hold; invite,
change roles per relationship, switch off and on.

An administrator manages the people who hold a role on a relationship in their reach (a
service-wide admin: everybody) and may grant or take away roles on those relationships only —
never on one outside their reach, and never a service-wide role (``relhealth user create``).
Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from instruments import LANGUAGES
from survey_app.extensions import db
from survey_app.models import Membership, Relationship, User
from survey_app.services import ServiceError, audit
from survey_app.services.accounts.links import issue_link
from survey_app.services.accounts.scope import AccessScope
from survey_app.services.accounts.users import (
    EMAIL,
    normalise_email,
    set_memberships,
    user_with_email,
)

NO_ROLE = ""


def people_in_reach(scope: AccessScope) -> list[User]:
    """Everybody (``scope`` unrestricted), else those holding a role on a relationship of it."""
    query = select(User).order_by(User.name, User.id)
    if not scope.everything:
        query = query.where(
            User.id.in_(scope.filter(select(Membership.user_id), Membership.relationship_id))
        )
    return list(db.session.scalars(query))


def person_or_none(user_id: int, scope: AccessScope) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or (not scope.everything and user not in people_in_reach(scope)):
        return None
    return user


def invite(
    email: str,
    name: str,
    relationship: Relationship,
    role: str,
    *,
    actor: User,
    language: str | None = None,
) -> tuple[User, str]:
    """A new account without a password, holding ``role`` on ``relationship``, and its
    invitation link token (to e-mail); ``language``, when the inviter knows it, is the
    person's (their pages and emails, starting with the invitation)."""
    email, name = normalise_email(email), " ".join(name.split())
    problems = []
    if not EMAIL.match(email) or len(email) > 254:
        problems.append(_("enter an email address in the correct format, like name@example.com"))
    elif user_with_email(email) is not None:
        problems.append(
            _("%(email)s already has an account: change its roles instead", email=email)
        )
    if not name or len(name) > 200:
        problems.append(_("enter the person's name (200 characters or fewer)"))
    if problems:
        raise ServiceError("; ".join(problems))
    organisation = _organisation_by_domain(relationship, email)
    if language is not None and language not in LANGUAGES:
        raise ServiceError(_("Select one of the languages listed"))
    user = User(email=email, name=name, organisation_id=organisation, language=language)
    db.session.add(user)
    set_memberships(user, {relationship.id: role})
    audit.record(
        "user.invite",
        actor=actor,
        user=user.id,
        relationship=relationship.id,
        role=role,
        language=language,
    )
    return user, issue_link(user, "invite")


def _organisation_by_domain(relationship: Relationship, email: str) -> int | None:
    """The party organisation of ``relationship`` whose provider vouches for the e-mail's
    domain, if one does."""
    domain = email.rpartition("@")[2]
    for party in relationship.parties:
        if domain in (party.organisation.allowed_email_domains or []):
            return party.organisation_id
    return None


def change_roles(user: User, roles: Mapping[int, str], scope: AccessScope, *, actor: User) -> None:
    """Set the user's roles on the relationships in ``scope`` named by ``roles`` (relationship id
    → role, or :data:`NO_ROLE`); roles on other relationships stay as they are."""
    if any(not scope.allows(rel_id) for rel_id in roles):
        raise ServiceError(_("you can change roles only on relationships you administer"))
    held = {m.relationship_id: m.role for m in user.memberships}
    wanted = {**held}
    for rel_id, role in roles.items():
        if role == NO_ROLE:
            wanted.pop(rel_id, None)
        else:
            wanted[rel_id] = role
    if wanted == held:
        return
    set_memberships(user, wanted)
    audit.record(
        "user.roles", actor=actor, user=user.id, roles={str(k): v for k, v in roles.items()}
    )


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Switch the account off (its sessions and API tokens stop at once) or on again."""
    if user.id == actor.id and not active:
        raise ServiceError(_("you cannot switch off your own account"))
    if user.active == active:
        return
    user.active = active
    db.session.flush()
    audit.record("user.activate" if active else "user.deactivate", actor=actor, user=user.id)
