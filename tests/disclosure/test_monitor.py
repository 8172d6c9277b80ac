"""The response-rate monitor attacked: from its JSON feed (what its page shows), no count of
fewer than k — invited, started, not started or submitted, of any party and area — can be
worked out, during the wave or after it closes.

On the old code the feed gave every count as it was: "invited 1, submitted 1" named the one
supplier in Contact centre as a respondent, and "submitted 3 of 3" a whole 3-person area.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import Invitation, Relationship, Wave
from survey_app.services.monitoring import response_rates
from survey_app.services.waves import close_wave
from tests.demo_site import closed_demo
from tests.factories import sign_in

K = 5
FIGURES = ("invited", "started", "not_started", "submitted")

#: (side, area key or None, invited, submitted): a 3-person area all of whom answered, a
#: 2-person no-area group, and one supplier invited alone who answered.
SEEDED = [
    ("client", "core-ict", 20, 12),
    ("client", "contact-centre", 8, 6),
    ("client", "revenues", 3, 3),
    ("client", None, 2, 1),
    ("supplier", "core-ict", 10, 7),
    ("supplier", "contact-centre", 1, 1),
]


@pytest.fixture
def seeded(factory):  # type: ignore[no-untyped-def]
    rel = factory.relationship(areas=["Core ICT", "Contact centre", "Revenues"])
    areas = {a.key: a for a in rel.service_areas}
    wave = factory.wave(rel)
    for side, area, invited, submitted in SEEDED:
        factory.tokens(wave, side, invited, area=areas[area] if area else None)
        in_area = (
            Invitation.service_area_id == areas[area].id
            if area
            else Invitation.service_area_id.is_(None)
        )
        ids = db.session.scalars(
            select(Invitation.id)
            .where(
                Invitation.wave_id == wave.id,
                in_area,
                Invitation.used_on.is_(None),
                Invitation.party.has(side=side),
            )
            .limit(submitted)
        ).all()
        db.session.execute(
            update(Invitation).where(Invitation.id.in_(ids)).values(used_on=date(2024, 1, 10))
        )
    db.session.commit()
    return wave.id


def truth(wave_id: int) -> dict[tuple[str, str, str], int]:
    """Every count as it is, keyed by (figure, side, area; None area = a party's total)."""
    out = {}
    for side, area, invited, submitted in SEEDED:
        key = area or "_none"
        out[("invited", side, key)] = invited
        out[("submitted", side, key)] = submitted
        out[("not_started", side, key)] = invited - submitted
    del wave_id
    return out


def worked_out(feed: dict, k: int = K) -> list[tuple]:
    """Counts of fewer than k an intruder pins down from the feed (an integer program over
    invited = started + not started + submitted, each party = the sum of its areas, both
    parties = the sum of the parties)."""
    rows = [*feed["rows"], *feed["parties"], feed["total"]]
    cells = [(f, r["side"], r["area"]) for r in rows for f in FIGURES]
    index = {c: i for i, c in enumerate(cells)}
    known = {(f, r["side"], r["area"]): r[f] for r in rows for f in FIGURES if r.get(f) is not None}
    equations = []
    for r in rows:
        row = np.zeros(len(cells))
        row[index[("invited", r["side"], r["area"])]] = 1
        for f in FIGURES[1:]:
            row[index[(f, r["side"], r["area"])]] = -1
        equations.append((row, 0.0))
    for f in FIGURES:
        for party in feed["parties"]:
            row = np.zeros(len(cells))
            row[index[(f, party["side"], None)]] = 1
            for r in feed["rows"]:
                if r["side"] == party["side"]:
                    row[index[(f, r["side"], r["area"])]] = -1
            equations.append((row, 0.0))
        row = np.zeros(len(cells))
        row[index[(f, "all", None)]] = 1
        for party in feed["parties"]:
            row[index[(f, party["side"], None)]] = -1
        equations.append((row, 0.0))
    for cell, value in known.items():
        row = np.zeros(len(cells))
        row[index[cell]] = 1
        equations.append((row, float(value)))
    a = np.array([e[0] for e in equations])
    b = np.array([e[1] for e in equations])
    constraint = LinearConstraint(a, b, b)
    bounds = Bounds(np.zeros(len(cells)), np.full(len(cells), 10_000))
    integrality = np.ones(len(cells))
    pinned = []
    for cell in cells:
        if cell in known and not 0 < known[cell] < k:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(cells))
            c[index[cell]] = sign
            res = milp(c, constraints=constraint, integrality=integrality, bounds=bounds)
            assert res.status == 0, res.message
            ends.append(sign * res.fun)
        if ends[1] - ends[0] < 0.5 and 0 < ends[0] < k:
            pinned.append((cell, ends[0]))
    return pinned


def scoped(app, role: str, wave_id: int, *, of_another: bool = False):  # type: ignore[no-untyped-def]
    """The intruder: a ``role`` held on the wave's relationship only (the contract manager who
    watches the monitor) — or, ``of_another``, on a different relationship only."""
    relationship = db.session.get(Wave, wave_id).relationship
    if of_another:
        relationship = Relationship(name="Council B — Supplier B")
        db.session.add(relationship)
        db.session.flush()
    email = f"{role}.{'other' if of_another else 'this'}@council.example"
    return sign_in(app, role, relationships=[relationship], email=email)


def feed_of(app, wave_id: int) -> dict:
    response = scoped(app, "manager", wave_id).get(f"/admin/waves/{wave_id}/responses.json")
    assert response.status_code == 200
    return response.get_json()


def test_no_count_under_k_can_be_worked_out_from_the_feed_during_the_wave(app, seeded):
    feed = feed_of(app, seeded)
    assert worked_out(feed) == []
    shown = {
        (f, r["side"], r["area"]): r[f]
        for r in feed["rows"]
        for f in ("invited", "submitted")
        if r[f] is not None
    }
    for cell, value in truth(seeded).items():
        if cell in shown:
            assert shown[cell] == value, cell  # what is shown is true
    # The large groups keep their figures.
    rows = {(r["side"], r["area"]): r for r in feed["rows"]}
    assert rows[("client", "core-ict")]["invited"] == 20
    assert rows[("supplier", "contact-centre")]["suppressed"]["invited"] == "fewer than 5"


def test_no_count_under_k_can_be_worked_out_after_the_wave_closes(app, seeded):
    close_wave(db.session.get(Wave, seeded))
    db.session.commit()
    feed = feed_of(app, seeded)
    assert feed["state"] == "closed"
    assert worked_out(feed) == []


def test_the_page_shows_fewer_than_k_and_never_one_of_one(app, seeded):
    html = (
        scoped(app, "admin", seeded).get(f"/admin/waves/{seeded}/responses").get_data(as_text=True)
    )
    assert 'data-cell="supplier|contact-centre|invited">fewer than 5</td>' in html
    assert 'data-cell="supplier|contact-centre|submitted">fewer than 5</td>' in html
    assert 'data-cell="client|revenues|submitted">fewer than 5</td>' in html
    assert 'data-cell="client|core-ict|invited">20</td>' in html


def test_k_comes_from_the_configuration(app, seeded):
    app.config["MIN_CELL_SIZE"] = 3
    rates = response_rates(db.session.get(Wave, seeded))
    rows = {(r.side, r.area_key): r for r in rates.rows}
    assert rows[("client", "_none")].figure("invited") == "fewer than 3"
    assert rows[("client", "revenues")].figure("invited") != "fewer than 3"
    assert worked_out(rates.as_dict(), k=3) == []


@pytest.mark.slow
def test_the_demo_monitor_gives_no_count_under_k_away(app):
    from survey_app.services.demo import NAME, OPEN_WAVE, load_demo

    # The demo with 7 fresh links on its open wave, 4 client and 3 supplier as
    # load_demo(links=7) issues them: the copied demo's one link and 6 more from loading it
    # again (which issues links and changes nothing else).
    closed_demo()
    load_demo(links=6)
    db.session.commit()
    rel_id = db.session.scalar(select(Relationship.id).where(Relationship.name == NAME))
    wave_id = db.session.scalar(
        select(Wave.id).where(Wave.relationship_id == rel_id, Wave.label == OPEN_WAVE)
    )
    assert worked_out(feed_of(app, wave_id)) == []


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_role_on_another_relationship_sees_no_figure_of_this_wave(app, seeded, role):
    intruder = scoped(app, role, seeded, of_another=True)
    for path in (f"/admin/waves/{seeded}/responses.json", f"/admin/waves/{seeded}/responses"):
        response = intruder.get(path)
        assert response.status_code == 404, path
        assert "core-ict" not in response.get_data(as_text=True).lower()
