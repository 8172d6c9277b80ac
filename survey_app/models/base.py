"""Declarative base with a constraint naming convention (stable names for migrations)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Column types the tables share (SQLAlchemy's ``Annotated`` declarations: ``id: Mapped[IntPk]``
# makes the same column the long form would, so the schema and the migrations are unchanged).
#: Every table's surrogate key.
IntPk = Annotated[int, mapped_column(primary_key=True)]
#: A row that belongs to one wave and goes when the wave is deleted (indexed: looked up by wave).
WaveId = Annotated[int, mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)]
#: A row that belongs to one user and goes when the user is deleted (indexed: looked up by user).
UserId = Annotated[int, mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)]
#: A row that belongs to one relationship and goes when the relationship is deleted (indexed:
#: looked up by relationship). Waves, parties and service areas declare theirs apart: a unique
#: constraint that starts with the column already indexes it.
RelationshipId = Annotated[
    int, mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"), index=True)
]


class IllegalTransition(ValueError):
    """A state change that the domain does not allow (e.g. reopening a closed wave)."""
