"""The demo tells the seed story, is deterministic, and loads only once."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Relationship, Response, ServiceArea, Wave
from survey_app.services.demo import CLOSED_WAVES, OPEN_WAVE, load_demo

pytestmark = pytest.mark.slow


def answers_by(dimension_prefix: str):
    """Mean answer per (wave, side, area) for items whose key starts with the prefix,
    computed from the raw rows (reverse-keyed items turned back first)."""
    from survey_app.services.instruments import frozen_instrument

    wave = db.session.scalar(select(Wave).limit(1))
    inst = frozen_instrument(wave.instrument_version)
    rows = db.session.execute(
        select(Wave.label, Response.side, ServiceArea.name, Answer.item_no, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .join(Wave, Wave.id == Response.wave_id)
        .outerjoin(ServiceArea, ServiceArea.id == Response.service_area_id)
        .where(Answer.value.is_not(None))
    ).all()
    sums: dict = {}
    for label, side, area, item_no, value in rows:
        item = inst.items[item_no]
        if not item.key.startswith(dimension_prefix):
            continue
        value = 6 - value if item.reverse else value
        for key in (
            (label, side, area),
            (label, side, None),
            (label, None, area),
            (label, None, None),
        ):
            total, n = sums.get(key, (0, 0))
            sums[key] = (total + value, n + 1)
    return {key: total / n for key, (total, n) in sums.items()}


def test_the_demo_tells_the_seed_story_and_loads_only_once(app):
    from survey_app.services.relationships import create_relationship

    other = create_relationship(
        "Another council — Another supplier", client="C", supplier="S", service_areas=[]
    )
    db.session.commit()
    summary = load_demo(seed=2012, links=4, today=date(2012, 11, 1))
    db.session.commit()
    assert summary.created
    waves = db.session.scalars(select(Wave).order_by(Wave.id)).all()
    assert [w.label for w in waves] == [*CLOSED_WAVES, OPEN_WAVE]
    assert len(CLOSED_WAVES) >= 12
    assert [w.state for w in waves] == ["closed"] * len(CLOSED_WAVES) + ["open"]
    per_wave = dict(
        db.session.execute(select(Response.wave_id, func.count()).group_by(Response.wave_id)).all()
    )
    assert all(200 <= per_wave[w.id] <= 400 for w in waves[:-1])
    rel = db.session.scalar(select(Relationship).where(Relationship.name.like("Birmingham%")))
    assert [a.name for a in rel.service_areas] == [
        "Core ICT infrastructure", "Adult social care", "Revenues", "Contact centre", "New projects",
    ]  # fmt: skip

    vfm = answers_by("vm")
    for label in CLOSED_WAVES:
        # value for money good in core ICT, adult social care and revenues ...
        for good in ("Core ICT infrastructure", "Adult social care", "Revenues"):
            assert vfm[(label, None, good)] > vfm[(label, None, "Contact centre")]
        # ... and the council sees the contact centre and new projects worse than the supplier
        assert (
            vfm[(label, "client", "Contact centre")]
            < vfm[(label, "supplier", "Contact centre")] - 0.4
        )
    innovation, purpose = answers_by("in"), answers_by("sp")
    early, late = CLOSED_WAVES[:3], CLOSED_WAVES[-3:]
    for series in (innovation, purpose):
        assert (
            np.mean([series[(w, None, None)] for w in late])
            < np.mean([series[(w, None, None)] for w in early]) - 0.4
        )

    links = [inv.token for inv in summary.links]
    assert len(links) == 4
    responses_before = db.session.scalar(select(func.count()).select_from(Response))
    again = load_demo(seed=2012, links=2)
    db.session.commit()
    assert not again.created
    assert db.session.scalar(select(func.count()).select_from(Response)) == responses_before
    assert db.session.scalar(select(func.count()).select_from(Wave)) == len(waves)
    assert db.session.scalar(select(func.count()).select_from(Relationship)) == 2
    assert db.session.get(Relationship, other.id).name == "Another council — Another supplier"
    fresh = {hashlib.sha256(inv.token.encode()).hexdigest() for inv in again.links}
    unused = set(
        db.session.scalars(select(Invitation.token_hash).where(Invitation.used_on.is_(None)))
    )
    assert fresh <= unused and not set(links) & {inv.token for inv in again.links}


def demo_digest() -> str:
    rows = db.session.execute(
        select(
            Wave.label,
            Response.id,
            Response.side,
            ServiceArea.key,
            Response.role_level,
            Answer.item_no,
            Answer.value,
        )
        .join(Response, Response.wave_id == Wave.id)
        .join(Answer, Answer.response_id == Response.id)
        .outerjoin(ServiceArea, ServiceArea.id == Response.service_area_id)
        .order_by(Wave.label, Response.id, Answer.item_no)
    ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_the_demo_is_deterministic_for_a_seed(app):
    from tests.conftest import _empty_tables

    load_demo(seed=7, links=1)
    db.session.commit()
    first = demo_digest()
    db.session.remove()
    _empty_tables(db)
    load_demo(seed=7, links=1)
    db.session.commit()
    assert demo_digest() == first


def test_the_demo_command_prints_links_that_open_a_live_survey(runner, client):
    result = runner.invoke(args=["demo", "--links", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("/s/") == 2
    assert "Demo loaded" in result.output
    second = runner.invoke(args=["demo", "--links", "1"])
    assert "Demo already loaded" in second.output and second.output.count("/s/") == 1
    for token in re.findall(r"/s/([A-Za-z0-9_-]+)", result.output + second.output):
        response = client.get(f"/s/{token}", follow_redirects=True)
        assert response.status_code == 200
        assert "Partnership health survey" in response.get_data(as_text=True)
