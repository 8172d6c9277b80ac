"""Sign-in accounts and the roles they hold: service-wide (``User.role``) or per relationship
(``Membership``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from instruments import LANGUAGES
from survey_app.extensions import db
from survey_app.models import ROLES, Membership, Relationship, User
from survey_app.services import ServiceError, audit

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


def normalise_email(email: str) -> str:
    """The form an email address is stored, looked up and compared in: trimmed, lower case."""
    return email.strip().lower()


def user_with_email(email: str) -> User | None:
    """The account whose address is ``email`` (in any case, trimmed), if there is one."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def account_problems(*, name: str, role: str, password: str) -> list[str]:
    """What is wrong with an account's name, role and password (empty when nothing is)."""
    problems = []
    if role not in ROLES:
        problems.append(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        problems.append("the user needs a name")
    if len(password) < MIN_PASSWORD:
        problems.append(f"the password must be at least {MIN_PASSWORD} characters")
    return problems


def create_user(
    email: str,
    *,
    name: str,
    role: str,
    password: str,
    relationships: Iterable[Relationship] | None = None,
) -> User:
    """A new account holding ``role`` service-wide, or — when ``relationships`` is given — on
    each of those relationships only."""
    email = normalise_email(email)
    problems = [] if EMAIL.match(email) else [f"{email!r} is not an email address"]
    problems += account_problems(name=name, role=role, password=password)
    if EMAIL.match(email) and user_with_email(email):
        problems.append(f"a user {email} already exists")
    if problems:
        raise ServiceError("; ".join(problems))
    user = User(email=email, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    give_role(user, role, relationships)
    return user


def give_role(user: User, role: str, relationships: Iterable[Relationship] | None) -> None:
    """Make ``role`` the user's only role: service-wide (``relationships`` is ``None``) or on
    each of ``relationships``."""
    if relationships is None:
        user.role = role
        set_memberships(user, {})
    else:
        user.role = None
        set_memberships(user, {r.id: role for r in relationships})


def set_memberships(user: User, roles: Mapping[int, str]) -> None:
    """The user's roles per relationship become exactly ``roles`` (relationship id → role)."""
    wrong = sorted(set(roles.values()) - set(ROLES))
    if wrong:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}")
    held = {m.relationship_id: m for m in user.memberships}
    for relationship_id, membership in held.items():
        if relationship_id not in roles:
            user.memberships.remove(membership)
        else:
            membership.role = roles[relationship_id]
    for relationship_id, role in roles.items():
        if relationship_id not in held:
            user.memberships.append(Membership(relationship_id=relationship_id, role=role))
    db.session.flush()


def choose_language(user: User, language: str | None) -> None:
    """Remember ``language`` (``en``, ``cy``; ``None``: not known) for the user's pages and the
    emails sent to them. Audited only when it changes."""
    if language is not None and language not in LANGUAGES:
        raise ServiceError(_("Select one of the languages listed"))
    if user.language == language:
        return
    user.language = language
    db.session.flush()
    audit.record("user.language", actor=user, language=language)
