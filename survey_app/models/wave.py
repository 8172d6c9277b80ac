"""Survey waves, the single-use invitations and their links (only token hashes are stored)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    orm,
)
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.dates import closing_day
from survey_app.models.base import Base, IllegalTransition, IntPk, WaveId
from survey_app.models.instrument import InstrumentVersion
from survey_app.models.relationship import Party, Relationship, ServiceArea
from survey_app.texts import N_

WAVE_STATES = ("draft", "open", "closed")
#: How a sentence names each state (translated where said).
WAVE_STATE_NAMES = {"draft": N_("draft"), "open": N_("open"), "closed": N_("closed")}
ROLE_LEVELS = {
    "executive": N_("Executive or director"),
    "manager": N_("Manager"),
    "staff": N_("Staff"),
}


class Wave(Base):
    """One survey round: ``draft → open → closed`` (closing is final)."""

    __tablename__ = "waves"
    __table_args__ = (
        UniqueConstraint("relationship_id", "label"),
        CheckConstraint("state IN ('draft', 'open', 'closed')", name="state"),
    )

    id: Mapped[IntPk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    label: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(8), default="draft")
    #: The schedule (UTC; entered and shown on the organisation's clock, survey_app/dates.py):
    #: when the worker's tick opens a draft wave, when answers stop being accepted and the tick
    #: closes it, and the days after opening on which a reminder round goes out.
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    reminder_days: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    #: The k (minimum cell size) its results are published with, fixed when they are first
    #: computed (DESIGN §4.14); None until then. ``relhealth recompute --min-cell-size``
    #: changes it on purpose (audited).
    min_cell_size: Mapped[int | None]
    #: The instrument's texts in each language the wave offers besides English, frozen when it
    #: opens (`Instrument.translations_to_dict`); None: English only.
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    relationship: Mapped[Relationship] = orm.relationship()
    instrument_version: Mapped[InstrumentVersion] = orm.relationship()

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def closes_on(self) -> date | None:
        """The last day (on the organisation's clock) on which answers are accepted."""
        return closing_day(self.closes_at) if self.closes_at is not None else None

    def past_closing(self, now: datetime) -> bool:
        """Whether the closing time has come (answers are refused from then on)."""
        return self.closes_at is not None and now >= self.closes_at

    @property
    def time_order(self) -> tuple[datetime, int]:
        """The key that puts waves in time order: the opening time, falling back to the
        closing and then the creation time; ties (and waves without times) go by id."""
        return (self.opened_at or self.closed_at or self.created_at, self.id)

    def open(self, now: datetime) -> None:
        self._must_be("draft", N_("wave %(label)r is %(state)s; only a draft wave can be opened"))
        self.state = "open"
        self.opened_at = now

    def check_can_close(self) -> None:
        self._must_be("open", N_("wave %(label)r is %(state)s; only an open wave can be closed"))

    def _must_be(self, state: str, refusal: str) -> None:
        """Raise :class:`IllegalTransition` unless the wave is in ``state``: ``refusal``
        (``N_``-marked, naming ``%(label)r`` and ``%(state)s``) in the reader's language."""
        if self.state != state:
            raise IllegalTransition(
                gettext(refusal, label=self.label, state=gettext(WAVE_STATE_NAMES[self.state]))
            )

    def close(self, now: datetime) -> None:
        self.check_can_close()
        self.state = "closed"
        self.closed_at = now

    def __repr__(self) -> str:
        return f"<Wave {self.label!r} {self.state}>"


class WaveReminder(Base):
    """A reminder day of a wave's schedule that has come: the round the tick started for it
    (``job_id``), or why none was (``outcome``). One per wave and day, so that several
    workers keeping the schedule start each round once."""

    __tablename__ = "wave_reminders"
    __table_args__ = (UniqueConstraint("wave_id", "day"),)

    id: Mapped[IntPk]
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    day: Mapped[int]  # days after opening
    due_at: Mapped[datetime]
    started_at: Mapped[datetime]
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(300))


class Invitation(Base):
    """One person's single use of a wave, reached through one or more links
    (:class:`InvitationLink`): whichever link is used first uses the invitation.

    ``used_on`` records only the day of use, so that it cannot be lined up with
    a response (responses keep no time at all).
    """

    __tablename__ = "invitations"

    id: Mapped[IntPk]
    wave_id: Mapped[WaveId]
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    role_level: Mapped[str | None] = mapped_column(String(20))
    issued_on: Mapped[date]
    used_on: Mapped[date | None]

    wave: Mapped[Wave] = orm.relationship()
    party: Mapped[Party] = orm.relationship()
    service_area: Mapped[ServiceArea | None] = orm.relationship()


class InvitationLink(Base):
    """One personal link issued for an invitation: the SHA-256 of its token, never the token.

    A message whose fate is unknown (a crash after handing it to the mail server) and a
    reminder are sent with a fresh link, so an invitation may have several; each works until
    the invitation is used through any of them.
    """

    __tablename__ = "invitation_links"

    id: Mapped[IntPk]
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    #: The data key of the invitation's draft, wrapped under a key derived from this link's
    #: token (survey_app/services/sealed_drafts.py): set when the link is first opened.
    draft_key_wrap: Mapped[bytes | None] = mapped_column(LargeBinary(64))

    invitation: Mapped[Invitation] = orm.relationship()


class Draft(Base):
    """Unfinished answers, keyed by the token hash of the link they were saved through;
    deleted on submit or close. ``sealed`` holds them encrypted (sealed_drafts); ``data``
    only a draft saved in clear before the upgrade to 0009, until it is next saved."""

    __tablename__ = "drafts"

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("invitation_links.token_hash", ondelete="CASCADE"), primary_key=True
    )
    wave_id: Mapped[WaveId]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_on: Mapped[date]
