"""Waves answered with structure (sides and areas differ, "don't know" and skipped answers), for
the tests of the scoring service and of how instrument versions show in its results."""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy import insert, select

from survey_app.extensions import db
from survey_app.models import Answer, Response, ResultTable, Wave
from survey_app.services.instruments import frozen_instrument
from survey_app.services.waves import close_wave, create_wave, open_wave


def fill_wave(
    wave: Wave, rng: np.random.Generator, n: int, *, shift: float = 0.0, supplier_shift: float = 0.0
) -> None:
    """Store ``n`` responses with structure (sides and areas differ), some "don't know"
    answers (NULL values) and some skipped items (no answer row); ``supplier_shift`` moves
    the supplier side alone (the perception gap)."""
    instrument = frozen_instrument(wave.instrument_version)
    areas = [a.id for a in wave.relationship.service_areas]
    points = instrument.scale.points
    responses, answers = [], []
    for _ in range(n):
        side = "client" if rng.random() < 0.55 else "supplier"
        k = int(rng.integers(-1, len(areas)))
        area = areas[k] if k >= 0 else None
        supplier = 0.4 + supplier_shift if side == "supplier" else 0.0
        base = 3.4 + shift + supplier - (0.3 * k if k > 0 else 0.0)
        person = rng.normal(0, 0.5)
        rid = uuid.UUID(bytes=rng.bytes(16), version=4)
        responses.append(
            {
                "id": rid,
                "wave_id": wave.id,
                "instrument_version_id": wave.instrument_version_id,
                "side": side,
                "service_area_id": area,
                "role_level": ["executive", "manager", "staff", None][int(rng.integers(4))],
            }
        )
        for j, item in enumerate(instrument.items):
            u = rng.random()
            if u < 0.03:
                continue  # skipped: no row
            if u < 0.08 and item.dont_know:
                answers.append({"response_id": rid, "item_no": j, "value": None})
                continue
            value = int(np.clip(np.rint(base + person + rng.normal(0, 0.8)), 1, points))
            if item.reverse:
                value = points + 1 - value
            answers.append({"response_id": rid, "item_no": j, "value": value})
    if responses:
        db.session.execute(insert(Response.__table__), responses)
    if answers:
        db.session.execute(insert(Answer.__table__), answers)
    db.session.flush()


def new_wave(
    relationship, label: str, rng, n: int, *, close: bool = True, shift=0.0, supplier_shift=0.0
):
    wave = create_wave(relationship, label)
    open_wave(wave)
    fill_wave(wave, rng, n, shift=shift, supplier_shift=supplier_shift)
    if close:
        close_wave(wave)
    db.session.commit()
    return wave


def wave_with_small_areas(relationship, label: str, rng, *, rest_area=None, side=None) -> Wave:  # type: ignore[no-untyped-def]
    """A closed wave of 70 responses where area "Tiny" (the third) has 3 and "Small" (the
    second) 6 — the first nine, all on ``side`` when given — and the rest are in ``rest_area``
    (no area by default)."""
    wave = create_wave(relationship, label)
    open_wave(wave)
    fill_wave(wave, rng, 70)
    tiny, small_area = relationship.service_areas[2].id, relationship.service_areas[1].id
    ids = db.session.scalars(select(Response.id).where(Response.wave_id == wave.id)).all()
    db.session.execute(
        Response.__table__.update()
        .where(Response.wave_id == wave.id)
        .values(service_area_id=rest_area)
    )
    for i, rid in enumerate(ids[:9]):
        values = {"service_area_id": tiny if i < 3 else small_area}
        if side is not None:
            values["side"] = side
        db.session.execute(Response.__table__.update().where(Response.id == rid).values(**values))
    close_wave(wave)
    db.session.commit()
    return wave


def stored(wave: Wave, name: str) -> list[dict]:
    table = db.session.scalar(
        select(ResultTable).where(ResultTable.wave_id == wave.id, ResultTable.name == name)
    )
    assert table is not None, f"no stored {name} for {wave.label}"
    return table.records()
