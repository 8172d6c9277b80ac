"""An instrument version frozen into the database the first time a wave uses it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from instruments import Instrument, instrument_from_dict
from survey_app.models.base import Base, IntPk


class InstrumentVersion(Base):
    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[IntPk]
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def instrument(self) -> Instrument:
        """The frozen definition as an Instrument (the file on disk is not consulted)."""
        return instrument_from_dict(self.definition, source=f"<frozen {self.key} v{self.version}>")

    def __repr__(self) -> str:
        return f"<InstrumentVersion {self.key} v{self.version}>"
