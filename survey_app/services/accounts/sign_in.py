"""Signing staff in: password checks, failed-attempt limits, session stamps, demo accounts.

No user enumeration: an unknown email address costs the same scrypt check as a known one (against
a dummy hash), gets the same message, counts towards the same limits and writes the same rows.
Failed attempts are counted in the database (``sign_in_attempts``), so several workers or hosts
share one count; a row holds only keyed hashes of the email address and the client address.
Functions flush and the request or CLI command commits, except :func:`authenticate`, which
commits its own short write transactions.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, text
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.database import write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import Relationship, SignInAttempt, User
from survey_app.models import user as user_model
from survey_app.services import ServiceError, audit
from survey_app.services.accounts import totp
from survey_app.services.accounts.users import (
    account_problems,
    create_user,
    give_role,
    normalise_email,
    user_with_email,
)
from survey_app.texts import N_

#: The problems a sign-in shows (translated where shown).
WRONG_DETAILS = N_("Enter a correct email address and password")
ACCOUNT_OFF = N_(
    "Your account has been switched off. Ask your survey administrator if you still need it"
)
UNKNOWN_ACCOUNT = "(unknown account)"


@dataclass(frozen=True)
class SignInOutcome:
    """What a sign-in attempt came to: a ``user``, a ``problem`` to show, or ``retry_after``
    seconds to wait because of too many failed attempts."""

    user: User | None = None
    problem: str | None = None
    retry_after: int | None = None


def dummy_password_hash() -> str:
    """A hash of a random password, checked when the email address matches no account: made
    with the method real passwords are hashed with, so that checking it costs the same."""
    return _dummy_hash(user_model.PASSWORD_HASH_METHOD)


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(32), method=method)


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the app's secret key (hex): what attempt rows store."""
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key_bytes, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def authenticate(email: str, password: str, *, client_address: str) -> SignInOutcome:
    """Check an email address and password typed on the sign-in page; commits.

    Refuses without checking the password while the email address or the client address has
    too many recent failures. Otherwise the attempt first takes its place in the count, as a
    failure, in one short write transaction that also re-reads the count: so attempts made at
    the same moment (other workers, other hosts) can never together check more passwords than
    the limit allows. The password is then checked outside any lock (scrypt takes a while and
    must not hold up survey submits), against a dummy hash for an unknown address; a correct
    one clears the address's failures. Either way it is audited.
    """
    email = normalise_email(email)
    now = utcnow()
    email_key, client_key = attempt_keys(email, client_address)
    wait = take_attempt(email_key, client_key, now=now)
    if wait:
        return SignInOutcome(retry_after=wait)

    user = user_with_email(email)
    usable = user is not None and local_password_usable(user)
    password_ok = (
        check_password_hash(
            user.password_hash if usable else dummy_password_hash(),  # type: ignore[union-attr,arg-type]
            password,
        )
        and usable
    )
    with write_transaction():
        if user is not None and password_ok and user.active:
            db.session.execute(delete(SignInAttempt).where(SignInAttempt.email_hash == email_key))
            if totp.second_factor_follows(user):  # complete, and recorded, with the code
                audit.record("sign_in", actor=user, second_factor="pending")
            else:
                user.last_signed_in_at = now
                audit.record("sign_in", actor=user)
            return SignInOutcome(user=user)

        if user is None:
            reason = "unknown account"
        elif not usable:
            reason = "no local password"
        elif not password_ok:
            reason = "wrong password"
        else:
            reason = "account switched off"
        audit.record(
            "sign_in_failed", actor=user if user is not None else UNKNOWN_ACCOUNT, reason=reason
        )
        if seconds_until_allowed(email_key, client_key, now=now):
            audit.record(
                "sign_in_paused",
                actor=user if user is not None else UNKNOWN_ACCOUNT,
                minutes=int(_window().total_seconds() // 60),
            )
    problem = ACCOUNT_OFF if user is not None and password_ok else WRONG_DETAILS
    return SignInOutcome(problem=problem)


def attempt_keys(email: str, client_address: str, *, purpose: str = "") -> tuple[str, str]:
    """The keyed hashes an attempt is counted under: its email address and its client address.

    ``purpose`` keeps another kind of attempt (``"reset"``: asking for a password reset link)
    in counts of its own, so that asking for links cannot pause anybody's sign-in."""
    prefix = f"{purpose}:" if purpose else ""
    return (
        keyed_hash(f"{prefix}email", normalise_email(email)),
        keyed_hash(f"{prefix}client", client_address or "unknown"),
    )


def take_attempt(email_key: str, client_key: str, *, now: datetime) -> int | None:
    """Count an attempt, as a failure, unless the email or client address is paused; commits.

    Returns the seconds to wait while paused (nothing counted), else ``None``. The count is
    re-read and written in one short write transaction, so attempts made at the same moment
    by other workers or hosts cannot together exceed the limits."""
    with write_transaction():
        _lock_counts(email_key, client_key)
        wait = seconds_until_allowed(email_key, client_key, now=now)
        if not wait:
            _record_failure(email_key, client_key, now=now)
    return wait


def reset_request_wait(email: str, client_address: str) -> int | None:
    """Count a request for a password reset link under the sign-in limits (counts of its own:
    every request counts, whether or not the address has an account); commits. Returns the
    seconds to wait if too many were asked for lately, else ``None``."""
    email_key, client_key = attempt_keys(email, client_address, purpose="reset")
    return take_attempt(email_key, client_key, now=utcnow())


def _lock_counts(email_key: str, client_key: str) -> None:
    """Serialise attempts on the same email or client address until the transaction ends.

    SQLite's write transaction already holds the database's one write lock; PostgreSQL takes a
    transaction-scoped advisory lock per key (in a fixed order, so two attempts cannot
    deadlock), because two plain transactions would each count the other's attempt out."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({f"email:{email_key}", f"client:{client_key}"}):
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:lock)"),
            {"lock": int(key.split(":", 1)[1][:15], 16) ^ (0 if key[0] == "e" else 1)},
        )


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])


def seconds_until_allowed(email_key: str, client_key: str, *, now: datetime) -> int | None:
    """Seconds until a new attempt is allowed, or ``None`` if it is allowed now.

    With limit L, the wait ends when the L-th most recent failure leaves the window."""
    window = _window()
    limits = (
        (SignInAttempt.email_hash, email_key, current_app.config["SIGN_IN_MAX_FAILURES_PER_EMAIL"]),
        (
            SignInAttempt.client_hash,
            client_key,
            current_app.config["SIGN_IN_MAX_FAILURES_PER_CLIENT"],
        ),
    )
    until: datetime | None = None
    for column, key, limit in limits:
        if limit <= 0:
            continue
        oldest_counted = db.session.scalar(
            select(SignInAttempt.at)
            .where(column == key, SignInAttempt.at > now - window)
            .order_by(SignInAttempt.at.desc())
            .offset(limit - 1)
            .limit(1)
        )
        if oldest_counted is not None:
            ends = oldest_counted + window
            until = ends if until is None else max(until, ends)
    if until is None or until <= now:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def _record_failure(email_key: str, client_key: str, *, now: datetime) -> None:
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.at <= now - _window()))
    db.session.add(SignInAttempt(at=now, email_hash=email_key, client_hash=client_key))


# ------------------------------------------------------------------ sessions


def local_password_usable(user: User) -> bool:
    """Whether ``user`` may sign in with a local password: they have one, and their
    organisation (if any) still allows local passwords."""
    if user.password_hash is None:
        return False
    return user.organisation is None or user.organisation.local_passwords_allowed


def session_stamp(user: User) -> str:
    """A value kept in the session at sign-in: it stops matching when the password changes,
    so resetting a password signs the account out everywhere."""
    return keyed_hash("session", f"{user.id}:{user.password_hash}")[:32]


def user_for_session(
    user_id: str, *, stamp: str | None, signed_in_at: float | None, now: float
) -> User | None:
    """The user a session names, if the account is still active, its password unchanged since
    sign-in (``stamp``) and the sign-in younger than ``SIGN_IN_SESSION_HOURS``."""
    if not user_id.isdigit() or not stamp or signed_in_at is None:
        return None
    max_age = current_app.config["SIGN_IN_SESSION_HOURS"] * 3600
    if not 0 <= now - signed_in_at <= max_age:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(stamp, session_stamp(user)):
        return None
    return user


# ------------------------------------------------------------------ accounts


def ensure_user(
    email: str,
    *,
    name: str,
    role: str,
    password: str,
    relationships: Iterable[Relationship] | None = None,
) -> User:
    """Create the account, or bring an existing one to exactly these details (active, with
    this name, role and password): safe to run again and again, e.g. for demo accounts. The
    role is service-wide, or held on each of ``relationships`` only when they are given.

    An unchanged password keeps its hash (and so its sessions); a new one is hashed afresh,
    which signs the account out everywhere. Any paused sign-in for the address is lifted.
    """
    email = normalise_email(email)
    user = user_with_email(email)
    if user is None:
        user = create_user(
            email, name=name, role=role, password=password, relationships=relationships
        )
    else:
        problems = account_problems(name=name, role=role, password=password)
        if problems:
            raise ServiceError("; ".join(problems))
        user.name = name.strip()
        give_role(user, role, relationships)
        user.active = True
        if user.password_hash is None or not check_password_hash(user.password_hash, password):
            user.set_password(password)
    db.session.execute(
        delete(SignInAttempt).where(SignInAttempt.email_hash == attempt_keys(email, "")[0])
    )
    db.session.flush()
    return user
