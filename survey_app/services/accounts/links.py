"""Single-use account links e-mailed to a person: an invitation to set a first password (or to
sign in through their organisation), and a password reset; and changing one's own password.

A link is ``/account/link/<token>`` with 256 random bits; only its SHA-256 is stored
(``account_links``). It works once, until it expires (an invitation after
:data:`INVITE_DAYS` days, a reset after :data:`RESET_MINUTES` minutes), and only for an active
account; a newer link of the same purpose replaces an older one. Asking for a reset says the same
whether or not the address has an account. Everything is audited (never a token or a password).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import AccountLink, User
from survey_app.services import ServiceError, audit
from survey_app.services.accounts.sign_in import local_password_usable
from survey_app.services.accounts.users import MIN_PASSWORD, user_with_email
from survey_app.services.mailing.messages import (
    Parts,
    email_message,
    in_language,
    service_name,
)
from survey_app.services.mailing.smtp import MailSettings, SMTPMailer
from survey_app.services.tokens import hash_token

INVITE_DAYS = 7
RESET_MINUTES = 60
MAX_PASSWORD = 1024
LIFETIMES = {"invite": timedelta(days=INVITE_DAYS), "reset": timedelta(minutes=RESET_MINUTES)}


def issue_link(user: User, purpose: str) -> str:
    """A new link token for ``user`` (the only copy); older unused links of this purpose end."""
    now = utcnow()
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    db.session.flush()
    audit.record(f"account_link.{purpose}", actor=user)
    return token


@dataclass(frozen=True)
class LinkHolder:
    link: AccountLink
    user: User


def holder_of(token_hash: str) -> LinkHolder | None:
    """The unused, unexpired link with this hash, and its active account; else ``None``."""
    row = db.session.execute(
        select(AccountLink, User)
        .join(User, User.id == AccountLink.user_id)
        .where(
            AccountLink.token_hash == token_hash,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
            User.active.is_(True),
        )
    ).first()
    return LinkHolder(*row) if row is not None else None


def use_link(holder: LinkHolder) -> None:
    """Mark the link used (it works once)."""
    holder.link.used_at = utcnow()
    db.session.flush()


def check_new_password(password: str, confirmation: str) -> None:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(_("the password must be at least %(min)s characters", min=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        problems.append(_("the password must be %(max)s characters or fewer", max=MAX_PASSWORD))
    if password != confirmation:
        problems.append(_("the two passwords must be the same"))
    if problems:
        raise ServiceError("; ".join(problems))


def set_password_by_link(token_hash: str, password: str, confirmation: str) -> User:
    """Use the link: set the account's password (which ends its other sessions)."""
    holder = holder_of(token_hash)
    if holder is None:
        raise ServiceError(_("this link has expired or has been used: ask for a new one"))
    check_new_password(password, confirmation)
    holder.user.set_password(password)
    use_link(holder)
    audit.record("password.set", actor=holder.user, by=holder.link.purpose)
    return holder.user


def change_password(user: User, current: str, password: str, confirmation: str) -> None:
    """The signed-in user changes their own password (the current one is asked for)."""
    if not user.check_password(current):
        raise ServiceError(_("your current password is not correct"))
    check_new_password(password, confirmation)
    user.set_password(password)
    db.session.flush()
    audit.record("password.change", actor=user)


def request_reset(email: str) -> tuple[User, str] | None:
    """A reset link for the active local-password account of ``email``, if there is one."""
    user = user_with_email(email)
    if user is None or not user.active or not local_password_usable(user):
        audit.record("password.reset_unknown", actor="(unknown account)")
        return None
    return user, issue_link(user, "reset")


def link_url(token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/account/link/{token}"


def link_email(user: User, purpose: str) -> Callable[[str], Parts]:
    """What the email of a link of ``purpose`` says, in the language ``in_language`` forces."""

    def parts(code: str) -> Parts:
        service = service_name(code)
        hello = _("Hello %(name)s,", name=user.name)
        if purpose == "invite":
            return Parts(
                subject=_("You have been invited to %(service)s", service=service),
                before=[
                    hello,
                    _("You have been given an account on %(service)s.", service=service),
                ],
                link_words=_(
                    "Open this link within %(days)s days to set your password, or to sign in "
                    "through your organisation:",
                    days=INVITE_DAYS,
                ),
                after=[_("The link works once.")],
            )
        return Parts(
            subject=_("Reset your %(service)s password", service=service),
            before=[
                hello,
                _(
                    "Somebody asked to reset the password of your %(service)s account.",
                    service=service,
                ),
            ],
            link_words=_(
                "Open this link within %(minutes)s minutes to choose a new one:",
                minutes=RESET_MINUTES,
            ),
            after=[
                _(
                    "The link works once. If you did not ask, ignore this message: your password "
                    "stays as it is."
                )
            ],
        )

    return parts


def send_link(user: User, token: str, purpose: str, language: str | None = None) -> None:
    """E-mail the link to ``user`` (:class:`ServiceError` when e-mail is not set up or fails):
    in the language the account chose (``User.language``), else in ``language`` (the page's, for
    a reset), else in both."""
    settings = MailSettings.from_config()
    if not settings.configured:
        raise ServiceError(_("Email is not set up (SMTP_HOST, MAIL_FROM): the link cannot be sent"))
    chosen = user.language or language
    subject, body = in_language(chosen, link_email(user, purpose), link_url(token))
    try:
        with SMTPMailer(settings) as mailer:
            mailer.send(email_message(user.email, subject, body, settings))
    except Exception as exc:  # noqa: BLE001 (any failure of the mail server is reported alike)
        raise ServiceError(
            _("The email could not be sent (%(reason)s)", reason=type(exc).__name__)
        ) from exc
