"""Creating relationships: two parties (client and supplier) and their service areas."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Party, Relationship, ServiceArea
from survey_app.services import ServiceError


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def create_relationship(
    name: str, *, client: str, supplier: str, service_areas: list[str]
) -> Relationship:
    """A new relationship. Names must be non-empty; area names unique within it."""
    name, client, supplier = name.strip(), client.strip(), supplier.strip()
    problems = []
    if not name:
        problems.append("the relationship needs a name")
    if not client:
        problems.append("the client party needs a name")
    if not supplier:
        problems.append("the supplier party needs a name")
    if client and client == supplier:
        problems.append("the client and the supplier must be different parties")
    areas = [a.strip() for a in service_areas if a.strip()]
    seen: set[str] = set()
    for area in areas:
        slug = slugify(area)
        if not slug:
            problems.append(f"service area {area!r} needs letters or digits in its name")
        elif slug in seen:
            problems.append(f"service area {area!r} is listed twice")
        seen.add(slug)
    if name and get_relationship(name, required=False) is not None:
        problems.append(f"a relationship called {name!r} already exists")
    if problems:
        raise ServiceError("; ".join(problems))
    relationship = Relationship(
        name=name,
        parties=[Party(name=client, side="client"), Party(name=supplier, side="supplier")],
        service_areas=[
            ServiceArea(key=slugify(area), name=area, position=i) for i, area in enumerate(areas)
        ],
    )
    db.session.add(relationship)
    db.session.flush()
    return relationship


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
