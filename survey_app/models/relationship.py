"""A relationship between a public body (client) and its supplier, with its service areas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false, func, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk
from survey_app.models.organisation import Organisation

SIDES = ("client", "supplier")
#: The lawful basis a public body's staff survey usually rests on (UK GDPR).
LAWFUL_BASIS = (
    "Public task (UK GDPR Article 6(1)(e)): understanding and improving how the partnership "
    "delivers public services"
)


class Relationship(Base):
    __tablename__ = "relationships"

    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The privacy notice of its surveys: the organisation running them is the controller.
    controller_side: Mapped[str] = mapped_column(
        String(8), default="client", server_default="client"
    )
    lawful_basis: Mapped[str] = mapped_column(
        String(300), default=LAWFUL_BASIS, server_default=LAWFUL_BASIS
    )
    privacy_contact: Mapped[str | None] = mapped_column(String(300))
    retention_months: Mapped[int] = mapped_column(default=24, server_default="24")

    parties: Mapped[list[Party]] = orm.relationship(
        back_populates="relationship", order_by="Party.side", cascade="all, delete-orphan"
    )
    service_areas: Mapped[list[ServiceArea]] = orm.relationship(
        back_populates="relationship", order_by="ServiceArea.position", cascade="all, delete-orphan"
    )

    def party(self, side: str) -> Party:
        for party in self.parties:
            if party.side == side:
                return party
        raise LookupError(f"relationship {self.name!r} has no {side} party")

    def other_party(self, side: str) -> Party:
        return self.party("supplier" if side == "client" else "client")

    def __repr__(self) -> str:
        return f"<Relationship {self.name!r}>"


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("relationship_id", "side"),
        CheckConstraint("side IN ('client', 'supplier')", name="side"),
    )

    id: Mapped[IntPk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(8))
    #: The body this party is (one organisation may be a party to several relationships).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: The organisation agreed that this relationship's results count towards the norms
    #: across the installation (both parties must, for the relationship to contribute).
    in_norms: Mapped[bool] = mapped_column(default=False, server_default=false())

    relationship: Mapped[Relationship] = orm.relationship(back_populates="parties")
    organisation: Mapped[Organisation] = orm.relationship(back_populates="parties")

    def __repr__(self) -> str:
        return f"<Party {self.name!r} ({self.side})>"


class ServiceArea(Base):
    __tablename__ = "service_areas"
    __table_args__ = (
        UniqueConstraint("relationship_id", "key"),
        UniqueConstraint("relationship_id", "name"),
    )

    id: Mapped[IntPk]
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    relationship: Mapped[Relationship] = orm.relationship(back_populates="service_areas")

    def __repr__(self) -> str:
        return f"<ServiceArea {self.key!r}>"
