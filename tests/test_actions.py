"""Actions agreed on alerts and dimensions, and the change since each action — checked against
SciPy and pingouin on the same answers — and the managers' pages that record them."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

import numpy as np
import pingouin as pg
import pytest
from flask_babel import force_locale
from scipy import stats
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Action, AuditEvent, Relationship, ResultTable, User, Wave
from survey_app.services import ServiceError, actions, results
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.waves import create_wave
from tests.factories import (
    PASSWORD,
    assert_form_error,
    closed_wave,
    count,
    date_fields,
    sign_in,
    submit,
    text,
)
from tests.snapshots import built_once

DIMENSION = "trust"


# ------------------------------------------------------------------------------- helpers


def steady_then_drop(relationship: Relationship, rng: np.random.Generator) -> None:
    """Four steady waves (2023-Q2 to 2024-Q1: the baseline the statuses judge by), then the
    client side's scores drop two points in 2024-Q2."""
    for label in ("2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1"):
        closed_wave(
            relationship, label, [("client", None, 4.3, 20), ("supplier", None, 3.5, 20)], rng
        )
    closed_wave(
        relationship, "2024-Q2", [("client", None, 2.3, 20), ("supplier", None, 3.5, 20)], rng
    )


def core_and_contact(
    client_core: tuple[float, int],
    supplier_core: tuple[float, int],
    client_contact: tuple[float, int],
) -> list[tuple[str, str | None, float, int]]:
    """The groups of a wave: each side in Core ICT and the client in the contact centre, each
    given as (mean, number of responses)."""
    return [
        ("client", "core-ict", *client_core),
        ("supplier", "core-ict", *supplier_core),
        ("client", "contact-centre", *client_contact),
    ]


def client_trust_alert(kind: str, wave: Wave, area_key: str) -> actions.Alert:
    """An alert on the client side's trust in a service area of ``wave``."""
    area = next(a for a in wave.relationship.service_areas if a.key == area_key)
    return actions.Alert(
        kind=kind,
        wave_id=wave.id,
        wave_label=wave.label,
        side="client",
        area=area.key,
        area_name=area.name,
        dimension=DIMENSION,
        dimension_title="Trust",
        summary="",
    )


def dimension_score(answers: np.ndarray, key: str = DIMENSION) -> np.ndarray:
    """An independent dimension score: reverse-key, then the mean of the dimension's items."""
    from instruments import find_instrument

    instrument = find_instrument("partnership-health", 1)
    cols = [j for j, item in enumerate(instrument.items) if item.dimension == key]
    reverse = np.array([instrument.items[j].reverse for j in cols])
    x = answers[:, cols].astype(float)
    x = np.where(reverse, instrument.scale.points + 1 - x, x)
    return x.mean(axis=1)


def hedges_and_welch(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    g = pg.compute_effsize(after, before, eftype="hedges")
    p = stats.ttest_ind(after, before, equal_var=False).pvalue
    return float(g), float(p)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(44001)


@pytest.fixture
def manager_user(app) -> User:
    user = ensure_user(
        "manager.actions@council.example", name="Action Manager", role="manager", password=PASSWORD
    )
    db.session.commit()
    return user


@pytest.fixture
def relationship(factory) -> Relationship:
    return factory.relationship()


def record(relationship, user, **kwargs) -> Action:  # type: ignore[no-untyped-def]
    values = {
        "dimension_key": DIMENSION,
        "what": "Joint monthly service review with both directors",
        "owner": "Head of ICT client team",
        "due_on": date.today() + timedelta(days=60),
        "actor": user,
    }
    values.update(kwargs)
    action = actions.record_action(relationship, **values)
    db.session.commit()
    return action


# =============================================================================== services


def test_an_action_is_recorded_listed_and_updated_with_an_audit_trail(
    app, relationship, manager_user, rng
):
    closed_wave(
        relationship, "2024-Q1", [("client", None, 3.0, 6), ("supplier", None, 3.0, 6)], rng
    )
    first = record(relationship, manager_user)
    second = record(relationship, manager_user, dimension_key="communication", what="Open book")
    assert [a.id for a in actions.actions_for(relationship)] == [first.id, second.id]
    assert [a.id for a in actions.actions_for(relationship, "communication")] == [second.id]
    assert first.baseline_wave.label == "2024-Q1" and first.marker_wave_label == "2024-Q1"
    assert (first.status, first.created_by, first.has_alert) == ("open", "Action Manager", False)

    actions.update_action(
        first,
        what=first.what,
        owner="Both directors",
        due_on=first.due_on,
        status="in_progress",
        actor=manager_user,
    )
    db.session.commit()
    assert (first.owner, first.status_text) == ("Both directors", "In progress")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events if e.action.startswith("action.")] == [
        "action.create",
        "action.create",
        "action.update",
    ]
    assert events[-1].detail == {
        "action_id": first.id,
        "changed": ["owner", "status"],
        "status": "in_progress",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dimension_key": "astrology"}, "is not a dimension"),
        ({"what": "  "}, "needs a description"),
        ({"owner": ""}, "needs an owner"),
        ({"status": "maybe"}, "status must be one of"),
    ],
)
def test_a_bad_action_is_refused(app, relationship, manager_user, rng, kwargs, message):
    create_wave(relationship, "2024-Q1")  # a draft wave is enough to name the dimensions
    db.session.commit()
    with pytest.raises(ServiceError, match=message):
        record(relationship, manager_user, **kwargs)
    db.session.rollback()
    assert count(Action) == 0


def test_the_change_shows_once_a_later_wave_has_closed(app, relationship, manager_user, rng):
    with pytest.raises(ServiceError):  # no wave yet: nothing to act on
        record(relationship, manager_user)
    db.session.rollback()
    first = closed_wave(
        relationship, "2024-Q1", [("client", None, 2.6, 14), ("supplier", None, 3.4, 11)], rng
    )
    action = record(relationship, manager_user)
    change = actions.change_since_action(action)
    assert not change.available
    assert change.reason == "No wave has closed since 2024-Q1: the change shows once one has"
    assert change.summary() == change.reason

    second = closed_wave(
        relationship, "2024-Q2", [("client", None, 3.6, 12), ("supplier", None, 3.5, 13)], rng
    )
    change = actions.change_since_action(action)
    assert change.available and (change.before_wave, change.after_wave) == ("2024-Q1", "2024-Q2")
    assert [g.side for g in change.groups] == ["client", "supplier", "all"]
    assert change.headline.side == "all" and change.area == "_all"
    p_values = []
    for group in change.groups:
        keys = ["client", "supplier"] if group.side == "all" else [group.side]
        before = dimension_score(np.vstack([first[(k, None)] for k in keys]))
        after = dimension_score(np.vstack([second[(k, None)] for k in keys]))
        g, p = hedges_and_welch(before, after)
        assert (group.n_before, group.n_after) == (before.size, after.size)
        assert group.mean_before == pytest.approx(before.mean())
        assert group.mean_after == pytest.approx(after.mean())
        assert group.difference == pytest.approx(after.mean() - before.mean())
        assert group.difference_points == pytest.approx((after.mean() - before.mean()) * 25)
        assert group.g == pytest.approx(g, rel=1e-9)
        assert group.welch_p == pytest.approx(p, rel=1e-9)
        assert group.g_ci_low < group.g < group.g_ci_high
        p_values.append(p)
    adjusted = stats.false_discovery_control(p_values, method="bh")
    assert [g.p_adjusted for g in change.groups] == pytest.approx(adjusted)
    client = change.groups[0]
    assert client.difference > 0.5 and client.summary().startswith("Up ")
    assert change.summary().startswith("Since 2024-Q1, as of 2024-Q2: ")
    numbers = (f"{client.difference:.2f}", f"{client.g:.2f}", f"{client.g_ci_low:.2f}")
    assert all(n in client.summary() for n in numbers)
    assert "Hedges' g" in client.summary() and "Welch p" in client.summary()
    with force_locale("cy"):  # the page's and the board pack's language (issue 17)
        assert change.summary().startswith("Ers 2024-Q1, ar 2024-Q2: I fyny ")
        welsh = client.summary()
    assert welsh.startswith("I fyny ")
    assert "g Hedges" in welsh and "cyfwng hyder 95%" in welsh and "p Welch" in welsh
    assert all(n in welsh for n in numbers)
    assert not {"Since", "Up", "on the scale", "Hedges'", "CI"} & set(re.split(r"[ ,;:()]", welsh))


def test_the_change_runs_from_the_baseline_to_the_latest_closed_wave(
    app, relationship, manager_user, rng
):
    first = closed_wave(
        relationship, "2024-Q1", [("client", None, 3.0, 8), ("supplier", None, 3.0, 8)], rng
    )
    action = record(relationship, manager_user)
    closed_wave(
        relationship, "2024-Q2", [("client", None, 3.0, 8), ("supplier", None, 3.0, 8)], rng
    )
    third = closed_wave(
        relationship, "2024-Q3", [("client", None, 4.2, 9), ("supplier", None, 3.0, 8)], rng
    )
    change = actions.change_since_action(action)
    assert (change.before_wave, change.after_wave) == ("2024-Q1", "2024-Q3")
    before, after = (
        dimension_score(first[("client", None)]),
        dimension_score(third[("client", None)]),
    )
    g, p = hedges_and_welch(before, after)
    assert change.groups[0].g == pytest.approx(g) and change.groups[0].welch_p == pytest.approx(p)


def test_an_alerts_action_follows_its_group(app, factory, manager_user, rng):
    relationship = factory.relationship()
    first = closed_wave(
        relationship, "2024-Q1", core_and_contact((4.3, 9), (4.0, 8), (4.0, 9)), rng
    )
    alert = client_trust_alert(
        "deteriorating", db.session.get(Wave, db.session.scalar(select(Wave.id))), "core-ict"
    )
    action = record(relationship, manager_user, alert=alert, dimension_key="ignored")
    assert (action.dimension_key, action.alert_side, action.alert_area) == (
        DIMENSION,
        "client",
        "core-ict",
    )
    # named as a manager reads it, not by keys ("client · core-ict · trust")
    titles = dict(actions.dimension_choices(relationship))
    assert actions.alert_reference(action, titles) == "2024-Q1 · Test Council · Core ICT · Trust"
    second = closed_wave(
        relationship, "2024-Q2", core_and_contact((2.5, 10), (4.0, 7), (2.0, 9)), rng
    )
    change = actions.change_since_action(action)
    assert change.area == "core-ict" and change.headline.side == "client"
    head = change.headline
    before = dimension_score(first[("client", "core-ict")])
    after = dimension_score(second[("client", "core-ict")])
    assert (head.n_before, head.n_after) == (9, 10)  # Core ICT only, not the contact centre
    assert head.g == pytest.approx(hedges_and_welch(before, after)[0])
    assert head.area_name == "Core ICT" and head.summary().startswith("Down ")


def test_a_group_below_the_confidentiality_threshold_is_withheld_with_its_total(
    app, relationship, manager_user, rng
):
    closed_wave(
        relationship, "2024-Q1", [("client", None, 3.0, 9), ("supplier", None, 3.0, 3)], rng
    )
    action = record(relationship, manager_user)
    closed_wave(
        relationship, "2024-Q2", [("client", None, 3.5, 9), ("supplier", None, 3.0, 9)], rng
    )
    change = actions.change_since_action(action)
    assert change.available
    for group in change.groups:  # the supplier side had 3 < 5: every group of the area withheld
        assert group.suppressed and group.g is None and group.n_before is None
        assert group.summary() == "Not shown: a side had fewer than 5 responses in one of the waves"
    with force_locale("cy"):
        welsh = actions.change_since_action(action).groups[0].summary()
    assert welsh == ("Heb ei ddangos: roedd gan un ochr lai na 5 ymateb yn un o’r cylchoedd")


def test_a_group_hidden_to_protect_a_smaller_one_shows_no_change(
    app, relationship, manager_user, rng
):
    """Contact centre has 12 on each side in both waves, but in the first wave its cells were
    hidden to protect the supplier's Core ICT (3): its change since then would give its hidden
    mean away (the latest mean is shown), and with it the small group's."""
    closed_wave(
        relationship,
        "2024-Q1",
        [
            ("client", "core-ict", 3.2, 12),
            ("client", "contact-centre", 3.6, 12),
            ("supplier", "core-ict", 3.0, 3),
            ("supplier", "contact-centre", 3.9, 12),
        ],
        rng,
    )
    first = db.session.scalar(select(Wave).where(Wave.label == "2024-Q1"))
    published = {
        (r["side"], r["area"]): r["suppressed"]
        for r in results.published_rows("scores", relationship, [first])
        if r["dimension"] == DIMENSION
    }
    assert published["supplier", "contact-centre"] == results.SECONDARY
    alert = client_trust_alert("watch", first, "contact-centre")
    action = record(relationship, manager_user, alert=alert)
    closed_wave(
        relationship,
        "2024-Q2",
        [(side, area, 3.4, 12) for side in ("client", "supplier")
         for area in ("core-ict", "contact-centre")],
        rng,
    )  # fmt: skip
    change = actions.change_since_action(action)
    assert change.available
    assert [g.side for g in change.groups] == ["client", "supplier", "all"]
    for group in change.groups:
        assert group.suppressed and group.difference is None and group.n_before is None
        assert "to protect a smaller group" in group.summary()


def test_an_action_quotes_no_change_for_a_cell_the_stored_results_hide(
    app, relationship, manager_user, rng
):
    """Every group has 12 responses, so no counts rule hides anything; but the results stored
    when the first wave closed hide the client's Contact centre (as the disclosure audit does
    for a monitor's bounds or a sum). The action reads that stored pattern, not a rule of its
    own, so it quotes no change for the group the results hide."""
    cells = [(side, area, 3.4, 12) for side in ("client", "supplier")
             for area in ("core-ict", "contact-centre")]  # fmt: skip
    closed_wave(relationship, "2024-Q1", cells, rng)
    first = db.session.scalar(select(Wave).where(Wave.label == "2024-Q1"))
    table = db.session.scalar(
        select(ResultTable).where(ResultTable.wave_id == first.id, ResultTable.name == "scores")
    )
    hidden = ("client", "contact-centre", DIMENSION)
    stored = table.records()
    assert all(r[results.SUPPRESSED] is None for r in stored)  # nothing below k
    for row in stored:
        if (row["side"], row["area"], row["dimension"]) == hidden:
            row[results.SUPPRESSED] = results.SECONDARY
    table.rows = [[row[c] for c in table.columns] for row in stored]
    db.session.commit()
    published = results.published_rows("scores", relationship, [first])
    assert [r["mean"] for r in published if (r["side"], r["area"], r["dimension"]) == hidden] == [
        None
    ]
    alert = client_trust_alert("watch", first, "contact-centre")
    action = record(relationship, manager_user, alert=alert)
    closed_wave(relationship, "2024-Q2", [(s, a, 3.9, 12) for s, a, _, _ in cells], rng)
    change = actions.change_since_action(action)
    assert change.available
    assert [g.side for g in change.groups] == ["client", "supplier", "all"]
    for group in change.groups:
        assert group.suppressed and group.difference is None and group.n_before is None
        assert group.g is None and group.welch_p is None and group.mean_before is None


def test_many_actions_load_each_wave_once_in_bulk(
    app, relationship, manager_user, rng, monkeypatch
):
    closed_wave(
        relationship, "2024-Q1", [("client", None, 3.0, 6), ("supplier", None, 3.0, 6)], rng
    )
    several = [
        record(relationship, manager_user, dimension_key=k)
        for k in ("trust", "innovation", "index")
    ]
    closed_wave(
        relationship, "2024-Q2", [("client", None, 3.0, 6), ("supplier", None, 3.0, 6)], rng
    )
    calls = []
    real = actions.load_answers

    def counting(waves):  # type: ignore[no-untyped-def]
        calls.append([w.label for w in waves])
        return real(waves)

    monkeypatch.setattr(actions, "load_answers", counting)
    changes = actions.changes_since_actions(several)
    assert calls == [["2024-Q1", "2024-Q2"]]
    assert set(changes) == {a.id for a in several}
    assert all(c.available for c in changes.values())


# ================================================================================== alerts


def test_a_significant_drop_is_an_alert_a_manager_can_act_on(app, relationship, rng):
    steady_then_drop(relationship, rng)
    alerts = actions.current_alerts(relationship)
    trust = [
        a for a in alerts if a.dimension == DIMENSION and a.side == "client" and a.area == "_all"
    ]
    assert trust and trust[0].status == "deteriorating" and trust[0].wave_label == "2024-Q2"
    assert actions.find_alert(relationship, trust[0].reference) == trust[0]
    assert actions.find_alert(relationship, "999:client:_all:trust") is None
    assert actions.find_alert(relationship, "nonsense") is None
    # a later wave closes: the alert is no longer current, but its reference still names it
    closed_wave(
        relationship, "2024-Q3", [("client", None, 2.3, 20), ("supplier", None, 3.5, 20)], rng
    )
    assert all(a.wave_label == "2024-Q3" for a in actions.current_alerts(relationship))
    assert actions.find_alert(relationship, trust[0].reference) == trust[0]


def test_an_action_on_a_widening_gap_names_the_gap_as_its_group(
    app, relationship, manager_user, rng
):
    closed_wave(
        relationship, "2024-Q1", [("client", None, 3.5, 9), ("supplier", None, 3.5, 9)], rng
    )
    wave = db.session.scalar(select(Wave))
    alert = dataclasses.replace(client_trust_alert("gap_widening", wave, "core-ict"), side=None)
    assert alert.reference == f"{wave.id}:gap:core-ict:{DIMENSION}"
    assert (alert.status, alert.group) == ("gap widening", "Gap between the sides, Core ICT")
    action = record(relationship, manager_user, alert=alert)
    assert (action.alert_side, action.alert_area) == ("gap", "core-ict")
    assert (
        actions.alert_reference(action, dict(actions.dimension_choices(relationship)))
        == "2024-Q1 · Gap between the sides · Core ICT · Trust"
    )
    # the change since it is reported for both sides and their total, as for any action
    assert actions.change_since_action(action).headline_side == "all"


# =================================================================================== pages


@pytest.fixture
def manager(auth):  # type: ignore[no-untyped-def]
    return auth("manager")


@pytest.fixture
def first_wave_closed(app, factory) -> int:
    """The id of the test relationship with its wave 2024-Q1 closed (6 responses a side, around
    3.0): made once a run and copied into the empty tables afterwards (:mod:`tests.snapshots`),
    so a test asks for it before making anything else."""

    def build() -> int:
        relationship = factory.relationship()
        groups = [("client", None, 3.0, 6), ("supplier", None, 3.0, 6)]
        closed_wave(relationship, "2024-Q1", groups, np.random.default_rng(44001))
        return relationship.id

    return built_once("actions-first-wave-closed", build)


def test_the_action_pages_render_for_managers_and_admins_not_reviewers(
    app, first_wave_closed, manager
):
    rel_id = first_wave_closed
    for path, expected in {
        "/actions/": "Test Council — Test Supplier",
        f"/actions/{rel_id}/": "No actions have been recorded yet",
        f"/actions/{rel_id}/new": "Record an action",
    }.items():
        response = manager.get(path)
        assert response.status_code == 200, path
        assert expected in text(response), path
    assert sign_in(app, "admin").get(f"/actions/{rel_id}/").status_code == 200
    assert sign_in(app, "reviewer").get(f"/actions/{rel_id}/").status_code == 403
    assert manager.get("/actions/999999/").status_code == 404
    assert manager.get(f"/actions/{rel_id}/999999/edit").status_code == 404
    assert manager.get(f"/actions/{rel_id}/new?alert=1:client:_all:astrology").status_code == 404


def action_form(**overrides) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "dimension": DIMENSION,
        "what": "Joint monthly service review",
        "owner": "Head of ICT client team",
        "status": "open",
        **date_fields("due_on", date.today() + timedelta(days=30)),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dimension": ""}, "Select the dimension the action is about"),
        ({"dimension": "astrology"}, "Select one of the dimensions listed"),
        ({"what": ""}, "Enter what will be done"),
        ({"what": "x" * 2001}, "What will be done must be 2,000 characters or fewer"),
        ({"owner": ""}, "Enter who owns the action"),
        ({"due_on": ["", "", ""]}, "Enter the due date"),
        ({"due_on": ["30", "2", "2031"]}, "Due date must be a real date"),
        ({"status": "maybe"}, "Select one of the statuses listed"),
    ],
)
def test_a_bad_action_form_gives_its_error_and_stores_nothing(
    first_wave_closed, manager, overrides, message
):
    response = submit(manager, f"/actions/{first_wave_closed}/new", action_form(**overrides))
    assert_form_error(response, message)
    assert count(Action) == 0


def test_a_manager_records_and_updates_an_action_through_the_pages(first_wave_closed, manager):
    rel_id = first_wave_closed
    response = submit(manager, f"/actions/{rel_id}/new", action_form())
    assert response.status_code == 302 and response.headers["Location"] == f"/actions/{rel_id}/"
    page = text(manager.get(f"/actions/{rel_id}/"))
    assert "Action recorded" in page and "Joint monthly service review" in page
    assert "No wave has closed since 2024-Q1" in page
    action_id = db.session.scalar(select(Action.id))
    edit = f"/actions/{rel_id}/{action_id}/edit"
    assert (
        submit(manager, edit, action_form(status="done", dimension="communication")).status_code
        == 302
    )
    without = {k: v for k, v in action_form(owner="ICT client team").items() if k != "dimension"}
    assert submit(manager, edit, without).status_code == 302  # the page sends no dimension
    db.session.expire_all()
    action = db.session.get(Action, action_id)
    assert (action.status, action.dimension_key) == ("open", DIMENSION)  # the dimension stays
    assert action.owner == "ICT client team"
    assert action.created_by == "Pages manager"
    assert [
        e for e in db.session.scalars(select(AuditEvent.action)) if e.startswith("action.")
    ] == [
        "action.create",
        "action.update",
        "action.update",
    ]


def test_an_action_on_an_alert_takes_the_alerts_dimension_and_group(manager, relationship, rng):
    steady_then_drop(relationship, rng)
    alert = next(
        a
        for a in actions.current_alerts(relationship)
        if a.dimension == DIMENSION and a.side == "client" and a.area == "_all"
    )
    rel_id = relationship.id
    page = text(manager.get(f"/actions/{rel_id}/"))
    assert (
        f"alert={alert.reference.replace(':', '%3A')}" in page or f"alert={alert.reference}" in page
    )
    path = f"/actions/{rel_id}/new?alert={alert.reference}"
    form_page = text(manager.get(path))
    assert "Deteriorating" in form_page and "Trust" in form_page
    response = submit(manager, path, action_form(dimension="innovation"))
    assert response.status_code == 302
    # The page shows the alert's dimension instead of asking for it, so a browser sends none.
    without = {k: v for k, v in action_form().items() if k != "dimension"}
    assert submit(manager, path, without).status_code == 302
    action = db.session.scalars(select(Action)).first()
    assert count(Action) == 2
    assert (action.dimension_key, action.alert_side, action.alert_area) == (
        DIMENSION,
        "client",
        "_all",
    )
    assert action.alert_wave.label == action.baseline_wave.label == "2024-Q2"


@pytest.mark.slow
def test_a_manager_records_an_action_against_a_demo_alert(app):
    from survey_app.services.demo import NAME
    from tests.demo_site import load_demo_site

    # the demo's manager, on the demo (copied when loaded earlier this run: tests/snapshots.py)
    manager = load_demo_site(app).client("manager")
    relationship = db.session.scalar(select(Relationship).where(Relationship.name == NAME))
    alerts = actions.current_alerts(relationship)
    assert alerts, "the demo story has alerts in its latest closed wave"
    alert = alerts[0]
    rel_id = relationship.id
    page = text(manager.get(f"/actions/{rel_id}/"))
    assert "Alerts in the latest closed wave" in page and alert.dimension_title in page
    response = submit(manager, f"/actions/{rel_id}/new?alert={alert.reference}", action_form())
    assert response.status_code == 302
    action = db.session.scalar(select(Action))
    reference = actions.alert_reference(action, dict(actions.dimension_choices(relationship)))
    assert reference.startswith(alert.wave_label + " · ")
    assert reference.endswith(f" · {alert.area_name} · {alert.dimension_title}")
    page = text(manager.get(f"/actions/{rel_id}/"))
    assert reference in page  # the action names its alert so, not by keys
    assert f"{alert.group_key} · {alert.area} · {alert.dimension}" not in page
    assert actions.actions_for(relationship, alert.dimension)[0].id == action.id
    assert action.marker_wave_label == alert.wave_label
