"""Survey waves and the single-use invitations (only token hashes are stored)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, func, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IllegalTransition
from survey_app.models.instrument import InstrumentVersion
from survey_app.models.relationship import Party, Relationship, ServiceArea

WAVE_STATES = ("draft", "open", "closed")
ROLE_LEVELS = {
    "executive": "Executive or director",
    "manager": "Manager",
    "staff": "Staff",
}


class Wave(Base):
    """One survey round: ``draft → open → closed`` (closing is final)."""

    __tablename__ = "waves"
    __table_args__ = (
        UniqueConstraint("relationship_id", "label"),
        CheckConstraint("state IN ('draft', 'open', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    label: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(8), default="draft")
    closes_on: Mapped[date | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: The k (minimum cell size) its results were published with, fixed when its results are
    #: first computed; changed only by ``relhealth recompute --min-cell-size`` (audited).
    min_cell_size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    relationship: Mapped[Relationship] = orm.relationship()
    instrument_version: Mapped[InstrumentVersion] = orm.relationship()

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def time_order(self) -> tuple[datetime, int]:
        """The key that puts waves in time order: the opening time, falling back to the
        closing and then the creation time; ties (and waves without times) go by id."""
        return (self.opened_at or self.closed_at or self.created_at, self.id)

    def open(self, now: datetime) -> None:
        if self.state != "draft":
            raise IllegalTransition(
                f"wave {self.label!r} is {self.state}; only a draft wave can be opened"
            )
        self.state = "open"
        self.opened_at = now

    def close(self, now: datetime) -> None:
        if self.state != "open":
            raise IllegalTransition(
                f"wave {self.label!r} is {self.state}; only an open wave can be closed"
            )
        self.state = "closed"
        self.closed_at = now

    def __repr__(self) -> str:
        return f"<Wave {self.label!r} {self.state}>"


class Invitation(Base):
    """A single-use personal link. The token itself is never stored, only its SHA-256.

    ``used_on`` records only the day of use, so that it cannot be lined up with
    a response (responses keep no time at all).
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    role_level: Mapped[str | None] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_on: Mapped[date]
    used_on: Mapped[date | None]

    wave: Mapped[Wave] = orm.relationship()
    party: Mapped[Party] = orm.relationship()
    service_area: Mapped[ServiceArea | None] = orm.relationship()


class Draft(Base):
    """Unfinished answers, keyed by the invitation's token hash; deleted on submit or close."""

    __tablename__ = "drafts"

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("invitations.token_hash", ondelete="CASCADE"), primary_key=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_on: Mapped[date]
