"""Submitted responses. Nothing here links a response to an invitation or a person.

Keys are random UUIDs (not sequential) and no time is kept: a response belongs
to its wave, and that is as fine as time gets. On SQLite the tables are
``WITHOUT ROWID`` so that not even the storage order follows submission order.
"""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.models.base import Base, WaveId


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("side IN ('client', 'supplier')", name="side"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    wave_id: Mapped[WaveId]
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    side: Mapped[str] = mapped_column(String(8))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    role_level: Mapped[str | None] = mapped_column(String(20))

    answers: Mapped[list[Answer]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Answer.item_no"
    )
    comments: Mapped[list[Comment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(Base):
    """One answer: ``item_no`` is the item's position in the frozen instrument version;
    ``value`` is the scale point, NULL for "don't know". Skipped items have no row."""

    __tablename__ = "answers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int | None] = mapped_column(SmallInteger)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
