"""Sign-in accounts."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import ROLES, User
from survey_app.services import ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


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


def create_user(email: str, *, name: str, role: str, password: str) -> User:
    email = email.strip().lower()
    problems = [] if EMAIL.match(email) else [f"{email!r} is not an email address"]
    problems += account_problems(name=name, role=role, password=password)
    if EMAIL.match(email) and db.session.scalar(select(User).where(User.email == email)):
        problems.append(f"a user {email} already exists")
    if problems:
        raise ServiceError("; ".join(problems))
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
