"""The demo: Birmingham City Council and Service Birmingham, 2009–2012, as the seed story tells it.

Deterministic for a given seed. Value for money is good in core ICT, adult social
care and revenues; weaker, and seen differently by the two sides, in the contact
centre (the council rates it lower) and new projects; innovation and shared
purpose slide in the later waves, and the council drifts towards a
client–contractor view. Loading again changes nothing but issues fresh links
for the open wave (the old links exist only as hashes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from instruments import Instrument
from survey_app.database import insert_rows
from survey_app.dates import end_of_day, to_utc
from survey_app.extensions import db
from survey_app.models import Answer, Comment, Invitation, Relationship, Response, Wave
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.instruments import frozen_instrument, offered_translations
from survey_app.services.invitations import (
    IssuedInvitation,
    issue_invitations,
)
from survey_app.services.organisations import organisation_named
from survey_app.services.relationships import create_relationship, get_relationship
from survey_app.services.results import closed_waves, compute_wave_themes, recompute
from survey_app.services.waves import create_wave, get_wave

NAME = "Birmingham City Council — Service Birmingham"
CLIENT = "Birmingham City Council"
SUPPLIER = "Service Birmingham"
AREAS = [
    "Core ICT infrastructure",
    "Adult social care",
    "Revenues",
    "Contact centre",
    "New projects",
]
AREA_SHARE = [0.26, 0.2, 0.2, 0.2, 0.14]
CLOSED_WAVES = [f"{year}-Q{q}" for year in (2009, 2010, 2011, 2012) for q in (1, 2, 3, 4)][1:-1]
OPEN_WAVE = "2012-Q4"
ROLE_SHARE = {"executive": 0.08, "manager": 0.27, "staff": 0.6, None: 0.05}

BASE = {
    "shared_purpose": 3.95,
    "trust": 3.7,
    "communication": 3.6,
    "problem_solving": 3.5,
    "understanding": 3.7,
    "innovation": 3.75,
    "value_for_money": 3.75,
    "partnership_orientation": 3.65,
    "commitment": 3.95,
}
# Demo sign-in accounts (demo data only: never load the demo into a live service).
DEMO_USERS = (
    ("admin", "admin@demo.example", "Demo Administrator", "demo-admin-password"),
    ("manager", "manager@demo.example", "Demo Manager", "demo-manager-password"),
    ("reviewer", "reviewer@demo.example", "Demo Reviewer", "demo-reviewer-password"),
)
#: Accounts of the two organisations, each holding its role on the Birmingham relationship only
#: (the second relationship, the council's with another supplier, is out of their reach).
SCOPED_DEMO_USERS = (
    ("manager", "council.manager@demo.example", "Council Contract Manager", CLIENT),
    ("reviewer", "supplier.analyst@demo.example", "Supplier Analyst", SUPPLIER),
)
SCOPED_DEMO_PASSWORD = "demo-scoped-password"  # noqa: S105 (demo data only)
#: The council's second relationship: no waves, there to show whom it is hidden from.
OTHER_NAME = "Birmingham City Council — Acivico"
OTHER_SUPPLIER = "Acivico"
WHAT_ROLES_DO = {
    "admin": "administration, dashboard, actions and downloads",
    "manager": "dashboard and actions",
    "reviewer": "downloads",
}
COMMENTS = [
    "Agree a shared plan for the next round of savings and stick to it.",
    "Fewer handoffs between the two organisations when something goes wrong.",
    "Bring both sides into the design of new projects from the start.",
    "Talk about outcomes for residents, not just the contract schedule.",
    "Joint reviews of the contact centre that both sides trust.",
]


@dataclass
class DemoSummary:
    created: bool
    relationship: str
    closed_waves: int
    responses: int
    open_wave: str
    links: list[IssuedInvitation] = field(default_factory=list)
    users: tuple[tuple[str, str, str, str], ...] = DEMO_USERS

    def lines(self, link: Callable[[str], str]) -> Iterator[str]:
        if self.created:
            yield (
                f"Demo loaded: {self.relationship}, {self.closed_waves} closed waves and "
                f"{self.responses:,} responses."
            )
        else:
            yield f"Demo already loaded ({self.relationship}); nothing else was changed."
        yield "Demo sign-in accounts (demo data only), at /sign-in:"
        for role, email, _name, password in self.users:
            yield f"  {role:<9} {email}  password: {password}"
            yield f"            sees every relationship: {WHAT_ROLES_DO[role]}"
        for role, email, _name, organisation in SCOPED_DEMO_USERS:
            yield f"  {role:<9} {email}  password: {SCOPED_DEMO_PASSWORD}"
            yield (
                f"            {organisation} staff; sees {self.relationship} only "
                f"({WHAT_ROLES_DO[role]}), not {OTHER_NAME}"
            )
        yield f"Fresh survey links for the open wave {self.open_wave} (each works once):"
        for inv in self.links:
            yield f"  {inv.party} ({inv.side}): {link(inv.token)}"


def load_demo(*, seed: int = 2012, links: int = 5, today: date | None = None) -> DemoSummary:
    relationship = get_relationship(NAME, required=False)
    created = relationship is None
    total = 0
    if relationship is None:
        relationship = create_relationship(
            NAME, client=CLIENT, supplier=SUPPLIER, service_areas=AREAS
        )
        total = _build_history(relationship, np.random.default_rng(seed))
        recompute(relationship)
        # Themes are computed when a wave closes; the demo's waves were closed in bulk, so
        # its latest closed wave (the one its pages open on) gets them here.
        compute_wave_themes(closed_waves(relationship)[-1], actor="demo")
    for role, email, name, password in DEMO_USERS:
        ensure_user(email, name=name, role=role, password=password)
    if get_relationship(OTHER_NAME, required=False) is None:
        create_relationship(
            OTHER_NAME, client=CLIENT, supplier=OTHER_SUPPLIER, service_areas=["Building services"]
        )
    for role, email, name, organisation in SCOPED_DEMO_USERS:
        user = ensure_user(
            email, name=name, role=role, password=SCOPED_DEMO_PASSWORD, relationships=[relationship]
        )
        user.organisation = organisation_named(organisation)

    open_wave = get_wave(relationship, OPEN_WAVE)
    assert open_wave is not None
    _schedule_from(open_wave, today or date.today())
    n_client = (links + 1) // 2
    issued = issue_invitations(open_wave, "client", n_client, today=today, actor="demo")
    if links - n_client:
        issued += issue_invitations(
            open_wave, "supplier", links - n_client, today=today, actor="demo"
        )
    return DemoSummary(
        created=created,
        relationship=relationship.name,
        closed_waves=len(CLOSED_WAVES),
        responses=total,
        open_wave=OPEN_WAVE,
        links=issued,
    )


def _quarter_dates(label: str) -> tuple[date, date]:
    year, quarter = int(label[:4]), int(label[-1])
    start = date(year, 3 * quarter - 2, 1)
    end = (date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - timedelta(days=1)
    return start + timedelta(days=14), end - timedelta(days=20)


def _build_history(relationship: Relationship, rng: np.random.Generator) -> int:
    total = 0
    for t, label in enumerate([*CLOSED_WAVES, OPEN_WAVE]):
        wave = create_wave(relationship, label, actor="demo")
        opens, closes = _quarter_dates(label)
        wave.state = "open"
        wave.opened_at = datetime.combine(opens, time(9))
        wave.translations = offered_translations(wave.instrument_version)  # as open_wave does
        instrument = frozen_instrument(wave.instrument_version)
        is_open = label == OPEN_WAVE
        n = int(rng.integers(110, 140)) if is_open else int(rng.integers(260, 340))
        total += _insert_wave(wave, instrument, t, n, rng, opens, closes, open_wave=is_open)
        if not is_open:
            wave.state = "closed"
            wave.closed_at = datetime.combine(closes, time(17))
            wave.closes_at = end_of_day(closes)
    db.session.flush()
    return total


def _schedule_from(wave: Wave, today: date) -> None:
    """Give the open wave a schedule around ``today`` (each time the demo is loaded), so that
    its printed links keep working: opened two days ago at 9am, reminders 3 and 7 days after,
    closing at 5pm in two weeks (on the organisation's clock)."""
    if wave.state != "open":
        return
    wave.opened_at = to_utc(datetime.combine(today - timedelta(days=2), time(9)))
    wave.closes_at = to_utc(datetime.combine(today + timedelta(days=14), time(17)))
    wave.reminder_days = [3, 7]
    db.session.flush()


def _means(instrument: Instrument, t: int, side: str, area: str | None) -> np.ndarray:
    """The story: the mean of each dimension for one side and area at wave ``t``."""
    late = max(0, t - 5)
    mu = {}
    for dim in instrument.dimensions:
        m = BASE.get(dim.key, 3.7)
        if dim.key == "innovation":
            m -= 0.11 * late
        elif dim.key == "shared_purpose":
            m -= 0.085 * max(0, t - 6)
        elif dim.key in ("trust", "commitment"):
            m -= 0.03 * max(0, t - 8)
        elif dim.key == "partnership_orientation" and side == "client":
            m -= 0.06 * max(0, t - 7)
        if dim.key in ("value_for_money", "understanding"):
            m += {
                "Core ICT infrastructure": 0.35,
                "Adult social care": 0.3,
                "Revenues": 0.3,
                "Contact centre": -0.85 if side == "client" else -0.05,
                "New projects": -0.8 if side == "client" else -0.35,
            }.get(area or "", 0.0)
        if area == "Contact centre" and dim.key == "problem_solving" and side == "client":
            m -= 0.3
        if area == "New projects" and dim.key == "innovation":
            m -= 0.25
        mu[dim.key] = m
    return np.array([mu[item.dimension] for item in instrument.items])


def _insert_wave(
    wave: Wave,
    instrument: Instrument,
    t: int,
    n: int,
    rng: np.random.Generator,
    opens: date,
    closes: date,
    *,
    open_wave: bool,
) -> int:
    areas = {a.name: a for a in wave.relationship.service_areas}
    parties = {p.side: p for p in wave.relationship.parties}
    reverse = np.array([item.reverse for item in instrument.items])
    dont_know = np.array([item.dont_know for item in instrument.items])
    sides = rng.choice(["client", "supplier"], size=n, p=[0.56, 0.44])
    area_names = rng.choice([*AREAS, ""], size=n, p=[s * 0.95 for s in AREA_SHARE] + [0.05])
    role_keys = list(ROLE_SHARE)
    roles = rng.choice(len(role_keys), size=n, p=list(ROLE_SHARE.values()))
    responses, answers, comments = [], [], []
    means: dict[tuple[str, str | None], np.ndarray] = {}  # the story's means, per group
    for i in range(n):
        side, area = str(sides[i]), str(area_names[i]) or None
        mu = means.get((side, area))
        if mu is None:
            mu = means[side, area] = _means(instrument, t, side, area)
        latent = mu + rng.normal(0, 0.45) + rng.normal(0, 0.7, size=mu.size)
        values = np.clip(np.rint(latent), 1, instrument.scale.points).astype(int)
        values = np.where(reverse, instrument.scale.points + 1 - values, values)
        dk = dont_know & (rng.random(mu.size) < 0.06)
        response_id = uuid.UUID(bytes=rng.bytes(16), version=4)
        responses.append(
            {
                "id": response_id,
                "wave_id": wave.id,
                "instrument_version_id": wave.instrument_version_id,
                "side": side,
                "service_area_id": areas[area].id if area else None,
                "role_level": role_keys[roles[i]],
            }
        )
        answers.extend(
            {"response_id": response_id, "item_no": j, "value": None if dk[j] else int(values[j])}
            for j in range(mu.size)
        )
        if instrument.comments and rng.random() < 0.08:
            comments.append(
                {
                    "response_id": response_id,
                    "question_key": instrument.comments[0].key,
                    "text": COMMENTS[int(rng.integers(len(COMMENTS)))],
                }
            )
    db.session.flush()
    connection = db.session.connection()
    insert_rows(connection, Response.__table__, responses)
    insert_rows(connection, Answer.__table__, answers)
    insert_rows(connection, Comment.__table__, comments)
    # Invitations: the used ones (the day only) and those never answered.
    invitations = []
    days = (closes - opens).days
    for side in ("client", "supplier"):
        answered = int((sides == side).sum())
        invited = int(
            answered / rng.uniform(0.3, 0.4) if open_wave else answered / rng.uniform(0.55, 0.7)
        )
        for k in range(invited):
            used = opens + timedelta(days=int(rng.integers(0, days))) if k < answered else None
            invitations.append(
                {
                    "wave_id": wave.id,
                    "party_id": parties[side].id,
                    "service_area_id": None,
                    "role_level": None,
                    "issued_on": opens,
                    "used_on": used,
                }
            )
    insert_rows(connection, Invitation.__table__, invitations)
    return n
