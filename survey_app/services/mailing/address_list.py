"""A wave's address list: who is on it, which invitation went to which address, and the
invitation rows that sending and mail merge write for it.

The address list is deleted when the wave closes (:func:`delete_address_list`, called by
``waves.close_wave``): data minimisation — it serves only to invite and remind. Nothing here
records who answered what: an invitation knows only the day it was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, select

from survey_app.extensions import db
from survey_app.models import Invitation, InvitationAddress, User, Wave
from survey_app.models.wave import WAVE_STATE_NAMES
from survey_app.services import ServiceError, audit
from survey_app.texts import N_


@dataclass(frozen=True, slots=True)
class AddressListSummary:
    """Counts of a wave's address list (never who answered)."""

    total: int
    not_invited: int  # on the list, no invitation yet (and no failure)
    failed: int  # the last message to the address failed
    invited: int
    unused: int  # invited, invitation not used yet
    reminder_round: int  # reminders sent so far to the most-reminded unused address
    behind: int  # unused addresses not yet reminded in the current round
    last_reminded_on: date | None

    @property
    def answered(self) -> int:
        return self.invited - self.unused


def address_list_summary(wave: Wave) -> AddressListSummary:
    a, inv = InvitationAddress, Invitation
    unused = and_(a.invitation_id.is_not(None), inv.used_on.is_(None))
    row = db.session.execute(
        select(
            func.count(a.id),
            func.count(a.id).filter(a.invitation_id.is_(None), a.last_error.is_(None)),
            func.count(a.id).filter(a.last_error.is_not(None)),
            func.count(a.invitation_id),
            func.count(a.id).filter(unused),
            func.coalesce(func.max(a.reminders_sent).filter(unused), 0),
            func.max(a.last_sent_on).filter(a.reminders_sent > 0),
        )
        .select_from(a)
        .outerjoin(inv, inv.id == a.invitation_id)
        .where(a.wave_id == wave.id)
    ).one()
    total, not_invited, failed, invited, n_unused, round_, last = row
    behind = 0
    if round_:
        behind = (
            db.session.scalar(
                select(func.count(a.id))
                .select_from(a)
                .join(inv, inv.id == a.invitation_id)
                .where(
                    a.wave_id == wave.id, unused, a.reminders_sent < round_, a.last_error.is_(None)
                )
            )
            or 0
        )
    return AddressListSummary(
        total, not_invited, failed, invited, n_unused, int(round_), behind, last
    )


def failed_addresses(wave: Wave, limit: int = 500) -> list[tuple[str, str]]:
    """(email, why) of the addresses whose last message failed, for the administrator."""
    rows = db.session.execute(
        select(InvitationAddress.email, InvitationAddress.last_error)
        .where(InvitationAddress.wave_id == wave.id, InvitationAddress.last_error.is_not(None))
        .order_by(InvitationAddress.id)
        .limit(limit)
    )
    return [(email, error) for email, error in rows]


def delete_address_list(wave: Wave, *, actor: User | str = "cli") -> int:
    """Delete the wave's address list (when it closes: data minimisation). Returns how many."""
    deleted = db.session.execute(
        delete(InvitationAddress)
        .where(InvitationAddress.wave_id == wave.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted:
        audit.record("address_list.delete", actor=actor, wave=wave.id, addresses=deleted)
    return int(deleted or 0)


@dataclass(frozen=True, slots=True)
class Target:
    address_id: int
    email: str
    party_id: int
    service_area_id: int | None
    invitation_id: int | None
    reminders_sent: int
    last_error: str | None
    language: str | None  # en, cy, or None: not known (bilingual emails)


def targets_of(statement: Any) -> list[Target]:
    return [Target(*row) for row in db.session.execute(statement)]


def address_select() -> Any:
    a = InvitationAddress
    return select(
        a.id,
        a.email,
        a.party_id,
        a.service_area_id,
        a.invitation_id,
        a.reminders_sent,
        a.last_error,
        a.language,
    )


def count_of(statement: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def check_wave_open(wave: Wave, what: str) -> None:
    if wave.state != "open":
        message = (
            N_("Wave %(label)s is %(state)s: invitations can be sent only while it is open")
            if what == "invitations"
            else N_("Wave %(label)s is %(state)s: reminders can be sent only while it is open")
        )
        raise ServiceError(
            _(message, label=wave.label, state=_(WAVE_STATE_NAMES.get(wave.state, wave.state)))
        )


def not_invited(wave_id: int, *, failed: bool | None) -> Any:
    """Addresses without an invitation: all of them (``failed=None``), only those whose last
    message failed (True), or only those never tried (False)."""
    a = InvitationAddress
    query = address_select().where(a.wave_id == wave_id, a.invitation_id.is_(None))
    if failed is not None:
        query = query.where(a.last_error.is_not(None) if failed else a.last_error.is_(None))
    return query.order_by(a.id)


def unused(wave_id: int) -> Any:
    """Addresses whose invitation has not been used."""
    a, inv = InvitationAddress, Invitation
    return (
        address_select()
        .join(inv, inv.id == a.invitation_id)
        .where(a.wave_id == wave_id, inv.used_on.is_(None))
        .order_by(a.id)
    )
