"""Organisations: the bodies that are parties to relationships, and whose staff sign in.

A relationship's party is created with the organisation of the same name (one is made when none
exists yet), so a council with several suppliers is one organisation, party to each relationship.
Renaming a party later changes its name on that relationship only; it stays the same organisation.
"""

from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Organisation, Party, Relationship


def organisation_named(name: str) -> Organisation:
    """The organisation called ``name``, created (and flushed) when there is none."""
    found = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        found = Organisation(name=name, allowed_email_domains=[], group_roles={})
        db.session.add(found)
        db.session.flush()
    return found


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def relationships_of(organisation: Organisation) -> list[Relationship]:
    """The relationships ``organisation`` is a party to, by name."""
    return list(
        db.session.scalars(
            select(Relationship)
            .join(Party, Party.relationship_id == Relationship.id)
            .where(Party.organisation_id == organisation.id)
            .order_by(Relationship.name)
        )
    )
