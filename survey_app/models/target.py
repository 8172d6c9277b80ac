"""The targets both sides of a relationship agreed for a dimension (or the health index).

The SC21 Relationship Measurement Matrix and ISO 44001 have a partnership agree a target state
per attribute and report the distance to it. Here a target is a mean on the instrument's
scale (1 to K) for one dimension key (``index`` for the health index), with the day both sides
agreed it. The rows are the targets' history: a target agreed later stands from its day on
(the earlier one stood until then), one agreed again on the same day corrects it, and a
target withdrawn stands no more from ``withdrawn_on`` (see ``services/targets.py``), so that
a past wave is read against the target as it stood then.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint, func, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, RelationshipId
from survey_app.models.relationship import Relationship


class AgreedTarget(Base):
    __tablename__ = "agreed_targets"
    __table_args__ = (
        UniqueConstraint("relationship_id", "dimension", "agreed_on"),
        CheckConstraint("target >= 1", name="target_on_scale"),
    )

    id: Mapped[IntPk]
    relationship_id: Mapped[RelationshipId]
    dimension: Mapped[str] = mapped_column(String(64))
    target: Mapped[float]
    agreed_on: Mapped[date]
    withdrawn_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    relationship: Mapped[Relationship] = orm.relationship()

    def __repr__(self) -> str:
        return f"<AgreedTarget {self.dimension} {self.target} rel={self.relationship_id}>"
