"""The data the disclosure tests attack: a seeded wave with small groups, what the database
holds of it, and what the raw ``responses`` download releases."""

from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Relationship, Response, ServiceArea, Wave
from survey_app.services.dashboard.charts import ChartCache
from survey_app.services.dashboard.role_cuts import role_rows
from survey_app.services.results import INDEX, ROLE_NONE, published_rows
from survey_app.services.waves import close_wave
from tests.disclosure.intruder import ALL, margins_of
from tests.exchange import download_bytes, insert_responses, read_csv
from tests.snapshots import built_once

#: A seeded wave with small groups: a 3-person area, 1–2 person role levels, a 2-person
#: no-area group and a 1-person supplier no-area group.
SMALL_GROUPS = [
    ("client", "core-ict", "staff", 20),
    ("client", "core-ict", "manager", 7),
    ("client", "core-ict", "executive", 1),
    ("client", "contact-centre", "staff", 9),
    ("client", "contact-centre", "manager", 2),
    ("client", "revenues", "staff", 3),
    ("client", None, None, 2),
    ("supplier", "core-ict", "staff", 10),
    ("supplier", "core-ict", "executive", 2),
    ("supplier", "contact-centre", "staff", 6),
    ("supplier", None, "staff", 1),
]


def small_group_wave(
    factory, label: str = "2024-Q1", cells=SMALL_GROUPS, seed: int = 11, *, before_close=None
):
    """The relationship's id; ``before_close(wave)`` adds to the wave before it closes."""
    rel = factory.relationship(areas=["Core ICT", "Contact centre", "Revenues"])
    wave = factory.wave(rel, label, state="open")
    insert_responses(wave, cells, seed=seed)
    if before_close is not None:
        before_close(wave)
    close_wave(wave)
    db.session.commit()
    return rel.id


def seeded_once(key: str, factory, **arguments) -> int:
    """``small_group_wave(factory, **arguments)`` (``key`` names the arguments), built once a
    run and copied into the empty tables afterwards (:mod:`tests.snapshots`): closing the wave
    runs the protection's audits, the costly part of most tests here. Call it before making
    anything else, with the configuration as it was when built (the defaults)."""
    return built_once(key, lambda: small_group_wave(factory, **arguments))


def _value(text) -> float:
    """The first item's answer as a number (blank and don't know count 0)."""
    return float(text) if text not in (None, "", "dk") else 0.0


def truth(rel_id: int) -> dict[str, dict]:
    """Every stored response: wave, side, area key, role level and its first item's value."""
    areas = dict(
        db.session.execute(
            select(ServiceArea.id, ServiceArea.key).where(ServiceArea.relationship_id == rel_id)
        ).all()
    )
    rows = db.session.execute(
        select(
            Response.id, Wave.label, Response.side, Response.service_area_id, Response.role_level
        )
        .join(Wave, Wave.id == Response.wave_id)
        .where(Wave.relationship_id == rel_id)
    ).all()
    first = dict(
        db.session.execute(
            select(Answer.response_id, Answer.value).where(
                Answer.item_no == 0, Answer.response_id.in_([r[0] for r in rows])
            )
        ).all()
    )
    return {
        str(rid): {
            "wave": label,
            "cell": (side, areas.get(area_id), role),
            "value": _value(first.get(rid)),
        }
        for rid, label, side, area_id, role in rows
    }


def released(rel_id: int) -> list[dict]:
    header, *rows = read_csv(download_bytes("responses", "csv", rel_id))
    item = header[7]
    out = []
    for row in rows:
        record = dict(zip(header, row, strict=True))
        out.append(
            {
                "id": record["response_id"],
                "wave": record["wave"],
                "cell": tuple(record[c] or None for c in ("side", "service_area", "role_level")),
                "value": _value(record[item]),
            }
        )
    return out


def published_scores(rel_id: int, wave_label: str, true_rows: dict) -> dict:
    """The cells of ``scores`` shown for the wave — side × area, and per role level as the
    dashboard's role filter shows them — with the intruder's knowledge of each: its count and
    its sum of the first item (more than the table gives)."""
    rel = db.session.get(Relationship, rel_id)
    wave = db.session.scalar(
        select(Wave).where(Wave.relationship_id == rel_id, Wave.label == wave_label)
    )
    margins = margins_of(
        (t["cell"], t["value"]) for t in true_rows.values() if t["wave"] == wave_label
    )
    cuts = {ALL: published_rows("scores", rel, [wave])}
    for role, rows in role_rows("scores", wave, ChartCache.of(rel), None).items():
        cuts[None if role == ROLE_NONE else role] = rows  # the dashboard's role-level filter
    shown = {}
    for role, rows in cuts.items():
        for row in rows:
            if row["dimension"] != INDEX or row["suppressed"]:
                continue
            side = ALL if row["side"] == "all" else row["side"]
            area = {"_all": ALL, "_none": None}.get(row["area"], row["area"])
            cell = (side, area, role)
            shown[cell] = margins.get(cell, (0, 0.0))
    return shown
