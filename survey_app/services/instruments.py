"""Freezing instrument versions into the database, and reading them back (cached)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from instruments import INSTRUMENTS_DIR, Instrument, InstrumentError, find_instrument
from survey_app.extensions import db
from survey_app.models import InstrumentVersion
from survey_app.services import ServiceError


def instruments_root() -> Path:
    configured = current_app.config.get("INSTRUMENTS_DIR")
    return Path(configured) if configured else INSTRUMENTS_DIR


def freeze_instrument(key: str, version: int) -> InstrumentVersion:
    """The frozen copy of an instrument version, frozen now from its file if new.

    A version already frozen must still match its file: a changed file under an
    already used version number is refused (make a new version instead).
    """
    try:
        instrument = find_instrument(key, version, root=instruments_root())
    except InstrumentError as exc:
        existing = _frozen(key, version)
        if existing is not None:
            return existing
        raise ServiceError(str(exc)) from exc
    existing = _frozen(key, version)
    if existing is not None:
        if existing.content_hash != instrument.content_hash:
            raise ServiceError(
                f"instrument {key} v{version} has changed since a wave froze it "
                f"(frozen hash {existing.content_hash[:12]}, file hash "
                f"{instrument.content_hash[:12]}): save the change as a new version"
            )
        return existing
    frozen = InstrumentVersion(
        key=instrument.key,
        version=instrument.version,
        title=instrument.title,
        definition=instrument.to_dict(),
        content_hash=instrument.content_hash,
    )
    db.session.add(frozen)
    db.session.flush()
    return frozen


def _frozen(key: str, version: int) -> InstrumentVersion | None:
    return db.session.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.key == key, InstrumentVersion.version == version
        )
    )


def frozen_instrument(version: InstrumentVersion) -> Instrument:
    """The Instrument of a frozen version (parsed once per process and content hash)."""
    return _parse(version.id, version.content_hash, version)


_cache: dict[tuple[int, str], Instrument] = {}


def _parse(version_id: int, content_hash: str, version: InstrumentVersion) -> Instrument:
    key = (version_id, content_hash)
    instrument = _cache.get(key)
    if instrument is None:
        instrument = version.instrument()
        if instrument.content_hash != content_hash:
            raise ServiceError(
                f"frozen instrument {version.key} v{version.version} does not match its hash"
            )
        _cache[key] = instrument
    return instrument
