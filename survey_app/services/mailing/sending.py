"""Invitations and reminders by email (SMTP) or mail-merge file, from a wave's address list.

Each person on the address list (:mod:`survey_app.services.imports.staff_lists`) gets one personal
link. The token exists only in the message (or in the mail-merge file handed to the
administrator): the database keeps its hash on the invitation, and the address list keeps only
which invitation went to which address. A reminder goes to every address whose invitation is
unused (``used_on IS NULL``) — nothing records who answered what, since an invitation knows only
the day it was used and a response knows no invitation. As the token of the first message is
not kept, a reminder carries a **new** link; the earlier links keep working until the invitation
is used through any of them, and answers saved so far move to the new link.

One call sends at most ``MAIL_BATCH_SIZE`` messages, at most ``MAIL_MAX_PER_MINUTE`` a minute,
over one SMTP connection (:class:`~survey_app.services.mailing.smtp.SMTPMailer`). A message the
server refuses is reported against its address and the rest carry on; a server that cannot be
reached (or refuses the sender, or the sign-in) stops the batch, and says so.

Transactions: a link must work before it leaves, and an email cannot be unsent, so unlike other
services the send functions commit, one address at a time — an invitation is stored and
committed before its message is sent, and deleted again if the server refuses it; a reminder's
new link replaces the old one only after the server has accepted the message.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Invitation, InvitationAddress, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.invitations import (
    create_invitations,
    issue_links,
    new_token,
    renew_links,
    survey_link,
)
from survey_app.services.mailing.address_list import (
    Target,
    address_list_summary,
    check_wave_open,
    count_of,
    not_invited,
    targets_of,
    unused,
)
from survey_app.services.mailing.messages import (
    WaveText,
    email_message,
    invitation_text,
    reminder_text,
    wave_text,
)
from survey_app.services.mailing.smtp import MailServerError, MailSettings, SMTPMailer, reason

MAX_ERROR = 300


#: How the reason for an address the server refused begins (see :attr:`SendReport.refused`).
REFUSED = "refused by the mail server"


@dataclass
class SendReport:
    """What one batch did. ``failed`` lists (email, why) per refused address."""

    kind: str  # "invitations" or "reminders"
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    remaining: int = 0
    stopped: str | None = None

    @property
    def refused(self) -> list[tuple[str, str]]:
        """The failures the server refused (an unknown or blocked address, a rejected
        message); the others are faults on the way (``not sent: ...``)."""
        return [(email, why) for email, why in self.failed if why.startswith(REFUSED)]


def settings_or_error() -> MailSettings:
    settings = MailSettings.from_config()
    if not settings.configured:
        raise ServiceError(
            _(
                "Email is not set up for this service (SMTP_HOST and MAIL_FROM): download the "
                "mail-merge file instead"
            )
        )
    return settings


Settle = Callable[[bool, str | None], None]


def send_invitations(
    wave: Wave,
    *,
    actor: User | str,
    retry_failed: bool = False,
    limit: int | None = None,
    mailer: SMTPMailer | None = None,
    today: date | None = None,
) -> SendReport:
    """Email a personal link to the next batch of addresses not yet invited (commits).

    ``retry_failed`` sends to the addresses whose invitation failed before instead. Each
    address is claimed (its invitation stored and committed) before its message is sent, so
    two batches running at once never invite one person twice.
    """
    check_wave_open(wave, "invitations")
    settings = settings_or_error()
    day = today or date.today()
    text = wave_text(wave)
    wave_id = wave.id
    a = InvitationAddress
    pending = not_invited(wave_id, failed=retry_failed)
    targets = targets_of(pending.limit(limit or settings.batch_size))
    report = SendReport("invitations")

    def prepare(target: Target) -> tuple[str, Settle] | None:
        with write_transaction():
            row = (target.party_id, target.service_area_id, None)
            invitation_id = create_invitations(wave_id, [row], day)[0]
            claimed = db.session.execute(
                update(a)
                .where(a.id == target.address_id, a.invitation_id.is_(None))
                .values(invitation_id=invitation_id, invited_on=day)
            ).rowcount
            if claimed != 1:  # invited meanwhile by another batch
                db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))
                return None
            token = issue_links([invitation_id])[0]

        def settle(ok: bool, error: str | None) -> None:
            with write_transaction():
                if ok:
                    values: dict[str, Any] = {"last_sent_on": day, "last_error": None}
                else:  # refused, or never sent: the link must not exist
                    values = {"invitation_id": None, "invited_on": None}
                    if error is not None:
                        values["last_error"] = error[:MAX_ERROR]
                db.session.execute(update(a).where(a.id == target.address_id).values(**values))
                if not ok:
                    db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))

        return token, settle

    _run(report, targets, prepare, invitation_text, text, settings, mailer)
    with write_transaction():
        report.remaining = count_of(pending)
        audit.record(
            "invitations.email",
            actor=actor,
            wave=wave_id,
            sent=report.sent,
            failed=len(report.failed),
            retry=retry_failed,
            stopped=report.stopped is not None,
        )
    return report


def send_reminders(
    wave: Wave,
    *,
    actor: User | str,
    retry_failed: bool = False,
    limit: int | None = None,
    mailer: SMTPMailer | None = None,
    today: date | None = None,
) -> SendReport:
    """Email a reminder with a new link to the next batch of unused invitations (commits).

    Reminders go in rounds: a round reaches every address whose invitation is unused once
    (batch by batch); the next call after a complete round starts a new one. An address whose
    last message failed is left out of rounds; ``retry_failed`` sends to those instead. Each
    address is claimed for the round before its message is sent (so that batches running at
    once do not both remind it), and its new link replaces the old one only once the server
    has accepted the message.
    """
    check_wave_open(wave, "reminders")
    settings = settings_or_error()
    day = today or date.today()
    text = wave_text(wave)
    wave_id = wave.id
    summary = address_list_summary(wave)
    a = InvitationAddress
    if retry_failed:
        round_ = max(summary.reminder_round, 1)
        eligible = a.last_error.is_not(None)
    else:
        round_ = summary.reminder_round if summary.behind else summary.reminder_round + 1
        eligible = and_(a.last_error.is_(None), a.reminders_sent < round_)
    targets = targets_of(unused(wave_id).where(eligible).limit(limit or settings.batch_size))
    report = SendReport("reminders")

    def prepare(target: Target) -> tuple[str, Settle] | None:
        with write_transaction():
            claimed = db.session.execute(
                update(a)
                .where(a.id == target.address_id, eligible)
                .values(reminders_sent=round_, last_error=None)
            ).rowcount
        if claimed != 1:  # reminded meanwhile by another batch
            return None
        token = new_token()

        def settle(ok: bool, error: str | None) -> None:
            with write_transaction():
                if ok:
                    assert target.invitation_id is not None
                    renew_links([(target.invitation_id, token)])
                    values: dict[str, Any] = {"last_sent_on": day}
                else:  # not sent: the claim is undone, the old link still works
                    values = {
                        "reminders_sent": target.reminders_sent,
                        "last_error": error[:MAX_ERROR] if error else target.last_error,
                    }
                db.session.execute(update(a).where(a.id == target.address_id).values(**values))

        return token, settle

    _run(report, targets, prepare, reminder_text, text, settings, mailer)
    with write_transaction():
        report.remaining = address_list_summary(wave).behind
        audit.record(
            "reminders.email",
            actor=actor,
            wave=wave_id,
            round=round_,
            sent=report.sent,
            failed=len(report.failed),
            retry=retry_failed,
            stopped=report.stopped is not None,
        )
    return report


def retry_failed(wave: Wave, *, actor: User | str) -> SendReport:
    """Try again the addresses whose last message failed: an invitation to those never
    invited, a reminder (a new link) to those whose invitation is unused (commits)."""
    report = send_invitations(wave, actor=actor, retry_failed=True)
    if report.stopped is None:
        reminders = send_reminders(wave, actor=actor, retry_failed=True)
        report.sent += reminders.sent
        report.failed += reminders.failed
        report.stopped = reminders.stopped
    report.kind = "messages"
    report.remaining = 0
    return report


def deliver(smtp: SMTPMailer, message: EmailMessage) -> str | None:
    """Hand one message to the mail server: None when it accepted it, else why not (an address
    or message the server refused begins with :data:`REFUSED`). :class:`MailServerError` when
    the server cannot be used at all."""
    try:
        smtp.send(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        return f"{REFUSED}: {reason(exc)}"
    except (smtplib.SMTPException, OSError) as exc:
        return f"not sent: {reason(exc)}"
    return None


class Pacer:
    """At most ``MAIL_MAX_PER_MINUTE`` messages a minute: :meth:`wait` before each."""

    def __init__(self, settings: MailSettings) -> None:
        self.interval = settings.interval
        self._next_at = time.monotonic()

    def wait(self) -> None:
        pause = self._next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._next_at = time.monotonic() + self.interval


def _run(
    report: SendReport,
    targets: Sequence[Target],
    prepare: Callable[[Target], tuple[str, Settle] | None],
    compose: Callable[[WaveText, int, str, str | None], tuple[str, str]],
    text: WaveText,
    settings: MailSettings,
    mailer: SMTPMailer | None,
) -> None:
    """Send one message per target, paced, each settled (committed) as soon as it is known."""
    own = mailer is None
    smtp = mailer or SMTPMailer(settings)
    pacer = Pacer(settings)
    try:
        for target in targets:
            prepared = prepare(target)
            if prepared is None:
                continue
            token, settle = prepared
            pacer.wait()
            link = survey_link(token, target.language)
            subject, body = compose(text, target.party_id, link, target.language)
            message = email_message(target.email, subject, body, settings, text.texts.sender_name)
            try:
                why = deliver(smtp, message)
            except MailServerError as exc:
                settle(False, None)  # not this address's fault: no failure recorded
                report.stopped = str(exc)
                current_app.logger.warning("mail sending stopped: %s", exc)
                break
            settle(why is None, why)
            if why is None:
                report.sent += 1
            else:
                report.failed.append((target.email, why))
    finally:
        if own:
            smtp.close()
