"""A whole round of invitations or reminders sent by a background job, safe against crashes.

The job's first step **decides** who the round is for: each chosen address gets the outbox
state ``to_send`` and the job's id (``invitation_addresses.outbox``/``outbox_job_id``), in the
transaction that records the decision (with the job's checkpoint). Then, one address at a
time:

1. *hand over* (committed before anything leaves): the address's invitation (created for an
   invitation round), a **new link** for it, and the state ``handed``;
2. the message goes to the mail server;
3. *settle* (committed): ``sent`` (a reminder's saved answers move to its link), or, for a
   refused address, no state and the reason in ``last_error`` (its unsent link deleted).

A worker killed between 1 and 3 leaves the address ``handed``: its message may or may not
have gone, and its token is lost, so the resumed job sends it again with a fresh link — the
invitation accepts either link, once (README "Invitation links"). The round sends with one
thread, so at most one message per kill is sent twice, and none is missed. A mail server that
cannot be used fails the job with its reason; retrying it resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import (
    UNFINISHED_STATES,
    Invitation,
    InvitationAddress,
    InvitationLink,
    Job,
    Wave,
)
from survey_app.services import JobReport, ServiceError, audit
from survey_app.services.invitations import (
    create_invitations,
    issue_links,
    survey_link,
)
from survey_app.services.mailing.address_list import (
    address_list_summary,
    check_wave_open,
    count_of,
    not_invited,
    unused,
)
from survey_app.services.mailing.messages import (
    email_message,
    invitation_text,
    reminder_text,
    wave_text,
)
from survey_app.services.mailing.sending import (
    MAX_ERROR,
    Pacer,
    deliver,
    settings_or_error,
)
from survey_app.services.mailing.smtp import MailServerError, SMTPMailer
from survey_app.services.mailing.texts import email_texts
from survey_app.services.tokens import hash_token
from survey_app.texts import N_, wording

ROUND_KINDS = ("invitations", "reminders")
#: Addresses read per query while sending.
READ_BATCH = 200
PENDING = ("to_send", "handed")


@dataclass(frozen=True, slots=True)
class _Pending:
    address_id: int
    email: str
    party_id: int
    service_area_id: int | None
    invitation_id: int | None
    outbox: str
    language: str | None  # en, cy, or None: not known (a bilingual message)


def check_round(wave: Wave, kind: str) -> None:
    """Refuse, with the reason, a round that cannot be sent now (the wave is not open, email
    is not set up); the job checks again when it starts."""
    if kind not in ROUND_KINDS:
        raise ServiceError(f"a round sends invitations or reminders, not {kind!r}")
    check_wave_open(wave, kind)
    settings_or_error()


def retry_kinds(wave: Wave) -> list[str]:
    """The rounds that "try the failed addresses again" starts (each with ``retry_failed``):
    invitations for the addresses never invited because their message failed, reminders for
    those invited whose last reminder failed. :class:`ServiceError` when nothing failed."""
    a = InvitationAddress
    kinds = [
        kind
        for kind, failed in (
            ("invitations", not_invited(wave.id, failed=True)),
            ("reminders", unused(wave.id).where(a.last_error.is_not(None))),
        )
        if count_of(failed)
    ]
    if not kinds:
        raise ServiceError(_("No message has failed: there is nothing to try again"))
    for kind in kinds:
        check_round(wave, kind)
    return kinds


def send_round(
    ctx: JobReport, *, wave_id: int, kind: str, retry_failed: bool = False
) -> dict[str, Any]:
    """Run one round of ``kind`` ("invitations" or "reminders") for wave ``wave_id``: decide
    it on the first attempt, then send every message still to send (see the module).
    ``retry_failed``: the round is for the addresses whose last message failed, instead."""
    settings = settings_or_error()
    plan = ctx.resume_from or _decide(ctx, wave_id, kind, retry_failed)
    round_ = int(plan["round"])
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise ServiceError("the wave no longer exists")
    # the texts' version fixed when the round was decided: every message of it says the same
    text = wave_text(wave, plan.get("texts_version"))
    compose = invitation_text if kind == "invitations" else reminder_text
    day = date.today()
    pacer = Pacer(settings)
    total = _count(ctx.job_id)
    with SMTPMailer(settings) as smtp:
        while batch := _pending(ctx.job_id):
            done = _count(ctx.job_id, done=True)  # counted once a batch, then one by one
            for target in batch:
                ctx.progress(
                    done, total, wording(N_("Sending to %(count)s people"), count=f"{total:,}")
                )
                done += 1
                token = _hand_over(ctx, plan, wave_id, target, kind, day)
                if token is None:
                    continue
                pacer.wait()
                link = survey_link(token, target.language)
                subject, body = compose(text, target.party_id, link, target.language)
                try:
                    message = email_message(
                        target.email, subject, body, settings, text.texts.sender_name
                    )
                    why = deliver(smtp, message)
                except MailServerError as exc:
                    _take_back(target, token, kind)
                    raise ServiceError(
                        f"Sending stopped: {exc}. Messages sent so far stay sent; try again "
                        "to send the rest."
                    ) from exc
                _settle(target, token, kind, round_, day, why)
    return _finish(ctx, wave_id, kind, round_, total, plan.get("texts_version"))


def _decide(ctx: JobReport, wave_id: int, kind: str, retry_failed: bool) -> dict[str, Any]:
    """Choose the round's addresses (outbox ``to_send``, this job), with the checkpoint."""
    a = InvitationAddress
    with write_transaction():
        wave = db.session.get(Wave, wave_id)
        if wave is None:
            raise ServiceError("the wave no longer exists")
        check_round(wave, kind)
        free = or_(
            a.outbox.is_(None),
            a.outbox == "sent",
            a.outbox_job_id.is_(None),
            a.outbox_job_id.not_in(select(Job.id).where(Job.state.in_(UNFINISHED_STATES))),
        )
        if kind == "invitations":
            round_ = 0
            chosen = not_invited(wave_id, failed=retry_failed).where(free)
        elif retry_failed:  # the current round, to those it failed to reach
            round_ = max(address_list_summary(wave).reminder_round, 1)
            chosen = unused(wave_id).where(a.last_error.is_not(None), free)
        else:
            summary = address_list_summary(wave)
            round_ = summary.reminder_round if summary.behind else summary.reminder_round + 1
            chosen = unused(wave_id).where(a.last_error.is_(None), a.reminders_sent < round_, free)
        ids = select(chosen.subquery().c.id)
        db.session.execute(
            update(a)
            .where(a.id.in_(ids))
            .values(outbox="to_send", outbox_job_id=ctx.job_id)
            .execution_options(synchronize_session=False)
        )
        plan = {"round": round_, "texts_version": email_texts(wave).version or None}
        ctx.checkpoint(plan)
    return plan


def _pending(job_id: int) -> list[_Pending]:
    a = InvitationAddress
    db.session.rollback()  # a fresh read
    rows = db.session.execute(
        select(a.id, a.email, a.party_id, a.service_area_id, a.invitation_id, a.outbox, a.language)
        .where(a.outbox_job_id == job_id, a.outbox.in_(PENDING))
        .order_by(a.id)
        .limit(READ_BATCH)
    )
    return [_Pending(*row) for row in rows]


def _count(job_id: int, *, done: bool = False) -> int:
    a = InvitationAddress
    query = select(func.count(a.id)).where(a.outbox_job_id == job_id)
    if done:
        query = query.where(or_(a.outbox.is_(None), a.outbox.not_in(PENDING)))
    return db.session.scalar(query) or 0


def _hand_over(
    ctx: JobReport, plan: dict[str, Any], wave_id: int, target: _Pending, kind: str, day: date
) -> str | None:
    """Commit the address's invitation, a new link and ``handed`` before its message leaves;
    the token, or None when there is nothing to send any more (a reminder to an invitation
    used meanwhile)."""
    a = InvitationAddress
    with write_transaction():
        ctx.checkpoint(plan)  # fenced: a worker whose lease was taken back stops here
        state = db.session.scalar(
            select(Wave.state).where(Wave.id == wave_id).with_for_update(read=True)
        )
        if state != "open":
            raise ServiceError("The wave is no longer open: the rest of the round is not sent")
        invitation_id = target.invitation_id
        if kind == "invitations" and invitation_id is None:
            row = (target.party_id, target.service_area_id, None)
            invitation_id = create_invitations(wave_id, [row], day)[0]
            db.session.execute(
                update(a)
                .where(a.id == target.address_id)
                .values(invitation_id=invitation_id, invited_on=day)
            )
        used = db.session.scalar(select(Invitation.used_on).where(Invitation.id == invitation_id))
        if invitation_id is None or used is not None:
            db.session.execute(update(a).where(a.id == target.address_id).values(outbox=None))
            return None
        token = issue_links([invitation_id])[0]
        db.session.execute(update(a).where(a.id == target.address_id).values(outbox="handed"))
    return token


def _settle(
    target: _Pending, token: str, kind: str, round_: int, day: date, why: str | None
) -> None:
    """Record the server's answer for one address (committed)."""
    a = InvitationAddress
    with write_transaction():
        invitation_id = db.session.scalar(select(a.invitation_id).where(a.id == target.address_id))
        if invitation_id is None:  # the address list went meanwhile (the wave closed)
            return
        if why is None:
            values: dict[str, Any] = {"outbox": "sent", "last_sent_on": day, "last_error": None}
            if kind == "reminders":
                values["reminders_sent"] = round_
                # The answers saved so far stay sealed under the earlier link's key: the new
                # link re-wraps it in a browser that holds it (README, the token model).
        else:
            values = {"outbox": None, "last_error": why[:MAX_ERROR]}
            _withdraw(target.address_id, invitation_id, token, kind)
        db.session.execute(update(a).where(a.id == target.address_id).values(**values))


def _take_back(target: _Pending, token: str, kind: str) -> None:
    """The server could not be used: the message never left; the address waits as before."""
    a = InvitationAddress
    with write_transaction():
        invitation_id = db.session.scalar(select(a.invitation_id).where(a.id == target.address_id))
        _withdraw(target.address_id, invitation_id, token, kind)
        db.session.execute(update(a).where(a.id == target.address_id).values(outbox=target.outbox))


def _withdraw(address_id: int, invitation_id: int | None, token: str, kind: str) -> None:
    """Delete the link of a message that did not go, and an invitation left without any link
    (so that the address counts as not invited, as before)."""
    link = InvitationLink
    db.session.execute(delete(link).where(link.token_hash == hash_token(token)))
    if kind != "invitations" or invitation_id is None:
        return
    others = db.session.scalar(
        select(func.count(link.id)).where(link.invitation_id == invitation_id)
    )
    if not others:
        db.session.execute(
            update(InvitationAddress)
            .where(InvitationAddress.id == address_id)
            .values(invitation_id=None, invited_on=None)
        )
        db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))


#: A round's outcome, by (kind, one sent).
SENT = {
    ("invitations", False): N_("%(count)s invitations sent"),
    ("invitations", True): N_("%(count)s invitation sent"),
    ("reminders", False): N_("%(count)s reminders (round %(round)s) sent"),
    ("reminders", True): N_("%(count)s reminder (round %(round)s) sent"),
}
NOBODY_WAITING = {
    "invitations": N_("Nobody was waiting for invitations: nothing was sent"),
    "reminders": N_("Nobody was waiting for reminders (round %(round)s): nothing was sent"),
}


def _finish(
    ctx: JobReport, wave_id: int, kind: str, round_: int, total: int, texts: int | None
) -> dict[str, Any]:
    a = InvitationAddress
    mine = a.outbox_job_id == ctx.job_id
    ctx.progress(total, total, N_("Done"))
    with write_transaction():  # the write lock first: other writers went on meanwhile
        sent = db.session.scalar(select(func.count(a.id)).where(mine, a.outbox == "sent")) or 0
        failed = (
            db.session.scalar(
                select(func.count(a.id)).where(
                    mine, and_(a.outbox.is_(None), a.last_error.is_not(None))
                )
            )
            or 0
        )
        audit.record(
            f"{kind}.round",
            actor=ctx.requested_by() or "worker",
            wave=wave_id,
            job=ctx.job_id,
            round=round_,
            sent=sent,
            failed=failed,
            texts_version=texts or 0,  # 0: the default texts
        )
    summary = wording(SENT[kind, sent == 1], count=f"{sent:,}", round=round_)
    if failed:
        summary = wording(
            N_("%(sent)s; %(failed)s could not be sent (see the failed addresses)"),
            sent=summary,
            failed=f"{failed:,}",
        )
    if not total:
        summary = wording(NOBODY_WAITING[kind], round=round_)
    return {
        "summary": summary,
        "sent": sent,
        "failed": failed,
        "link": {
            "endpoint": "admin.invitations",
            "values": {"wave_id": wave_id},
            "text": N_("Back to the invitations"),
        },
    }
