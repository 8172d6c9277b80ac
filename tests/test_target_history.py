"""Targets as they stood at each wave (issue 15): a past wave is read against the target
standing when it closed, with the day it was agreed — on the dashboard, its charts, the board
pack, the downloads (CSV, XLSX, JSON, with the codebook) and the API — while the latest wave
is read against today's; agreeing a new target or withdrawing one leaves the past as it was."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analysis.targets import RATING_RULE, target_rating
from survey_app.extensions import db
from survey_app.models import AgreedTarget, Relationship, Wave
from survey_app.services import codebook, dashboard, reports, targets
from survey_app.services.results import published_rows
from tests.factories import closed_wave
from tests.readers import conforms

#: The waves and the day each closed.
CLOSED = {
    "2023-Q3": datetime(2023, 10, 2, 17),
    "2023-Q4": datetime(2024, 1, 8, 17),
    "2024-Q1": datetime(2024, 4, 8, 17),
}


@pytest.fixture
def history(app, factory):  # type: ignore[no-untyped-def]
    """Three closed waves; trust's target 3.00 agreed on 1 September 2023, raised to 3.50 on 1
    December 2023; the index's 4.00 agreed on 1 February 2024."""
    rng = np.random.default_rng(15)
    relationship = factory.relationship()
    for label, closed_at in CLOSED.items():
        closed_wave(relationship, label, [("client", None, 3.4, 20), ("supplier", None, 3.2, 20)], rng)  # fmt: skip
        wave = db.session.scalar(
            select(Wave).where(Wave.relationship_id == relationship.id, Wave.label == label)
        )
        wave.closed_at = closed_at
    for key, value, day in (
        ("trust", 3.0, date(2023, 9, 1)),
        ("trust", 3.5, date(2023, 12, 1)),
        ("index", 4.0, date(2024, 2, 1)),
    ):
        targets.record_target(relationship, key, value, day, actor="test")
    db.session.commit()
    return Reload(relationship.id)


class Reload:
    """The relationship, loaded again in whatever session is current (requests end theirs)."""

    def __init__(self, relationship_id: int) -> None:
        self.id = relationship_id

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(db.session.get(Relationship, self.id), name)

    @property
    def model(self) -> Relationship:
        return db.session.get(Relationship, self.id)


def wave(relationship, label: str) -> Wave:  # type: ignore[no-untyped-def]
    return db.session.scalar(
        select(Wave).where(Wave.relationship_id == relationship.id, Wave.label == label)
    )


def standing(relationship, label: str) -> dict[str, tuple[float, date]]:  # type: ignore[no-untyped-def]
    found = targets.wave_targets(relationship.model, wave(relationship, label))
    return {k: (t.target, t.agreed_on) for k, t in found.items()}


def test_each_wave_is_read_against_the_target_standing_when_it_closed(history):
    assert standing(history, "2023-Q3") == {"trust": (3.0, date(2023, 9, 1))}
    assert standing(history, "2023-Q4") == {"trust": (3.5, date(2023, 12, 1))}
    latest = {"trust": (3.5, date(2023, 12, 1)), "index": (4.0, date(2024, 2, 1))}
    assert standing(history, "2024-Q1") == latest
    assert db.session.query(AgreedTarget).count() == 3  # the earlier trust target is kept


def test_withdrawing_or_changing_a_target_leaves_past_waves_as_they_were(history):
    targets.remove_target(history.model, "trust", actor="test")
    targets.record_target(history.model, "index", 4.2, date.today(), actor="test")
    db.session.commit()
    assert standing(history, "2024-Q1") == {"index": (4.2, date.today())}
    assert standing(history, "2023-Q4") == {"trust": (3.5, date(2023, 12, 1))}
    assert standing(history, "2023-Q3") == {"trust": (3.0, date(2023, 9, 1))}
    # agreed again on the same day: a correction, not a second target
    targets.record_target(history.model, "index", 4.1, date.today(), actor="test")
    db.session.commit()
    assert standing(history, "2024-Q1") == {"index": (4.1, date.today())}
    assert db.session.query(AgreedTarget).filter_by(dimension="index").count() == 2


def test_a_past_waves_dashboard_shows_the_target_of_its_time_with_its_date(history, auth):
    manager = auth("manager")
    past = manager.get(f"/dashboard/{history.id}/dimension/trust?wave=2023-Q3")
    html = past.get_data(as_text=True)
    summary = html[html.index('id="target-trust"') :]
    summary = summary[: summary.index("</div>")]
    assert "agreed target 3.00" in summary and "1 September 2023" in summary
    assert "Agreed target 3.00" in html  # the trend chart's line, in its description
    latest = manager.get(f"/dashboard/{history.id}/dimension/trust").get_data(as_text=True)
    assert "agreed target 3.50" in latest and "1 December 2023" in latest
    overview = manager.get(f"/dashboard/{history.id}/?wave=2023-Q3").get_data(as_text=True)
    assert 'id="target-index"' not in overview  # the index had no target yet
    pack = reports.board_pack(history.model, wave(history, "2023-Q3"))
    assert [(t.dimension_title, t.target, t.agreed_on) for t in pack.targets] == [
        ("Trust", 3.0, date(2023, 9, 1))
    ]


def expected_rows(relationship) -> list[dict]:  # type: ignore[no-untyped-def]
    """The targets table worked out here from the published scores and the dates above."""
    out = []
    for label, agreed in (
        ("2023-Q3", {"trust": (3.0, "2023-09-01")}),
        ("2023-Q4", {"trust": (3.5, "2023-12-01")}),
        ("2024-Q1", {"index": (4.0, "2024-02-01"), "trust": (3.5, "2023-12-01")}),
    ):
        rows = published_rows("scores", relationship.model, [wave(relationship, label)])
        for key, (value, day) in agreed.items():
            for side in ("all", "client", "supplier"):
                row = next(
                    r for r in rows if (r["side"], r["area"], r["dimension"]) == (side, "_all", key)
                )
                out.append(
                    {
                        "wave": label,
                        "dimension": key,
                        "side": side,
                        "target": value,
                        "agreed_on": day,
                        "mean": row["mean"],
                        "distance": row["mean"] - value,
                        "rating": target_rating(row["mean"], row["ci_high"], value).item(),
                    }
                )
    return out


def comparable(rows: list[dict]) -> list[tuple]:
    return [
        (
            r["wave"],
            r["dimension"],
            r["side"],
            float(r["target"]),
            r["agreed_on"],
            round(float(r["mean"]), 9),
            round(float(r["distance"]), 9),
            r["rating"],
        )
        for r in rows
    ]


def as_dicts(body: dict) -> list[dict]:
    """A JSON download's rows (arrays in the order of its ``columns``) as mappings."""
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, row, strict=True)) for row in body["rows"]]


def test_the_targets_table_downloads_in_every_format_with_its_codebook(history, auth):
    reviewer = auth("reviewer")
    expected = expected_rows(history)
    base = f"/downloads/{history.id}"
    answer = reviewer.get(f"{base}/targets.csv")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    names = [c.name for c in codebook.columns("targets")]
    assert list(rows[0]) == names
    order = {"index": 0, "trust": 1}  # the instrument's order, the index first
    expected.sort(key=lambda r: (r["wave"], order[r["dimension"]]))
    assert comparable(rows) == comparable(expected)
    one = reviewer.get(f"{base}/targets.json?wave=2023-Q3").get_json()
    items = as_dicts(one)
    assert comparable(items) == comparable([r for r in expected if r["wave"] == "2023-Q3"])
    book = load_workbook(io.BytesIO(reviewer.get(f"{base}/all.xlsx").data))
    sheet = list(book["targets"].values)
    assert list(sheet[0]) == names and len(sheet) == len(expected) + 1
    described = [r for r in book["codebook"].values if r[0] == "targets"]
    assert [r[1] for r in described] == names
    assert all(r[3] for r in described)  # each column labelled
    page = reviewer.get(f"{base}/").get_data(as_text=True)
    assert f"{base}/targets.csv" in page


def test_the_api_gives_a_waves_targets_as_they_stood(history, auth):
    manager = auth("manager")
    past = wave(history, "2023-Q3")
    body = conforms(manager.get(f"/api/v1/waves/{past.id}/targets"), "/waves/{wave_id}/targets")
    assert body["rule"] == RATING_RULE and body["wave"]["label"] == "2023-Q3"
    expected = [r for r in expected_rows(history) if r["wave"] == "2023-Q3"]
    assert comparable(body["items"]) == comparable(expected)
    latest = wave(history, "2024-Q1")
    body = conforms(
        manager.get(f"/api/v1/waves/{latest.id}/targets?side=client&dimension=index"),
        "/waves/{wave_id}/targets",
    )
    assert [(r["dimension"], r["side"], r["target"]) for r in body["items"]] == [
        ("index", "client", 4.0)
    ]
    conforms(manager.get(f"/api/v1/waves/{past.id}/targets?dimension=nope"), None, 404)


def test_json_is_full_precision(history, auth):
    body = json.loads(auth("reviewer").get(f"/downloads/{history.id}/targets.json").data)
    items = as_dicts(body)
    means = [r["mean"] for r in items]
    assert any(abs(m * 100 - round(m * 100)) > 1e-9 for m in means)  # not rounded to 2 places
    assert dashboard.latest_closed_wave(history.model).label == "2024-Q1"
