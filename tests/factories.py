"""Builders the tests share: signed-in test clients, forms submitted as a browser would,
a respondent driving the survey, and small readers of pages and the database.

A helper module, not a test module: test modules import from here (or from ``conftest.py``'s
fixtures), never from one another (``tests/test_layers.py`` checks).
"""

from __future__ import annotations

import csv
import io
import re
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import numpy as np
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Relationship, Response, Wave
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.dashboard import charts
from survey_app.services.instruments import frozen_instrument
from survey_app.services.relationships import create_relationship
from survey_app.services.respondents import build_sections
from survey_app.services.results import PRIMARY
from survey_app.services.waves import close_wave, create_wave, open_wave

PASSWORD = "test pages passphrase"

#: Any wording an author might write: 1–80 characters (no lone surrogates), not blank.
any_wording = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80).filter(
    str.strip
)


def wording_for_sides(client: str, supplier: str) -> dict[str, str]:
    """An item's wording per side from free text: braces written as literals, then
    `` {partner}``, so whatever the text the placeholder is the only field."""
    return {
        side: text.replace("{", "{{").replace("}", "}}") + " {partner}"
        for side, text in (("client", client), ("supplier", supplier))
    }


LINK = re.compile(r"http://survey\.test/s/([A-Za-z0-9_\-]+)")


#: Five staff to invite, as a staff list names them: (email, party — its side or its name,
#: service area or blank).
STAFF = [
    ("ann@council.example", "client", "Core ICT"),
    ("bob@council.example", "Test Council", "Contact centre"),
    ("cat@council.example", "client", ""),
    ("dan@supplier.example", "supplier", "Core ICT"),
    ("eve@supplier.example", "Test Supplier", ""),
]
STAFF_EMAILS = sorted(person[0] for person in STAFF)


def open_wave_of_new_relationship(
    client: str, supplier: str, areas: Iterable[str] = ("Estates",), label: str = "2024-Q1"
) -> tuple[Relationship, Wave]:
    """A new relationship "<client> — <supplier>" with the service ``areas`` and an open wave."""
    rel = create_relationship(
        f"{client} — {supplier}", client=client, supplier=supplier, service_areas=list(areas)
    )
    wave = create_wave(rel, label)
    open_wave(wave)
    return rel, wave


def new_wave_by_page(admin, relationship_id: int, label: str, closes_on: date):  # type: ignore[no-untyped-def]
    """Submit the "Create a wave" page (partnership-health v1) as ``admin``; the answer."""
    return submit(
        admin,
        f"/admin/relationships/{relationship_id}/waves/new",
        {
            "label": label,
            "instrument": "partnership-health:1",
            **date_fields("closes_on", closes_on),
        },
    )


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# ----------------------------------------------------------------- signing in


def post_sign_in(
    client, email: str, password: str = PASSWORD, *, next: str | None = None, **kwargs
):  # type: ignore[no-untyped-def]
    """Fill in and send the sign-in form as a browser would; the answer to the POST."""
    url = "/sign-in" + (f"?next={quote(next, safe='')}" if next is not None else "")
    page = client.get(url, **kwargs)
    assert page.status_code == 200, page.status_code
    form = {"csrf_token": csrf_token(text(page)), "email": email, "password": password}
    return client.post(url, data=form, **kwargs)


def sign_in(  # type: ignore[no-untyped-def]
    app,
    role: str = "admin",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    relationships: Iterable[Relationship] | None = None,
):
    """A new test client of ``app`` signed in with an account of ``role`` (made if need be:
    ``email`` by default ``<role>.pages@council.example``, ``name`` ``Pages <role>``) — held
    service-wide, or on ``relationships`` only."""
    client = app.test_client()
    email = email or f"{role}.pages@council.example"
    ensure_user(
        email,
        name=name or f"Pages {role}",
        role=role,
        password=password,
        relationships=relationships,
    )
    db.session.commit()
    response = post_sign_in(client, email, password)
    assert response.status_code == 302, f"{role} could not sign in"
    return client


# ----------------------------------------------------------------- forms and pages


def submit(client, path: str, data: dict | None = None, *, page: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """POST a form as a browser would: the CSRF token read from the page (``page`` or ``path``)."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(html), **(data or {})}, **kwargs)


def assert_form_error(response, *messages: str) -> None:  # type: ignore[no-untyped-def]
    """A GOV.UK form error: 400 (or 409), title prefixed Error:, the summary naming each message."""
    html = text(response)
    assert response.status_code in (400, 409), response.status_code
    assert "<title>Error: " in html
    assert "govuk-error-summary" in html and "There is a problem" in html
    for message in messages:
        assert message in html, message


def summary_links(response) -> list[str]:  # type: ignore[no-untyped-def]
    """Where the error summary's messages link to."""
    summary = text(response).split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', summary)


def date_fields(name: str, value: date) -> dict[str, list[str]]:
    return {name: [str(value.day), str(value.month), str(value.year)]}


def sections_of(wave: Wave) -> int:
    """How many section pages the wave's questionnaire has."""
    return len(build_sections(frozen_instrument(wave.instrument_version)))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def staff_csv(
    rows: list[tuple[str, ...]], header: tuple[str, ...] = ("email", "party", "service area")
) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8"))


def upload(client, wave_id: int, data: io.BytesIO, filename: str = "staff.csv"):  # type: ignore[no-untyped-def]
    path = f"/admin/waves/{wave_id}/staff-list"
    return submit(client, path, {"file": (data, filename)}, content_type="multipart/form-data")


def no_secrets_in_the_audit_log(emails: list[str] = (), tokens: list[str] = ()) -> None:  # type: ignore[assignment]
    details = " ".join(str(d) for d in db.session.scalars(select(AuditEvent.detail)))
    assert "@" not in details
    for secret in [*emails, *tokens]:
        assert secret not in details


@dataclass(frozen=True)
class Rel:
    """What tests read of a relationship, as plain values: ORM objects of the test's session
    are detached by the test client after each request."""

    id: int
    name: str
    client_id: int
    supplier_id: int
    area_ids: tuple[int, ...]
    area_names: tuple[str, ...]

    def model(self) -> Relationship:
        return db.session.get(Relationship, self.id)


def snapshot(rel: Relationship) -> Rel:
    return Rel(
        rel.id,
        rel.name,
        rel.party("client").id,
        rel.party("supplier").id,
        tuple(a.id for a in rel.service_areas),
        tuple(a.name for a in rel.service_areas),
    )


def new_wave(factory, rel: Rel, label: str = "2024-Q1", state: str = "open") -> int:  # type: ignore[no-untyped-def]
    return factory.wave(rel.model(), label, state=state).id


def get_wave(wave_id: int) -> Wave:
    db.session.expire_all()
    return db.session.get(Wave, wave_id)


# ----------------------------------------------------------------- responses in bulk

#: (side, service area key or None, role level or None, how many responses)
Cell = tuple[str, str | None, str | None, int]
#: One response's answers from its instrument and side: (item number, value) pairs, the value
#: ``None`` for "don't know"; an item left out is unanswered.
Answers = Callable[[Instrument, str], Iterable[tuple[int, int | None]]]


def insert_responses(
    wave: Wave, cells: Iterable[Cell], answers: Answers, *, response_id=uuid.uuid4
) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """Insert responses to ``wave`` straight into the tables, in bulk (no survey pages):
    ``n`` for each cell, each answered by ``answers`` (called once a response, in order, after
    ``response_id``). Returns the response ids in insertion order; nothing is committed."""
    instrument = frozen_instrument(wave.instrument_version)
    areas = {a.key: a.id for a in wave.relationship.service_areas}
    responses, rows, ids = [], [], []
    for side, area, role, n in cells:
        for _ in range(n):
            rid = response_id()
            ids.append(rid)
            responses.append(
                {
                    "id": rid,
                    "wave_id": wave.id,
                    "instrument_version_id": wave.instrument_version_id,
                    "side": side,
                    "service_area_id": areas[area] if area else None,
                    "role_level": role,
                }
            )
            rows += [
                {"response_id": rid, "item_no": j, "value": v} for j, v in answers(instrument, side)
            ]
    db.session.execute(insert(Response), responses)
    if rows:
        db.session.execute(insert(Answer), rows)
    return ids


def add_responses(
    wave: Wave, side: str, means: float, n: int, rng: np.random.Generator, area_key: str | None
) -> np.ndarray:
    """Insert ``n`` complete responses around ``means``; return the raw answers (n, items)."""
    instrument = frozen_instrument(wave.instrument_version)
    points = instrument.scale.points
    x = np.clip(np.rint(means + rng.normal(0, 0.9, size=(n, len(instrument.items)))), 1, points)
    x = x.astype(int)
    ids = iter([uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(n)])
    rows = iter(x)
    insert_responses(
        wave,
        [(side, area_key, None, n)],
        lambda instrument, side: [(j, int(v)) for j, v in enumerate(next(rows))],
        response_id=lambda: next(ids),
    )
    return x


def closed_wave(
    relationship: Relationship,
    label: str,
    groups: list[tuple[str, str | None, float, int]],
    rng: np.random.Generator,
) -> dict[tuple[str, str | None], np.ndarray]:
    """A wave opened, answered by ``groups`` (side, area key, mean, n) and closed (scored)."""
    wave = create_wave(relationship, label)
    open_wave(wave)
    answers = {
        (side, area): add_responses(wave, side, mean, n, rng, area)
        for side, area, mean, n in groups
    }
    close_wave(wave)
    db.session.commit()
    return answers


# ----------------------------------------------------------------- a respondent


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def radio_names(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'name="(q_[a-z0-9_]+)" type="radio"', html)))


class Respondent:
    """A person with a personal link, driving the survey through the test client like a browser."""

    def __init__(self, client, token: str) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.token = token

    def open(self):  # type: ignore[no-untyped-def]
        return self.client.get(f"/s/{self.token}")

    def post(self, path: str, data: dict[str, str], **kwargs: Any):  # type: ignore[no-untyped-def]
        page = self.client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
        return self.client.post(path, data=form, **kwargs)

    def answer_about(self, area: str = "core-ict", role: str = "staff"):  # type: ignore[no-untyped-def]
        return self.post("/survey/about", {"service_area": area, "role_level": role})

    def answer_section(self, number: int, value: str = "4", **overrides: str):  # type: ignore[no-untyped-def]
        """Answer every radios question on a section page with ``value`` (comments left blank)."""
        html = self.client.get(f"/survey/section/{number}").get_data(as_text=True)
        data = {name: value for name in radio_names(html)}
        data.update(overrides)
        return self.post(f"/survey/section/{number}", data)

    def complete(self, n_sections: int, value: str = "4"):  # type: ignore[no-untyped-def]
        self.open()
        self.answer_about()
        for number in range(1, n_sections + 1):
            response = self.answer_section(number, value)
            assert response.status_code == 302, (number, response.status_code)
        return self.post("/survey/check", {})


#: Comments on three obvious subjects, ten each: themes any method should find (issue 16).
OBVIOUS = {
    "parking": [
        "Parking at the civic centre is impossible",
        "not enough parking spaces for staff",
        "the car park is full by 8am",
        "Parking permits cost too much",
        "staff parking was removed",
        "we need more parking",
        "car park full again",
        "parking is a nightmare",
        "Parking spaces taken by visitors",
        "no parking for the night shift",
    ],
    "canteen": [
        "The canteen food is cold",
        "canteen closes too early",
        "Better food in the canteen please",
        "the canteen menu never changes",
        "canteen prices went up",
        "food in the canteen is poor",
        "canteen queues at lunch",
        "no vegetarian food in the canteen",
        "the canteen coffee is awful",
        "canteen food portions are small",
    ],
    "printers": [
        "The printers are always jammed",
        "printer on floor 2 broken again",
        "printers run out of toner",
        "Nobody fixes the printers",
        "printer queue loses my jobs",
        "the printers need replacing",
        "printers jam every day",
        "printer drivers fail on laptops",
        "Broken printers everywhere",
        "printers are slow and jam",
    ],
}


def refuse_network(monkeypatch: Any) -> None:
    """Make any attempt to open a network connection fail the test (nothing leaves the
    server): connect, connect_ex, create_connection and name look-ups all raise."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network use attempted: {args[1:]!r}")

    for target, name in (
        (socket.socket, "connect"),
        (socket.socket, "connect_ex"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
    ):
        monkeypatch.setattr(target, name, refuse)


def series_points(
    means: Iterable[float], suppressed: Iterable[int] = (), limits: tuple[float, float] = (3.3, 3.9)
) -> list[charts.SeriesPoint]:
    """A wave per mean from 2010-Q1 (n = 40, 41, ...), with a CI of ± 0.2, the EWMA just above
    and EWMA control ``limits``; the waves at the positions ``suppressed`` are hidden (n < k)."""
    hidden = set(suppressed)
    return [
        charts.SeriesPoint(
            wave=f"20{10 + i // 4}-Q{i % 4 + 1}",
            n=None if i in hidden else 40 + i,
            mean=None if i in hidden else mean,
            ci_low=None if i in hidden else mean - 0.2,
            ci_high=None if i in hidden else mean + 0.2,
            score100=None if i in hidden else (mean - 1) * 25,
            band=None if i in hidden else "borderline",
            suppressed=PRIMARY if i in hidden else None,
            ewma=mean + 0.01,
            ewma_lower=limits[0],
            ewma_upper=limits[1],
        )
        for i, mean in enumerate(means)
    ]


def index_chart(  # type: ignore[no-untyped-def]
    means: Iterable[float] = (3.6, 3.7, 3.5, 3.4, 3.45, 3.3),
    *,
    suppressed=(),
    limits=(3.3, 3.9),
    **drawn,
) -> charts.Chart:
    """The client side's index trend over :func:`series_points`; ``drawn`` adds markers or a target."""
    return charts.index_chart(
        "trend-client-all-index",
        title="Relationship health index over time: client staff, all service areas",
        subject="Relationship health index, client staff, all service areas",
        points=series_points(means, suppressed, limits),
        side="client",
        scale=charts.Scale(),
        k=5,
        **drawn,
    )


def heat_map_chart(dimensions, areas, cells) -> charts.Chart:  # type: ignore[no-untyped-def]
    """The hot-spots heat map of ``cells`` ((dimension, area) → HeatCell) at k = 5."""
    return charts.heat_map(
        "heat-all",
        title="Hot spots",
        subject="2024-Q1",
        dimensions=dimensions,
        areas=areas,
        cells=cells,
        scale=charts.Scale(),
        k=5,
    )
