"""What a wave's invitation and reminder emails say, as its administrators wrote it.

Each save is a new **version** (``wave_email_texts``): the rows are never changed, so a round
of messages names the version it was sent with, and what any round said can be read again.
A wave without a row speaks with the service's default texts (``services/mailing/texts.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, WaveId


class WaveEmailTexts(Base):
    """One saved version of a wave's email texts.

    ``texts`` maps a language (``en``, ``cy``) to its ``team`` (the survey team's name in it)
    and the ``invitation_subject``, ``invitation_body``, ``reminder_subject`` and
    ``reminder_body`` templates, whose ``{placeholders}`` are filled in for each person.
    """

    __tablename__ = "wave_email_texts"
    __table_args__ = (UniqueConstraint("wave_id", "version"),)

    id: Mapped[IntPk]
    wave_id: Mapped[WaveId]
    version: Mapped[int]
    sender_name: Mapped[str] = mapped_column(String(100))
    team_email: Mapped[str | None] = mapped_column(String(254))
    team_phone: Mapped[str | None] = mapped_column(String(40))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(server_default=func.now())
