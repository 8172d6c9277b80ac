"""Failed sign-in attempts, kept in the database so that every worker sees the same count.

A row holds only keyed hashes (HMAC with the app's secret key) of the email address typed
and of the client address, and the time: never a password, never the address in clear.
Rows older than the counting window are deleted as new failures arrive.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk


class SignInAttempt(Base):
    """One failed sign-in: which email (hashed), from where (hashed), when (UTC)."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_hash_at", "email_hash", "at"),
        Index("ix_sign_in_attempts_client_hash_at", "client_hash", "at"),
    )

    id: Mapped[IntPk]
    at: Mapped[datetime] = mapped_column(index=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str] = mapped_column(String(64))
