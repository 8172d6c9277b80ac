"""Relationships each with one closed, scored wave answered around a chosen level, and the
demo's users: a site (an app of its own) for the portfolio, targets and norms tests."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import Invitation
from survey_app.services.accounts.users import create_user
from survey_app.services.demo import DEMO_USERS
from survey_app.services.invitations import issue_invitations
from survey_app.services.relationships import get_relationship
from survey_app.services.waves import close_wave
from tests.conftest import running_app
from tests.demo_site import Site
from tests.factories import insert_responses, open_wave_of_new_relationship

#: Relationship i has answers centred on LEVELS[i] (the 1 to 5 scale), 12 people a side.
LEVELS = [2.2, 2.5, 2.7, 2.9, 3.1, 3.2, 3.4, 3.6, 3.8, 4.0, 4.3]


def name_of(i: int) -> str:
    return f"Council {i} — Supplier {i}"


def scored_relationship(i: int, level: float, *, n: int = 12) -> None:
    """A relationship with one closed wave of ``n`` people a side answering around ``level``
    (the supplier a little lower), 20 invitations a side of which ``n`` used."""
    rel, wave = open_wave_of_new_relationship(f"Council {i}", f"Supplier {i}")
    assert rel.name == name_of(i)
    area = rel.service_areas[0]
    rng = np.random.default_rng(i)
    for side, shift in (("client", 0.3), ("supplier", -0.3)):
        issue_invitations(wave, side, 20, service_area=area)
        party = rel.party(side)
        used = select(Invitation.id).where(
            Invitation.wave_id == wave.id, Invitation.party_id == party.id
        )
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_(list(db.session.scalars(used.limit(n)))))
            .values(used_on=date(2024, 2, 1))
        )
        insert_responses(
            wave,
            [(side, area.key, "staff", n)],
            lambda instrument, _side, centre=level + shift: enumerate(
                int(v)
                for v in np.clip(np.rint(rng.normal(centre, 0.7, len(instrument.items))), 1, 5)
            ),
        )
    close_wave(wave)
    db.session.commit()


def scored_site(migrated, folder, levels):  # type: ignore[no-untyped-def]
    """A site (an app of its own) with a scored relationship for each of ``levels`` and the
    demo's users; its tables are emptied afterwards."""
    with running_app(migrated, folder) as app:
        for i, level in enumerate(levels):
            scored_relationship(i, level)
        for role, email, name, password in DEMO_USERS:
            create_user(email, name=name, role=role, password=password)
        db.session.commit()
        yield Site(app, get_relationship(name_of(0)).id, 0, 0)
