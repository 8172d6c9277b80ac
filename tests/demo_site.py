"""The demo (14 closed waves, results computed by ``load_demo``) and a small closed wave of a
second relationship, loaded once with an app of their own: the ``demo_site`` fixture of
``conftest.py``, shared by the dashboard and API tests. No test using it may use the per-test
``app`` fixture, which would empty the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from survey_app.extensions import db
from survey_app.services.demo import DEMO_USERS, NAME, load_demo
from survey_app.services.relationships import get_relationship
from survey_app.services.waves import close_wave
from tests.factories import insert_responses, open_wave_of_new_relationship, post_sign_in
from tests.snapshots import built_once

SMALL = "Small Council — Small Supplier"
#: The small wave: (side, area key, role level) -> responses. The tiny area has 3 people.
SMALL_GROUPS = {
    ("client", "big-area", "staff"): 7,
    ("client", "big-area", "manager"): 3,
    ("supplier", "big-area", "staff"): 8,
    ("client", "tiny-area", "staff"): 2,
    ("supplier", "tiny-area", "staff"): 1,
}


@dataclass
class Site:
    app: object
    relationship_id: int
    small_id: int
    small_wave_id: int

    def client(self, role: str = "manager"):  # type: ignore[no-untyped-def]
        """A test client signed in as the demo's user of ``role``."""
        client = self.app.test_client()  # type: ignore[attr-defined]
        _, email, _, password = next(u for u in DEMO_USERS if u[0] == role)
        assert post_sign_in(client, email, password).status_code == 302
        return client


def build_small_wave() -> tuple[int, int]:
    """A closed wave of a new relationship: a big area (18 people) and a tiny one (3)."""
    rel, wave = open_wave_of_new_relationship(
        "Small Council", "Small Supplier", areas=["Big area", "Tiny area"]
    )
    assert rel.name == SMALL
    rng = np.random.default_rng(7)
    insert_responses(
        wave,
        [(side, area, role, n) for (side, area, role), n in SMALL_GROUPS.items()],
        lambda instrument, side: [
            (j, int(rng.integers(1, 6))) for j in range(len(instrument.items))
        ],
    )
    close_wave(wave)  # computes and stores the results
    db.session.commit()
    return rel.id, wave.id


def closed_demo() -> None:
    """``load_demo(links=1)`` committed, for tests that read the demo's closed waves: built
    once a run and copied into the empty tables afterwards (:mod:`tests.snapshots`). Its
    closed waves are the same whatever the links and the day (both touch only the open
    wave, after the seeded history is drawn and its results computed)."""
    built_once("closed-demo", _load_closed_demo)


def _load_closed_demo() -> None:
    load_demo(links=1)
    db.session.commit()


def load_demo_site(app) -> Site:  # type: ignore[no-untyped-def]
    """Load the demo as of 20 October 2012 and the small wave into ``app``'s database (built
    once a run, copied afterwards: :mod:`tests.snapshots`)."""
    return Site(app, *built_once("demo-site", _build))


def _build() -> tuple[int, int, int]:
    load_demo(today=date(2012, 10, 20))
    db.session.commit()
    small_id, small_wave_id = build_small_wave()
    return get_relationship(NAME).id, small_id, small_wave_id
