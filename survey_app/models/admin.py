"""What survey administration keeps beside the survey itself: the address list of a wave, and
the actions managers agree on its results.

The address list (``invitation_addresses``) is the one place an email address meets the survey.
It is kept apart from responses and knows only invitations: which address was sent which
invitation (by id, never the token), when it was last written to and how many reminders it
had. An invitation knows only the day it was used, and a response knows neither, so nothing
here can tell who answered what. The whole list of a wave is deleted when the wave closes
(data minimisation): it exists only to send invitations and reminders.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, RelationshipId, WaveId
from survey_app.models.relationship import Party, Relationship, ServiceArea
from survey_app.models.user import User
from survey_app.models.wave import Invitation, Wave
from survey_app.texts import N_

#: An action's status, as stored → as shown.
ACTION_STATUSES = {"open": N_("Open"), "in_progress": N_("In progress"), "done": N_("Done")}
#: The group of an alert an action refers to: a side of the relationship, both sides, or the
#: perception gap between them.
ALERT_SIDES = ("client", "supplier", "all", "gap")
#: Where an address's message of the sending job ``outbox_job_id`` stands, each state written
#: in the transaction that decides it: ``to_send`` (chosen for the round), ``handed`` (a link
#: issued and the message handed to the mail server, the server's answer not yet recorded: after
#: a crash it is sent again with a fresh link), ``sent`` (accepted by the server).
OUTBOX_STATES = ("to_send", "handed", "sent")


class InvitationAddress(Base):
    """One staff member's email address on a wave's address list.

    ``invitation_id`` is empty until the invitation is issued (sent by email, or written to a
    mail-merge file); ``last_error`` holds why the last message to this address failed.
    """

    __tablename__ = "invitation_addresses"
    __table_args__ = (
        UniqueConstraint("wave_id", "email"),
        CheckConstraint("outbox IS NULL OR outbox IN ('to_send', 'handed', 'sent')", name="outbox"),
    )

    id: Mapped[IntPk]
    wave_id: Mapped[WaveId]
    email: Mapped[str] = mapped_column(String(254))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    service_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_areas.id", ondelete="CASCADE")
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True
    )
    added_on: Mapped[date]
    invited_on: Mapped[date | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_sent_on: Mapped[date | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    outbox: Mapped[str | None] = mapped_column(String(8))  # OUTBOX_STATES
    outbox_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    #: The language the person's emails and link are in (``en``/``cy``); empty: not known, so
    #: emails are bilingual. Only here, never on a response (a language is a quasi-identifier).
    language: Mapped[str | None] = mapped_column(String(2))

    wave: Mapped[Wave] = orm.relationship()
    party: Mapped[Party] = orm.relationship()
    service_area: Mapped[ServiceArea | None] = orm.relationship()
    invitation: Mapped[Invitation | None] = orm.relationship()

    def __repr__(self) -> str:  # never the address itself: reprs end up in logs
        return f"<InvitationAddress {self.id} wave={self.wave_id}>"


class Action(Base):
    """An action agreed on a dimension of a relationship, optionally in answer to an alert.

    The alert is referred to by its wave, group (side and service area) and dimension, as the
    results tables name it. ``baseline_wave`` is the latest closed wave when the action was
    agreed (the alert's wave when there is one): the change since the action is measured from
    it to the latest closed wave.
    """

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_progress', 'done')", name="status"),
        CheckConstraint(
            "alert_side IS NULL OR alert_side IN ('client', 'supplier', 'all', 'gap')",
            name="alert_side",
        ),
    )

    id: Mapped[IntPk]
    relationship_id: Mapped[RelationshipId]
    dimension_key: Mapped[str] = mapped_column(String(60))
    alert_wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id", ondelete="SET NULL"))
    alert_side: Mapped[str | None] = mapped_column(String(8))
    alert_area: Mapped[str | None] = mapped_column(String(60))
    baseline_wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("waves.id", ondelete="SET NULL")
    )
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime | None]

    relationship: Mapped[Relationship] = orm.relationship()
    alert_wave: Mapped[Wave | None] = orm.relationship(foreign_keys=[alert_wave_id])
    baseline_wave: Mapped[Wave | None] = orm.relationship(foreign_keys=[baseline_wave_id])
    creator: Mapped[User | None] = orm.relationship()

    @property
    def status_text(self) -> str:
        return ACTION_STATUSES.get(self.status, self.status)

    @property
    def has_alert(self) -> bool:
        return self.alert_side is not None

    @property
    def marker_wave_label(self) -> str | None:
        """The wave after which the action falls on a trend chart (its baseline wave)."""
        return self.baseline_wave.label if self.baseline_wave is not None else None

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.dimension_key} {self.status}>"
