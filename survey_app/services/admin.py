"""Administration of relationships, service areas, waves and instrument versions, for the
admin pages. Each operation checks what a user could get wrong (a :class:`ServiceError` with a
message fit to show), changes the database, flushes and writes the audit log; the request
commits. Creating, opening and closing waves are :mod:`survey_app.services.waves`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select

from instruments import Instrument, InstrumentError, available_instruments, find_instrument
from survey_app.extensions import db
from survey_app.models import (
    Action,
    InstrumentVersion,
    Invitation,
    InvitationAddress,
    Relationship,
    Response,
    ServiceArea,
    User,
    Wave,
)
from survey_app.services import ServiceError, audit
from survey_app.services import relationships as relationships_service
from survey_app.services import waves as waves_service
from survey_app.services.instruments import frozen_instrument, instruments_root
from survey_app.services.relationships import slugify

MAX_NAME = 200


# =========================================================================== relationships


def relationship_rows() -> list[tuple[Relationship, int, int]]:
    """Every relationship with its number of waves and of open waves, by name."""
    open_count = func.count(Wave.id).filter(Wave.state == "open")
    return [
        (rel, int(n), int(n_open))
        for rel, n, n_open in db.session.execute(
            select(Relationship, func.count(Wave.id), open_count)
            .outerjoin(Wave, Wave.relationship_id == Relationship.id)
            .group_by(Relationship.id)
            .order_by(Relationship.name)
        )
    ]


def waves_of(relationship: Relationship) -> list[Wave]:
    """The relationship's waves, newest first."""
    return list(
        db.session.scalars(
            select(Wave)
            .where(Wave.relationship_id == relationship.id)
            .order_by(Wave.created_at.desc(), Wave.id.desc())
        )
    )


def create_relationship(
    name: str, *, client: str, supplier: str, service_areas: list[str], actor: User | str
) -> Relationship:
    for label, value in (("relationship", name), ("client", client), ("supplier", supplier)):
        if len(value.strip()) > MAX_NAME:
            raise ServiceError(f"the {label} name must be {MAX_NAME} characters or fewer")
    relationship = relationships_service.create_relationship(
        name, client=client, supplier=supplier, service_areas=service_areas
    )
    audit.record(
        "relationship.create",
        actor=actor,
        relationship=relationship.id,
        service_areas=len(relationship.service_areas),
    )
    return relationship


def update_relationship(
    relationship: Relationship, *, name: str, client: str, supplier: str, actor: User | str
) -> Relationship:
    """Rename the relationship or its parties (sides never change)."""
    name, client, supplier = name.strip(), client.strip(), supplier.strip()
    problems = []
    for label, value in (("relationship", name), ("client", client), ("supplier", supplier)):
        if not value:
            problems.append(f"the {label} needs a name")
        elif len(value) > MAX_NAME:
            problems.append(f"the {label} name must be {MAX_NAME} characters or fewer")
    if client and client == supplier:
        problems.append("the client and the supplier must be different parties")
    if name and name != relationship.name:
        other = relationships_service.get_relationship(name, required=False)
        if other is not None and other.id != relationship.id:
            problems.append(f"a relationship called {name!r} already exists")
    if problems:
        raise ServiceError("; ".join(problems))
    changed = []
    if relationship.name != name:
        relationship.name = name
        changed.append("name")
    for side, value in (("client", client), ("supplier", supplier)):
        party = relationship.party(side)
        if party.name != value:
            party.name = value
            changed.append(side)
    if changed:
        db.session.flush()
        audit.record(
            "relationship.update", actor=actor, relationship=relationship.id, changed=changed
        )
    return relationship


def _area_name_problem(
    relationship: Relationship, name: str, keep: ServiceArea | None
) -> str | None:
    if not name:
        return "Enter the name of the service area"
    if len(name) > MAX_NAME:
        return f"Service area name must be {MAX_NAME} characters or fewer"
    if not slugify(name):
        return "Service area name needs letters or digits"
    for area in relationship.service_areas:
        if area is not keep and area.name.casefold() == name.casefold():
            return f"{relationship.name} already has a service area called {area.name}"
    return None


def add_service_area(relationship: Relationship, name: str, *, actor: User | str) -> ServiceArea:
    name = name.strip()
    problem = _area_name_problem(relationship, name, None)
    if problem:
        raise ServiceError(problem)
    keys = {a.key for a in relationship.service_areas}
    key, n = slugify(name)[:56], 2
    base = key
    while key in keys:
        key, n = f"{base}-{n}", n + 1
    position = max((a.position for a in relationship.service_areas), default=-1) + 1
    area = ServiceArea(key=key, name=name, position=position)
    relationship.service_areas.append(area)
    db.session.flush()
    audit.record("service_area.add", actor=actor, relationship=relationship.id, area=area.key)
    return area


def rename_service_area(area: ServiceArea, name: str, *, actor: User | str) -> ServiceArea:
    """Rename an area. Its key stays, so results and trends keep following it."""
    name = name.strip()
    problem = _area_name_problem(area.relationship, name, area)
    if problem:
        raise ServiceError(problem)
    if area.name != name:
        area.name = name
        db.session.flush()
        audit.record(
            "service_area.rename", actor=actor, relationship=area.relationship_id, area=area.key
        )
    return area


def area_in_use(area: ServiceArea) -> str | None:
    """Why the area cannot be deleted (in plain words), or None if it can."""
    checks = (
        (Response.service_area_id == area.id, Response, "responses are recorded against it"),
        (Invitation.service_area_id == area.id, Invitation, "invitations name it"),
        (
            InvitationAddress.service_area_id == area.id,
            InvitationAddress,
            "people on an address list are in it",
        ),
        (
            (Action.relationship_id == area.relationship_id) & (Action.alert_area == area.key),
            Action,
            "an action refers to it",
        ),
    )
    for condition, _model, reason in checks:
        if db.session.scalar(select(exists().where(condition))):
            return reason
    return None


def delete_service_area(area: ServiceArea, *, actor: User | str) -> None:
    """Delete an area nobody has used. An area with responses is never deleted."""
    reason = area_in_use(area)
    if reason:
        raise ServiceError(f"{area.name} cannot be deleted because {reason}: rename it instead")
    relationship = area.relationship
    relationship.service_areas.remove(area)
    db.session.flush()
    audit.record("service_area.delete", actor=actor, relationship=relationship.id, area=area.key)


# ================================================================================= waves


def extend_wave(
    wave: Wave, closes_on: date, *, actor: User | str, today: date | None = None
) -> Wave:
    """Change a draft or open wave's closing date (to today or later)."""
    if wave.state == "closed":
        raise ServiceError(f"Wave {wave.label} is closed: its closing date cannot change")
    if closes_on < (today or date.today()):
        raise ServiceError("The closing date must be today or in the future")
    if wave.closes_on != closes_on:
        before = wave.closes_on
        wave.closes_on = closes_on
        db.session.flush()
        audit.record(
            "wave.extend",
            actor=actor,
            wave=wave.id,
            closes_on=closes_on.isoformat(),
            was=before.isoformat() if before else None,
        )
    return wave


def create_wave(
    relationship: Relationship,
    label: str,
    *,
    instrument: str,
    closes_on: date,
    actor: User | str,
    today: date | None = None,
) -> Wave:
    """A draft wave on instrument version ``instrument`` (``key:version``)."""
    key, _, version = instrument.partition(":")
    if not version.isdigit():
        raise ServiceError("Select an instrument version")
    if closes_on < (today or date.today()):
        raise ServiceError("The closing date must be today or in the future")
    return waves_service.create_wave(
        relationship,
        label,
        instrument_key=key,
        instrument_version=int(version),
        closes_on=closes_on,
        actor=actor,  # type: ignore[arg-type]  # the audit log takes a user or a name
    )


# ====================================================================== instrument versions


@dataclass(frozen=True, slots=True)
class InstrumentChoice:
    key: str
    version: int
    title: str
    frozen: bool  # a wave uses it (its definition is in the database)
    in_file: bool  # a file defines it

    @property
    def value(self) -> str:
        return f"{self.key}:{self.version}"

    @property
    def label(self) -> str:
        return f"{self.title} — {self.key} version {self.version}"


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


def relationships_for_preview() -> list[Relationship]:
    return list(db.session.scalars(select(Relationship).order_by(Relationship.name)))


__all__ = [
    "InstrumentChoice",
    "add_service_area",
    "area_in_use",
    "create_relationship",
    "create_wave",
    "delete_service_area",
    "extend_wave",
    "instrument_for_preview",
    "instrument_versions",
    "relationship_rows",
    "rename_service_area",
    "update_relationship",
    "waves_of",
]
