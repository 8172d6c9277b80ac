"""Relationships: two parties (client and supplier) and their service areas.

Each operation checks what a user could get wrong (a :class:`ServiceError` with a message fit
to show), changes the database, flushes and writes the audit log, whoever calls it — the
admin pages, the command line or the demo; the request or command commits.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from survey_app.extensions import db
from survey_app.models import (
    SIDES,
    Action,
    Invitation,
    InvitationAddress,
    Party,
    Relationship,
    Response,
    ServiceArea,
    User,
    Wave,
)
from survey_app.services import ServiceError, audit
from survey_app.services.accounts.scope import EVERYTHING, AccessScope
from survey_app.services.organisations import organisation_named
from survey_app.texts import N_

MAX_NAME = 200


#: The problems of a name too long or missing, by what it names (translated where raised).
TOO_LONG = {
    "relationship": N_("the relationship name must be %(max)s characters or fewer"),
    "client": N_("the client name must be %(max)s characters or fewer"),
    "supplier": N_("the supplier name must be %(max)s characters or fewer"),
}
NO_NAME = {
    "relationship": N_("the relationship needs a name"),
    "client": N_("the client needs a name"),
    "supplier": N_("the supplier needs a name"),
}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def create_relationship(
    name: str,
    *,
    client: str,
    supplier: str,
    service_areas: list[str],
    actor: User | str = "cli",
) -> Relationship:
    """A new relationship. Names must be non-empty and at most :data:`MAX_NAME` characters;
    area names unique within it."""
    name, client, supplier = name.strip(), client.strip(), supplier.strip()
    problems = []
    if not name:
        problems.append(_("the relationship needs a name"))
    if not client:
        problems.append(_("the client party needs a name"))
    if not supplier:
        problems.append(_("the supplier party needs a name"))
    for label, value in (("relationship", name), ("client", client), ("supplier", supplier)):
        if len(value) > MAX_NAME:
            problems.append(_(TOO_LONG[label], max=MAX_NAME))
    if client and client == supplier:
        problems.append(_("the client and the supplier must be different parties"))
    areas = [a.strip() for a in service_areas if a.strip()]
    seen: set[str] = set()
    for area in areas:
        slug = slugify(area)
        if not slug:
            problems.append(
                _("service area %(area)r needs letters or digits in its name", area=area)
            )
        elif slug in seen:
            problems.append(_("service area %(area)r is listed twice", area=area))
        seen.add(slug)
    if name and _name_taken(name):
        problems.append(_("a relationship called %(name)r already exists", name=name))
    if problems:
        raise ServiceError("; ".join(problems))
    organisations = organisation_named(client), organisation_named(supplier)
    relationship = Relationship(
        name=name,
        parties=[
            Party(name=client, side="client", organisation=organisations[0]),
            Party(name=supplier, side="supplier", organisation=organisations[1]),
        ],
        service_areas=[
            ServiceArea(key=slugify(area), name=area, position=i) for i, area in enumerate(areas)
        ],
    )
    audit.created(
        relationship,
        "relationship.create",
        actor=actor,
        id_as="relationship",
        service_areas=len(relationship.service_areas),
    )
    return relationship


def _name_taken(name: str) -> bool:
    """Whether a relationship has this name already, whatever the case: two relationships
    named "Fuzz Council — Fuzz Supplier" and "FUZZ COUNCIL — FUZZ SUPPLIER" would be told
    apart by nobody reading a page or a download."""
    return bool(
        db.session.scalar(
            select(exists().where(func.lower(Relationship.name) == name.strip().lower()))
        )
    )


def get_relationship(name_or_id: str | int, *, required: bool = True) -> Relationship | None:
    query = select(Relationship)
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        query = query.where(Relationship.id == int(name_or_id))
    else:
        query = query.where(Relationship.name == str(name_or_id))
    relationship = db.session.scalar(query)
    if relationship is None and required:
        raise ServiceError(f"no relationship {name_or_id!r}")
    return relationship


def get_service_area(relationship: Relationship, key_or_name: str) -> ServiceArea:
    for area in relationship.service_areas:
        if key_or_name in (area.key, area.name):
            return area
    known = ", ".join(a.key for a in relationship.service_areas) or "none"
    raise ServiceError(
        f"relationship {relationship.name!r} has no service area {key_or_name!r} (known: {known})"
    )


def relationship_rows(scope: AccessScope = EVERYTHING) -> list[tuple[Relationship, int, int]]:
    """Every relationship in ``scope`` with its number of waves and of open waves, by name."""
    open_count = func.count(Wave.id).filter(Wave.state == "open")
    return [
        (rel, int(n), int(n_open))
        for rel, n, n_open in db.session.execute(
            scope.filter(
                select(Relationship, func.count(Wave.id), open_count)
                .outerjoin(Wave, Wave.relationship_id == Relationship.id)
                .group_by(Relationship.id)
                .order_by(Relationship.name)
            )
        )
    ]


def all_relationships(
    *, by_id: bool = False, scope: AccessScope = EVERYTHING
) -> list[Relationship]:
    """Every relationship in ``scope``, by name; ``by_id``: in the order they were created,
    which renaming never changes (the API pages through them)."""
    order = Relationship.id if by_id else Relationship.name
    return list(db.session.scalars(scope.filter(select(Relationship).order_by(order))))


def set_norms_consent(
    relationship: Relationship, side: str, consent: bool, *, actor: User | str = "cli"
) -> Party:
    """Record whether the organisation on ``side`` agreed that the relationship's results count
    towards the installation's norms (both sides must agree for it to contribute)."""
    if side not in SIDES:
        raise ServiceError(f"side must be client or supplier, not {side!r}")
    party = relationship.party(side)
    party.in_norms = consent
    audit.record(
        "relationship.norms_consent",
        actor=actor,
        relationship=relationship.id,
        side=side,
        consent=consent,
    )
    db.session.flush()
    return party


def set_privacy_notice(
    relationship: Relationship,
    *,
    controller_side: str | None = None,
    contact: str | None = None,
    lawful_basis: str | None = None,
    retention_months: int | None = None,
    actor: User | str = "cli",
) -> Relationship:
    """Change what the relationship's privacy notice says: which organisation is the
    controller (the one running the survey), whom to contact, the lawful basis, and how many
    months results are kept (1 to 120). What is not given stays as it is."""
    problems = []
    if controller_side is not None and controller_side not in SIDES:
        problems.append("the controller must be the client or the supplier")
    if contact is not None and not (0 < len(contact.strip()) <= 300):
        problems.append("the privacy contact must be 1 to 300 characters")
    if lawful_basis is not None and not (0 < len(lawful_basis.strip()) <= 300):
        problems.append("the lawful basis must be 1 to 300 characters")
    if retention_months is not None and not (1 <= retention_months <= 120):
        problems.append("results are kept for 1 to 120 months")
    if problems:
        raise ServiceError("; ".join(problems))
    changed = {
        "controller_side": controller_side,
        "privacy_contact": contact.strip() if contact is not None else None,
        "lawful_basis": lawful_basis.strip() if lawful_basis is not None else None,
        "retention_months": retention_months,
    }
    changed = {k: v for k, v in changed.items() if v is not None}
    for name, value in changed.items():
        setattr(relationship, name, value)
    audit.record("relationship.privacy", actor=actor, relationship=relationship.id, **changed)
    db.session.flush()
    return relationship


def update_relationship(
    relationship: Relationship, *, name: str, client: str, supplier: str, actor: User | str
) -> Relationship:
    """Rename the relationship or its parties (sides never change)."""
    name, client, supplier = name.strip(), client.strip(), supplier.strip()
    problems = []
    for label, value in (("relationship", name), ("client", client), ("supplier", supplier)):
        if not value:
            problems.append(_(NO_NAME[label]))
        elif len(value) > MAX_NAME:
            problems.append(_(TOO_LONG[label], max=MAX_NAME))
    if client and client == supplier:
        problems.append(_("the client and the supplier must be different parties"))
    if name and name != relationship.name:
        other = get_relationship(name, required=False)
        if other is not None and other.id != relationship.id:
            problems.append(_("a relationship called %(name)r already exists", name=name))
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
        return _("Enter the name of the service area")
    if len(name) > MAX_NAME:
        return _("Service area name must be %(max)s characters or fewer", max=MAX_NAME)
    if not slugify(name):
        return _("Service area name needs letters or digits")
    for area in relationship.service_areas:
        if area is not keep and area.name.casefold() == name.casefold():
            return _(
                "%(relationship)s already has a service area called %(area)s",
                relationship=relationship.name,
                area=area.name,
            )
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
        (Response.service_area_id == area.id, Response, N_("responses are recorded against it")),
        (Invitation.service_area_id == area.id, Invitation, N_("invitations name it")),
        (
            InvitationAddress.service_area_id == area.id,
            InvitationAddress,
            N_("people on an address list are in it"),
        ),
        (
            (Action.relationship_id == area.relationship_id) & (Action.alert_area == area.key),
            Action,
            N_("an action refers to it"),
        ),
    )
    for condition, _model, reason in checks:
        if db.session.scalar(select(exists().where(condition))):
            return _(reason)
    return None


def delete_service_area(area: ServiceArea, *, actor: User | str) -> None:
    """Delete an area nobody has used. An area with responses is never deleted."""
    reason = area_in_use(area)
    if reason:
        raise ServiceError(
            _(
                "%(area)s cannot be deleted because %(reason)s: rename it instead",
                area=area.name,
                reason=reason,
            )
        )
    relationship = area.relationship
    relationship.service_areas.remove(area)
    db.session.flush()
    audit.record("service_area.delete", actor=actor, relationship=relationship.id, area=area.key)
