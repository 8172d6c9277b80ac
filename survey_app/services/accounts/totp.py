"""The second factor of local-password accounts: TOTP (RFC 6238, pyotp), required for anyone
holding an admin role.

The secret is stored encrypted (``secrets_box``: it must be read to check a code). A code is
accepted once: the time step it belongs to must be later than the last step accepted
(``users.totp_last_step``), with one step (30 s) of clock drift either way. Ten recovery codes
(80 random bits each) are given when the second factor is set up, stored as SHA-256 hashes
(like API tokens: nothing to guess), each usable once. Accounts that sign in through their
organisation's provider rely on its multi-factor policy instead (``federated``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, datetime

import pyotp
from flask import current_app
from sqlalchemy import select

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import RecoveryCode, User
from survey_app.services import audit
from survey_app.services.accounts.secrets_box import seal, unseal
from survey_app.services.tokens import hash_token

PURPOSE = "totp secret"
RECOVERY_CODES = 10
DRIFT_STEPS = 1


def required_for(user: User) -> bool:
    """A local-password account holding an admin role must have a second factor (unless
    ``ADMIN_SECOND_FACTOR`` is off: the test suite's accounts)."""
    if not current_app.config.get("ADMIN_SECOND_FACTOR", True):
        return False
    return user.password_hash is not None and "admin" in user.roles_held()


def new_secret() -> str:
    """A fresh secret, sealed (to keep in the session until the first code confirms it)."""
    return seal(PURPOSE, pyotp.random_base32())


def setup_key(sealed: str) -> str:
    """The key to type into an authenticator app, in groups of four."""
    key = unseal(PURPOSE, sealed)
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def setup_uri(sealed: str, user: User) -> str:
    return pyotp.TOTP(unseal(PURPOSE, sealed)).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SERVICE_NAME"]
    )


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_setup(
    user: User, sealed: str, code: str, *, now: float | None = None
) -> list[str] | None:
    """Keep the secret if ``code`` is right: the recovery codes (shown once), else ``None``."""
    step = _matching_step(unseal(PURPOSE, sealed), code, now or time.time())
    if step is None:
        return None
    user.totp_secret = sealed
    user.totp_last_step = step
    user.last_signed_in_at = utcnow()  # this completes the sign-in
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join(secrets.token_hex(5)[i : i + 5] for i in (0, 5)) for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_token(c)) for c in codes)
    db.session.flush()
    audit.record("totp.set_up", actor=user)
    return codes


def verify(user: User, code: str, *, now: float | None = None) -> bool:
    """A TOTP code of a step not used before, or an unused recovery code; audited."""
    if user.totp_secret is None:
        return False
    step = _matching_step(unseal(PURPOSE, user.totp_secret), code, now or time.time())
    if step is not None and step > (user.totp_last_step or -1):
        user.totp_last_step = step
        user.last_signed_in_at = utcnow()
        db.session.flush()
        audit.record("totp.passed", actor=user)
        return True
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(code.strip().lower()),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        audit.record("totp.failed", actor=user)
        return False
    recovery.used_at = user.last_signed_in_at = utcnow()
    db.session.flush()
    audit.record("totp.recovery_code", actor=user)
    return True


def second_factor_follows(user: User) -> bool:
    """Whether the password step of ``user`` is followed by a code (or setting one up): the
    sign-in is then complete, and recorded as the last one, only when the code is given."""
    return user.totp_secret is not None or required_for(user)
