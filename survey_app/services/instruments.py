"""Instrument versions: freezing them into the database, reading them back (cached), and the
versions an administrator can choose or preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from instruments import (
    INSTRUMENTS_DIR,
    Instrument,
    InstrumentError,
    available_instruments,
    find_instrument,
    with_translations,
)
from survey_app.extensions import db
from survey_app.models import InstrumentVersion, Wave
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


def offered_translations(version: InstrumentVersion) -> dict | None:
    """What a wave opening now on `version` freezes: the texts of every language its file
    carries besides English (None: English only, or the file is gone or has changed)."""
    try:
        instrument = find_instrument(version.key, version.version, root=instruments_root())
    except InstrumentError:
        return None
    if instrument.content_hash != version.content_hash or not instrument.translations:
        return None
    return instrument.translations_to_dict()


def wave_instrument(wave: Wave) -> Instrument:
    """The instrument as the wave shows it: the frozen definition with the translations the
    wave froze when it opened (parsed once per process and wave)."""
    version = wave.instrument_version
    if not wave.translations:
        return frozen_instrument(version)
    key = (version.id, version.content_hash, wave.id)
    instrument = _wave_cache.get(key)
    if instrument is None:
        instrument = with_translations(frozen_instrument(version), wave.translations)
        _wave_cache[key] = instrument
    return instrument


_wave_cache: dict[tuple[int, str, int], Instrument] = {}


def reader_language(instrument: Instrument) -> str:
    """The language ``instrument``'s texts are shown in to the reader of this request: theirs
    where the instrument carries it, else English (``Instrument.resolve_language``)."""
    return instrument.resolve_language(str(get_locale() or ""))


def shown_dimensions(instrument: Instrument) -> list[tuple[str, str]]:
    """(key, title) of each dimension, in the reader's language where the instrument carries
    it (else English): what staff pages, charts and the board pack name them."""
    language = reader_language(instrument)
    return [(d.key, d.title_in(language)) for d in instrument.dimensions]


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


@dataclass(frozen=True, slots=True)
class InstrumentChoice:
    key: str
    version: int
    title: str
    frozen: bool  # a wave uses it (its definition is in the database)
    in_file: bool  # a file defines it

    @property
    def value(self) -> str:
        """The choice as a form sends it: ``key:version``."""
        return f"{self.key}:{self.version}"

    @staticmethod
    def parse(value: str) -> tuple[str, int]:
        """``(key, version)`` of a :attr:`value`; ServiceError when it names no version."""
        key, _, version = (value or "").partition(":")
        if not key or not (version.isascii() and version.isdigit()):
            raise ServiceError("Select an instrument version")
        return key, int(version)

    @property
    def label(self) -> str:
        return f"{self.title} — {self.key} version {self.version}"

    def named(self) -> dict[str, object]:
        """Its title, key and version, for a label in the page's language."""
        return {"title": self.title, "key": self.key, "version": self.version}


def instrument_versions() -> list[InstrumentChoice]:
    """Every instrument version there is a file for or a wave has frozen, by key and version."""
    frozen = {
        (v.key, v.version): v.title
        for v in db.session.execute(
            select(InstrumentVersion.key, InstrumentVersion.version, InstrumentVersion.title)
        )
    }
    choices: dict[tuple[str, int], InstrumentChoice] = {}
    for key, version, _path in available_instruments(instruments_root()):
        title = frozen.get((key, version))
        if title is None:
            try:
                title = find_instrument(key, version, root=instruments_root()).title
            except InstrumentError:
                continue  # a broken file: `relhealth instrument check` reports it
        choices[(key, version)] = InstrumentChoice(
            key, version, title, (key, version) in frozen, True
        )
    for (key, version), title in frozen.items():
        if (key, version) not in choices:
            choices[(key, version)] = InstrumentChoice(key, version, title, True, False)
    return [choices[k] for k in sorted(choices)]


def instrument_for_preview(key: str, version: int) -> Instrument | None:
    """The instrument version respondents see: the frozen definition once a wave uses it,
    else the file's. None if there is neither."""
    frozen = db.session.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.key == key, InstrumentVersion.version == version
        )
    )
    if frozen is not None:
        return frozen_instrument(frozen)
    try:
        return find_instrument(key, version, root=instruments_root())
    except InstrumentError:
        return None
