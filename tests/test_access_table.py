"""Who gets what: every route, every method, for anonymous visitors and each role — checked
against ONE table.

A route missing from :data:`EXPECTED` fails :func:`test_every_route_and_method_is_in_the_table`:
add each new route with the answer each kind of user must get. The requests carry no CSRF token
and sample URL values (an unknown token, id 999999), so:

* a page someone may not use answers 302 to the sign-in page (anonymous; 401 under ``/api/``)
  or 403 (signed in without the role) — access is checked before anything else;
* a POST someone may make answers 400 (the CSRF check, which runs after access) and changes nothing;
* a page someone may use answers 200, or 404 for an unknown sample value.

Roles nest (survey_app.web.access.ROLE_INCLUDES): admin may use every manager and reviewer page.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Blueprint, url_for
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.web.access import (
    ROLE_INCLUDES,
    UndeclaredAccess,
    access_for,
    public,
    requires,
    signed_in,
    undeclared_endpoints,
)
from tests.factories import PASSWORD, csrf_token, post_sign_in, sign_in

WHO = ("anonymous", "admin", "manager", "reviewer")


def every(status: int) -> tuple[int, int, int, int]:
    return (status,) * 4


# Common rows, as (anonymous, admin, manager, reviewer):
PUBLIC_PAGE = every(200)
PUBLIC_POST = every(400)  # reaches the CSRF check
MANAGER_PAGE = (302, 200, 200, 403)
REVIEWER_PAGE = (302, 200, 403, 200)
ADMIN_PAGE = (302, 200, 403, 403)
MANAGER_POST = (302, 400, 400, 403)
REVIEWER_POST = (302, 400, 403, 400)
ADMIN_POST = (302, 400, 403, 403)

# endpoint -> method -> (anonymous, admin, manager, reviewer)
EXPECTED: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "static": {"GET": PUBLIC_PAGE},
    # service pages
    "pages.index": {"GET": PUBLIC_PAGE},
    "pages.accessibility": {"GET": PUBLIC_PAGE},
    "pages.cookies": {"GET": PUBLIC_PAGE},
    "pages.privacy": {"GET": PUBLIC_PAGE},
    "pages.relationship_privacy": {"GET": every(404)},
    "pages.healthz": {"GET": PUBLIC_PAGE},
    # respondents (no account): an unknown link is 404, survey pages without a link's session 403
    "survey.open_link": {"GET": every(404)},
    "survey.start": {"GET": every(403)},
    "survey.resume": {"GET": every(403)},
    "survey.about": {"GET": every(403), "POST": PUBLIC_POST},
    "survey.section": {"GET": every(403), "POST": PUBLIC_POST},
    "survey.saved": {"GET": every(403)},
    "survey.check": {"GET": every(403), "POST": PUBLIC_POST},
    "survey.done": {"GET": every(403)},
    "survey.replaced": {"GET": every(403)},
    # staff sign-in: signed-in users are sent on from the sign-in page
    "auth.sign_in": {"GET": (200, 302, 302, 302), "POST": PUBLIC_POST},
    "auth.sign_out": {"POST": PUBLIC_POST},
    # sign-in through an organisation's provider: an unknown organisation is 404; a callback
    # without a sign-in started in this browser is refused (400)
    "auth.oidc_start": {"GET": every(404)},
    # the second factor: without a password step just passed, back to the sign-in page
    "auth.second_factor": {"GET": every(302), "POST": PUBLIC_POST},
    "auth.set_up_second_factor": {"GET": every(302), "POST": PUBLIC_POST},
    "auth.oidc_callback": {"GET": every(400)},
    # reviewers' downloads (an unknown relationship is 404)
    "downloads.index": {"GET": REVIEWER_PAGE},
    "downloads.relationship": {"GET": (302, 404, 403, 404)},
    "downloads.download": {"GET": (302, 404, 403, 404)},
    # a large download's page and button, and the file prepared (its requester's only)
    "downloads.prepare": {"GET": (302, 404, 403, 404), "POST": REVIEWER_POST},
    "downloads.prepared": {"GET": (302, 404, 403, 404)},
    # managers' dashboard (an unknown relationship is 404)
    "dashboard.index": {"GET": MANAGER_PAGE},
    "dashboard.relationship": {"GET": (302, 404, 404, 403)},
    "dashboard.dimension": {"GET": (302, 404, 404, 403)},
    "dashboard.how_we_know": {"GET": MANAGER_PAGE},
    "dashboard.chart": {"GET": (302, 404, 404, 403)},
    "dashboard.board_pack": {"POST": MANAGER_POST},
    "dashboard.prepared_pack": {"GET": (302, 404, 404, 403)},  # the asker's only
    "dashboard.comments": {"GET": (302, 404, 404, 403)},
    # read-only JSON API: every role, by token or session; 401 (JSON) without either;
    # its OpenAPI document is public
    "api.openapi": {"GET": PUBLIC_PAGE},
    "api.relationships": {"GET": (401, 200, 200, 200)},
    "api.relationship_waves": {"GET": (401, 404, 404, 404)},
    "api.wave_scores": {"GET": (401, 404, 404, 404)},
    "api.wave_gaps": {"GET": (401, 404, 404, 404)},
    "api.relationship_trends": {"GET": (401, 404, 404, 404)},
    "api.relationship_alerts": {"GET": (401, 404, 404, 404)},
    "api.not_found": {"GET": (401, 404, 404, 404)},
    "api.portfolio": {"GET": (401, 200, 200, 200)},
    "api.norms": {"GET": (401, 200, 200, 200)},
    "api.relationship_targets": {"GET": (401, 404, 404, 404)},
    "api.wave_comment_counts": {"GET": (401, 404, 404, 404)},
    "api.wave_relative_weights": {"GET": (401, 404, 404, 404)},
    "api.wave_heat_map": {"GET": (401, 404, 404, 404)},
    "api.wave_margins": {"GET": (401, 404, 404, 404)},
    "api.wave_targets": {"GET": (401, 404, 404, 404)},
    # each account's API tokens
    "api_tokens.index": {"GET": (302, 200, 200, 200), "POST": (302, 400, 400, 400)},
    "api_tokens.revoke": {"POST": (302, 400, 400, 400)},
    # background jobs: a job's pages are its requester's and admins' (anyone else: 404); the
    # recompute page starts one (admins)
    "jobs.show": {"GET": (302, 404, 404, 404)},
    "jobs.status": {"GET": (302, 404, 404, 404)},
    "jobs.retry": {"POST": (302, 400, 400, 400)},
    "jobs.recompute": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    # people: admins manage those of their relationships (an unknown person is 404)
    "people.index": {"GET": ADMIN_PAGE},
    "people.invite": {"GET": ADMIN_PAGE, "POST": ADMIN_POST},
    "people.person": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "people.set_active": {"POST": ADMIN_POST},
    # organisations' sign-in settings: service-wide admins only (an unknown organisation: 404)
    "organisations.index": {"GET": ADMIN_PAGE},
    "organisations.sign_in_settings": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    # a person's own password; single-use links (unknown: 404; no link in the session: 404)
    "account.forgotten": {"GET": PUBLIC_PAGE, "POST": PUBLIC_POST},
    "account.open_link": {"GET": every(404)},
    "account.set_password": {"GET": every(404), "POST": PUBLIC_POST},
    "account.change_password": {"GET": (302, 200, 200, 200), "POST": (302, 400, 400, 400)},
    "account.index": {"GET": (302, 200, 200, 200), "POST": (302, 400, 400, 400)},
    "account.language": {"POST": (302, 400, 400, 400)},  # the header's switch, signed in
    # admin pages
    "imports.upload": {"GET": ADMIN_PAGE, "POST": ADMIN_POST},
    # survey administration (an unknown relationship, wave or instrument version is 404); the
    # response-rate monitor is for managers too
    "admin.index": {"GET": ADMIN_PAGE},
    "admin.new_relationship": {"GET": ADMIN_PAGE, "POST": ADMIN_POST},
    "admin.relationship": {"GET": (302, 404, 403, 403)},
    "admin.edit_relationship": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.new_area": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.edit_area": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.delete_area": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.new_wave": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.wave": {"GET": (302, 404, 403, 403)},
    "admin.open_wave": {"POST": ADMIN_POST},
    "admin.extend_wave": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.close_wave": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.staff_list": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.invitations": {"GET": (302, 404, 403, 403)},
    "admin.email_texts_page": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.email_preview": {"GET": (302, 404, 403, 403)},
    "admin.send_invitations": {"POST": ADMIN_POST},
    "admin.send_reminders": {"POST": ADMIN_POST},
    "admin.retry_failed": {"POST": ADMIN_POST},
    "admin.mail_merge": {"POST": ADMIN_POST},
    "admin.reminder_mail_merge": {"POST": ADMIN_POST},
    "admin.monitor": {"GET": (302, 404, 404, 403)},
    "admin.monitor_json": {"GET": (302, 404, 404, 403)},
    "admin.instruments": {"GET": ADMIN_PAGE},
    "admin.preview": {"GET": (302, 404, 403, 403)},
    "admin.preview_section": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.preview_start": {"GET": (302, 404, 403, 403)},
    "admin.preview_about": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.preview_check": {"GET": (302, 404, 403, 403), "POST": ADMIN_POST},
    "admin.preview_done": {"GET": (302, 404, 403, 403)},
    # managers' actions on alerts and dimensions (an unknown relationship is 404)
    "actions.index": {"GET": MANAGER_PAGE},
    "actions.relationship": {"GET": (302, 404, 404, 403)},
    "actions.new_action": {"GET": (302, 404, 404, 403), "POST": MANAGER_POST},
    "actions.edit_action": {"GET": (302, 404, 404, 403), "POST": MANAGER_POST},
    "actions.targets": {"GET": (302, 404, 404, 403), "POST": MANAGER_POST},
    "actions.remove_target": {"POST": MANAGER_POST},
}

# URL values for endpoints whose sample must be specific; others get one per converter.
SAMPLE_VALUES: dict[str, dict[str, object]] = {
    "static": {"filename": "app/app.css"},
}
CONVERTER_SAMPLES: dict[str, object] = {
    "IntegerConverter": 999999,
    "IdConverter": 999999,  # survey_app's <int:...>: at most the largest id
    "FloatConverter": 999999.0,
    "UUIDConverter": "00000000-0000-0000-0000-000000000000",
    "UnicodeConverter": "unknown",
    "PathConverter": "unknown",
}


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule and method but HEAD and OPTIONS."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {
                name: CONVERTER_SAMPLES[type(converter).__name__]
                for name, converter in rule._converters.items()
            }
            values.update(SAMPLE_VALUES.get(rule.endpoint, {}))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append(
                    (rule.endpoint, method, url_for(rule.endpoint, _method=method, **values))
                )
    return found


def client_for(app, who: str, *, relationships=None, email: str | None = None):  # type: ignore[no-untyped-def]
    """A client signed in as ``who`` — service-wide, or on ``relationships`` only."""
    if who == "anonymous":
        return app.test_client()
    return sign_in(
        app,
        who,
        email=email or f"{who}@council.example",
        name=f"Table {who}",
        relationships=relationships,
    )


def test_every_route_and_method_is_in_the_table(app):
    served = {(endpoint, method) for endpoint, method, _ in routes(app)}
    tabled = {(endpoint, method) for endpoint, methods in EXPECTED.items() for method in methods}
    assert sorted(served - tabled) == [], (
        "add these routes to EXPECTED in tests/test_access_table.py"
    )
    assert sorted(tabled - served) == [], "these routes in EXPECTED no longer exist"


def test_every_view_declares_who_may_use_it(app):
    assert undeclared_endpoints(app) == []


@pytest.mark.parametrize("who", WHO)
def test_each_route_answers_as_the_table_says(app, who):
    client = client_for(app, who)
    column = WHO.index(who)
    wrong = []
    for endpoint, method, url in routes(app):
        if method not in EXPECTED.get(endpoint, {}):
            continue  # reported by test_every_route_and_method_is_in_the_table
        expected = EXPECTED[endpoint][method][column]
        response = client.open(url, method=method)
        status, location = response.status_code, response.headers.get("Location", "")
        response.close()
        if status != expected:
            wrong.append(f"{method} {url} ({endpoint}) as {who}: {status}, expected {expected}")
        elif (
            status == 302
            and who == "anonymous"
            and not access_for(app, endpoint).public
            and not location.startswith("/sign-in")
        ):
            wrong.append(f"{method} {url} as anonymous redirects to {location}, not sign-in")
    assert wrong == []


# ------------------------------------------------------------------ the declarations themselves


def test_admin_includes_manager_and_reviewer_but_not_the_other_way_round():
    assert ROLE_INCLUDES["admin"] >= ROLE_INCLUDES["manager"] | ROLE_INCLUDES["reviewer"]

    def allowed(declare) -> list[str]:
        view = declare(lambda: "ok")
        return [role for role in ("admin", "manager", "reviewer") if view.__access__.allows(role)]

    assert allowed(requires("admin")) == ["admin"]
    assert allowed(requires("manager")) == ["admin", "manager"]
    assert allowed(requires("reviewer")) == ["admin", "reviewer"]
    assert allowed(requires("manager", "reviewer")) == ["admin", "manager", "reviewer"]
    assert allowed(signed_in) == ["admin", "manager", "reviewer"]
    assert not requires("admin")(lambda: "ok").__access__.allows(None)
    assert public(lambda: "ok").__access__.allows(None)


def test_declarations_refuse_unknown_roles_and_contradictions():
    with pytest.raises(ValueError, match="unknown role"):
        requires("owner")
    with pytest.raises(TypeError):
        requires()

    def view():
        return "ok"

    requires("manager")(view)
    requires("manager")(view)  # saying the same twice is fine
    with pytest.raises(ValueError, match="already declares requires manager"):
        public(view)


def test_a_view_without_a_declaration_fails_loudly(app, client, caplog):
    app.add_url_rule("/test-only/forgotten", "forgotten", lambda: "open to all?")
    assert undeclared_endpoints(app) == ["forgotten"]
    response = client.get("/test-only/forgotten")
    assert response.status_code == 500
    assert "open to all?" not in response.get_data(as_text=True)
    raised = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(e, UndeclaredAccess) for e in raised)
    assert "'forgotten' declares no access rule" in caplog.text


def test_a_blueprint_declaration_covers_its_views_and_a_view_declaration_wins(app):
    bp = Blueprint("test_reports", __name__, url_prefix="/test-only/reports")
    bp.add_url_rule("/", "index", lambda: "reports")
    bp.add_url_rule("/admin", "admin", requires("admin")(lambda: "admin reports"))
    requires("reviewer")(bp)
    app.register_blueprint(bp)
    assert access_for(app, "test_reports.index").roles == {"reviewer"}
    assert access_for(app, "test_reports.admin").roles == {"admin"}
    client = client_for(app, "reviewer")
    assert client.get("/test-only/reports/").status_code == 200
    assert client.get("/test-only/reports/admin").status_code == 403


# ------------------------------------------------------------------ the scope dimension
#
# Roles are held per relationship. A user holding a role on relationship A only gets, for every
# route that names a thing of relationship B (the relationship, a wave, an area, an action, a
# job), the answer a thing that does not exist gets: 404 — or 403 where the role does not reach
# the page at all, exactly as the table says. The same user on A's things gets exactly what a
# service-wide user of that role gets (so the 404s are not a page that is broken for everyone).
# POSTs carry a valid CSRF token, so the 404 is the view's, after the CSRF check.

SCOPED_IDS = ("relationship_id", "wave_id", "area_id", "action_id", "job_id")


def _things_of(relationship, admin) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from survey_app.services.actions import dimension_choices, record_action
    from survey_app.services.jobs import submit_job
    from survey_app.services.waves import close_wave, create_wave, open_wave

    wave = create_wave(relationship, "2024-Q1")
    open_wave(wave)
    close_wave(wave)
    action = record_action(
        relationship,
        dimension_key=dimension_choices(relationship)[0][0],
        what="Meet monthly",
        owner="Both leads",
        due_on=date(2030, 1, 1),
        actor=admin,
    )
    job = submit_job("jobs.check", requested_by=admin, relationship=relationship)
    db.session.commit()
    return {
        "relationship_id": relationship.id,
        "wave_id": wave.id,
        "area_id": relationship.service_areas[0].id,
        "action_id": action.id,
        "job_id": job.id,
    }


#: Routes that name a relationship but are public on purpose: what every reader may see.
PUBLIC_OF_A_RELATIONSHIP = {
    "pages.relationship_privacy",  # the privacy notice the survey's respondents are shown
}


def _scoped_routes(app, ids: dict[str, int]) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(endpoint, method, url) of every route naming a thing of a relationship, with ``ids``
    (but for the public ones)."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            names = set(rule._converters)
            if not names & set(SCOPED_IDS) or rule.endpoint in PUBLIC_OF_A_RELATIONSHIP:
                continue
            values = {
                name: ids.get(name, CONVERTER_SAMPLES[type(converter).__name__])
                for name, converter in rule._converters.items()
            }
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append(
                    (rule.endpoint, method, url_for(rule.endpoint, _method=method, **values))
                )
    return found


def _answers(client, routes, token: str) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    answers = {}
    for endpoint, method, url in routes:
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        answers[(method, url)] = response.status_code
        response.close()
    return answers


@pytest.mark.parametrize("role", ("admin", "manager", "reviewer"))
def test_a_role_on_one_relationship_reaches_nothing_of_another(app, factory, role):
    from survey_app.models import Job, Relationship

    admin = ensure_user(
        "operator@council.example", name="Operator", role="admin", password=PASSWORD
    )
    mine = factory.relationship("Council A — Supplier A", areas=["Core ICT"])
    theirs = factory.relationship("Council B — Supplier B", areas=["Core ICT"])
    mine_ids, their_ids = _things_of(mine, admin), _things_of(theirs, admin)
    scoped = client_for(app, role, relationships=[mine], email=f"scoped.{role}@council.example")
    wide = client_for(app, role)
    token = csrf_token(scoped.get("/account/api-tokens/").get_data(as_text=True))
    wide_token = csrf_token(wide.get("/account/api-tokens/").get_data(as_text=True))
    before = db.session.scalar(select(func.count(Job.id)))

    column = WHO.index(role)
    wrong = []
    for endpoint, method, url in _scoped_routes(app, their_ids):
        expected = EXPECTED[endpoint][method][column]
        expected = 403 if expected == 403 else 404
        data = {"csrf_token": token} if method == "POST" else None
        status = scoped.open(url, method=method, data=data).status_code
        if status != expected:
            wrong.append(
                f"{method} {url} ({endpoint}) of B as {role} of A: {status}, not {expected}"
            )
    assert wrong == []

    own = _scoped_routes(app, mine_ids)
    get_only = [r for r in own if r[1] == "GET"]
    assert _answers(scoped, get_only, token) == _answers(wide, get_only, wide_token)
    # nothing of B was started or changed by the refused POSTs
    assert db.session.scalar(select(func.count(Job.id))) == before
    assert (
        db.session.get(Relationship, their_ids["relationship_id"]).name == "Council B — Supplier B"
    )


LISTS = (
    ("manager", "/dashboard/"),
    ("manager", "/actions/"),
    ("reviewer", "/downloads/"),
    ("admin", "/admin/"),
    ("manager", "/api/v1/relationships"),
    ("reviewer", "/api/v1/relationships"),
)


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_lists_show_only_the_relationships_in_reach(app, factory, role, path):
    mine = factory.relationship("Council A — Supplier A", areas=["Core ICT"])
    factory.relationship("Council B — Supplier B", areas=["Core ICT"])
    scoped = client_for(app, role, relationships=[mine], email=f"scoped.{role}@council.example")
    wide = client_for(app, role)
    seen = scoped.get(path).get_data(as_text=True)
    assert "Council A" in seen and "Council B" not in seen
    everything = wide.get(path).get_data(as_text=True)
    assert "Council A" in everything and "Council B" in everything


def test_a_role_elsewhere_does_not_reach_this_relationship_for_that_page(app, factory):
    """A reviewer of B and manager of A: B's downloads, not B's dashboard; A's dashboard."""
    from survey_app.services.accounts.users import set_memberships

    a = factory.relationship("Council A — Supplier A", areas=["Core ICT"]).id
    b = factory.relationship("Council B — Supplier B", areas=["Core ICT"]).id
    user = ensure_user("mixed@council.example", name="Mixed", role="manager", password=PASSWORD)
    set_memberships(user, {a: "manager", b: "reviewer"})
    user.role = None
    db.session.commit()
    client = client_for(app, "anonymous")
    post_sign_in(client, "mixed@council.example", PASSWORD)
    assert client.get(f"/dashboard/{a}/").status_code == 200
    assert client.get(f"/dashboard/{b}/").status_code == 404
    assert client.get(f"/downloads/{b}/").status_code == 200
    assert client.get(f"/downloads/{a}/").status_code == 404


def test_service_wide_pages_refuse_a_relationship_admin(app, factory):
    mine = factory.relationship("Council A — Supplier A", areas=["Core ICT"])
    scoped = client_for(app, "admin", relationships=[mine], email="scoped.admin@council.example")
    for path in (
        "/admin/relationships/new",
        "/admin/instruments/",
        "/admin/import/",
        "/admin/organisations/",
    ):
        assert scoped.get(path).status_code == 403, path
    assert scoped.get("/admin/").status_code == 200
