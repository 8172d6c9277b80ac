"""The read-only JSON API: per-user tokens (hashed, shown once, revocable), roles, every
endpoint's real response against the OpenAPI document, pagination, errors, suppression.

Runs on the demo and the small wave of tests/demo_site.py, loaded once for the module.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import datetime, timedelta

import numpy as np
import pytest
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import select, text

from survey_app.extensions import db
from survey_app.models import ApiToken, User, Wave
from survey_app.services import dashboard
from survey_app.services.accounts import api_tokens
from survey_app.services.demo import NAME
from survey_app.services.relationships import get_relationship
from survey_app.services.results import min_cell_size
from tests.demo_site import SMALL_GROUPS
from tests.factories import csrf_token, submit
from tests.readers import DOC, conforms


def token_for(role: str, name: str = "script") -> str:
    user = db.session.scalar(
        select(User).where(User.role == role, User.email.like("%@demo.example"))
    )
    issued = api_tokens.create_token(user, name)
    db.session.commit()
    return issued.token


@pytest.fixture(scope="module")
def tokens(demo_site):
    return {role: token_for(role) for role in ("admin", "manager", "reviewer")}


@pytest.fixture(scope="module")
def api(demo_site, tokens):
    client = demo_site.app.test_client()

    def get(path: str, token: str | None = tokens["reviewer"], **headers):  # type: ignore[no-untyped-def]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.get(path, headers=headers)

    return get


def every_item(api, path: str) -> list[dict]:  # type: ignore[no-untyped-def]
    items, page = [], 1
    while True:
        body = api(f"{path}{'&' if '?' in path else '?'}page={page}&per_page=1000").get_json()
        items += body["items"]
        if body["links"]["next"] is None:
            return items
        page += 1


def demo_ids() -> tuple[int, int, int]:
    rel = get_relationship(NAME)
    latest = dashboard.latest_closed_wave(rel)
    opened = dashboard.open_waves(rel)[0]
    return rel.id, latest.id, opened.id


# ------------------------------------------------------------------------------ the document


def test_the_openapi_document_is_valid_3_1_and_public(api):
    validate_spec(DOC)
    response = api("/api/v1/openapi.json", token=None)
    assert response.status_code == 200
    assert response.get_json() == DOC
    assert DOC["openapi"] == "3.1.0"
    assert DOC["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": DOC["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_the_document_describes_every_route_of_the_api(demo_site):
    served = {
        re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in demo_site.app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found"
    }
    assert served == set(DOC["paths"])


# ------------------------------------------------------------------------------ every endpoint


def test_each_endpoint_answers_as_the_document_says(api):
    rel_id, wave_id, _ = demo_ids()
    body = conforms(api("/api/v1/relationships"), "/relationships")
    assert NAME in [r["name"] for r in body["items"]]
    mine = next(r for r in body["items"] if r["id"] == rel_id)
    assert mine["latest_closed_wave"]["id"] == wave_id
    waves = conforms(api(mine["links"]["waves"]), "/relationships/{relationship_id}/waves")
    assert waves["total"] == 15
    assert [w["state"] for w in waves["items"]].count("closed") == 14
    scores = conforms(api(f"/api/v1/waves/{wave_id}/scores"), "/waves/{wave_id}/scores")
    assert scores["total"] == 210 and scores["wave"]["label"] == "2012-Q3"
    conforms(
        api(f"/api/v1/waves/{wave_id}/scores?role_level=executive&per_page=1000"),
        "/waves/{wave_id}/scores",
    )
    gaps = conforms(api(f"/api/v1/waves/{wave_id}/gaps?per_page=1000"), "/waves/{wave_id}/gaps")
    assert gaps["total"] == 70
    conforms(
        api(f"/api/v1/waves/{wave_id}/gaps?role_level=staff&per_page=1000"), "/waves/{wave_id}/gaps"
    )
    trends = conforms(
        api(f"/api/v1/relationships/{rel_id}/trends?per_page=1000"),
        "/relationships/{relationship_id}/trends",
    )
    assert trends["as_of"] == "2012-Q3" and trends["total"] == 210
    conforms(
        api(f"/api/v1/relationships/{rel_id}/alerts"), "/relationships/{relationship_id}/alerts"
    )
    conforms(
        api(f"/api/v1/relationships/{rel_id}/alerts?kind=gap_widening"),
        "/relationships/{relationship_id}/alerts",
    )


def test_results_match_the_dashboard_and_the_stored_tables(api):
    rel_id, wave_id, _ = demo_ids()
    rel = get_relationship(NAME)
    rows = every_item(api, f"/api/v1/waves/{wave_id}/scores")
    assert rows == dashboard.wave_rows("scores", db.session.get(Wave, wave_id))
    vfm = api(
        f"/api/v1/waves/{wave_id}/gaps?area=contact-centre&dimension=value_for_money"
    ).get_json()
    (gap,) = vfm["items"]
    assert gap["material"] is True and gap["mean_client"] < gap["mean_supplier"]
    material = api(f"/api/v1/waves/{wave_id}/gaps?material=true&per_page=1000").get_json()["items"]
    assert ("contact-centre", "value_for_money") in {(g["area"], g["dimension"]) for g in material}
    alerts = api(f"/api/v1/relationships/{rel_id}/alerts?area=_all&side=all").get_json()["items"]
    innovation = next(a for a in alerts if a["dimension"] == "innovation")
    assert innovation["kind"] == "deteriorating"
    assert innovation["summary"].startswith(
        "Innovation, both sides, all service areas: getting worse — down "
    )
    assert any("surveys since" in line for line in innovation["evidence"])
    assert any("Mann–Kendall" in line for line in innovation["how_we_know"])
    assert [a.summary for a in dashboard.relationship_alerts(rel, side="all", area="_all")] == [
        a["summary"] for a in alerts
    ]
    # the API's sentences are English, whatever language a browser session chose
    assert api(f"/api/v1/relationships/{rel_id}/alerts?lang=cy").status_code == 400


def test_lists_are_paginated_with_links(api):
    _, wave_id, _ = demo_ids()
    first = api(f"/api/v1/waves/{wave_id}/scores?dimension=index&per_page=5").get_json()
    assert first["total"] == 21 and first["pages"] == 5 and len(first["items"]) == 5
    assert first["links"]["prev"] is None
    second = api(first["links"]["next"]).get_json()
    assert second["page"] == 2 and second["items"][0] != first["items"][0]
    last = api(f"/api/v1/waves/{wave_id}/scores?dimension=index&per_page=5&page=5").get_json()
    assert len(last["items"]) == 1 and last["links"]["next"] is None


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/relationships?colour=blue", 400, "unknown_parameter"),
        ("/api/v1/relationships?per_page=0", 400, "invalid_parameter"),
        ("/api/v1/relationships?per_page=5000", 400, "invalid_parameter"),
        ("/api/v1/relationships?page=two", 400, "invalid_parameter"),
        ("/api/v1/relationships?page=1000001", 400, "invalid_parameter"),
        ("/api/v1/relationships?page=", 400, "invalid_parameter"),
        ("/api/v1/waves/{wave}/scores?side=both", 400, "invalid_parameter"),
        ("/api/v1/waves/{wave}/scores?area=Moon%20base", 400, "invalid_parameter"),
        ("/api/v1/waves/{wave}/scores?dimension=Trust", 400, "invalid_parameter"),
        ("/api/v1/waves/{wave}/scores?area=moon", 404, "unknown_area"),
        ("/api/v1/waves/{wave}/gaps?dimension=happiness", 404, "unknown_dimension"),
        ("/api/v1/relationships/{rel}/trends?area=moon&status=sideways", 400, "invalid_parameter"),
        ("/api/v1/relationships/{rel}/alerts?dimension=happiness", 404, "unknown_dimension"),
        ("/api/v1/waves/{wave}/scores?role_level=intern", 400, "invalid_parameter"),
        ("/api/v1/waves/{wave}/gaps?material=yes", 400, "invalid_parameter"),
        ("/api/v1/relationships/999999/waves", 404, "not_found"),
        ("/api/v1/waves/999999/scores", 404, "not_found"),
        ("/api/v1/waves/{open}/scores", 404, "results_not_available"),
        ("/api/v1/no/such/thing", 404, "not_found"),
    ],
)
def test_errors_are_json_with_a_code(api, path, status, code):
    rel_id, wave_id, open_id = demo_ids()
    url = path.format(wave=wave_id, open=open_id, rel=rel_id)
    response = api(url)
    template = next(
        (
            t
            for t in DOC["paths"]
            if re.fullmatch(
                re.sub(r"\{\w+\}", r"[^/]+", t), url.split("?")[0].removeprefix("/api/v1")
            )
        ),
        None,
    )
    body = conforms(response, template, status)
    assert body["error"]["code"] == code and body["error"]["message"]


def test_relationships_come_by_id_and_waves_in_time_order(api):
    rel_id, _wave_id, _ = demo_ids()
    ids = [r["id"] for r in every_item(api, "/api/v1/relationships")]
    assert ids == sorted(ids) and rel_id in ids
    listed = every_item(api, f"/api/v1/relationships/{rel_id}/waves")
    stored = db.session.scalars(select(Wave).where(Wave.relationship_id == rel_id)).all()
    when = {w.id: (w.opened_at or w.closed_at or w.created_at, w.id) for w in stored}
    assert [w["id"] for w in listed] == sorted(when, key=when.__getitem__)
    assert {w["id"] for w in listed if w["has_results"]} == {
        w.id for w in stored if w.state == "closed"
    }
    closed = every_item(api, f"/api/v1/relationships/{rel_id}/waves?state=closed")
    assert [w["id"] for w in closed] == [w["id"] for w in listed if w["state"] == "closed"]


def test_a_404_says_which_relationship_or_wave_is_missing(api):
    _rel_id, _wave_id, open_id = demo_ids()
    label = db.session.get(Wave, open_id).label
    answers = {
        "/api/v1/relationships/999999/trends": "There is no relationship 999999.",
        "/api/v1/relationships/999999/alerts": "There is no relationship 999999.",
        "/api/v1/waves/999999/gaps": "There is no wave 999999.",
        f"/api/v1/waves/{open_id}/gaps": (
            f"Wave {label} is open: results exist only once a wave has closed."
        ),
    }
    for path, message in answers.items():
        response = api(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["message"] == message, path


def test_the_api_is_read_only_and_says_which_methods_it_takes(demo_site, tokens):
    client = demo_site.app.test_client()
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE"):
        for path in ("/api/v1/relationships", "/api/v1/waves/1/scores", "/api/v1/no/such"):
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 405, (method, path)
            assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
            body = conforms(response, None, 405)  # the one error shape
            assert body["error"]["code"] == "method_not_allowed"


def test_every_json_error_of_the_service_has_the_one_shape(demo_site, tokens):
    client = demo_site.app.test_client()
    auth = {"Authorization": f"Bearer {tokens['reviewer']}"}
    answers = [
        client.get("/api/v1", headers=auth),  # outside the blueprint's routes
        client.get("/api/v2/relationships", headers=auth),
        client.get("/api/v1/relationships"),  # no token
        client.get("/no/such/page", headers={"Accept": "application/json"}),
    ]
    for response in answers:
        assert response.status_code in (401, 404), response.status_code
        conforms(response, None, response.status_code)


def test_times_are_rfc_3339_in_utc(api):
    rel_id, _wave_id, _ = demo_ids()
    stored = {
        w.id: w for w in db.session.scalars(select(Wave).where(Wave.relationship_id == rel_id))
    }
    listed = every_item(api, f"/api/v1/relationships/{rel_id}/waves")
    stamps = [(w, key) for w in listed for key in ("opened_at", "closed_at") if w[key]]
    assert len(stamps) >= 15
    for wave, key in stamps:
        text = wave[key]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text), text
        moment = datetime.fromisoformat(text)
        assert moment.utcoffset() == timedelta(0)
        when = getattr(stored[wave["id"]], key)  # stored in UTC, without a zone
        assert moment.replace(tzinfo=None) == when.replace(microsecond=0)


def test_a_page_past_the_last_is_empty_and_leads_back(api):
    _, wave_id, _ = demo_ids()
    last = api(f"/api/v1/waves/{wave_id}/scores?dimension=index&per_page=5&page=5").get_json()
    past = conforms(
        api(f"/api/v1/waves/{wave_id}/scores?dimension=index&per_page=5&page=9"),
        "/waves/{wave_id}/scores",
    )
    assert past["items"] == [] and past["pages"] == 5 and past["total"] == 21
    assert past["links"]["next"] is None
    assert api(past["links"]["prev"]).get_json() == last


def test_an_empty_filter_is_no_filter(api):
    _, wave_id, _ = demo_ids()
    everything = api(f"/api/v1/waves/{wave_id}/scores?per_page=1000").get_json()["items"]
    empty = api(f"/api/v1/waves/{wave_id}/scores?per_page=1000&side=&area=&dimension=")
    assert conforms(empty, "/waves/{wave_id}/scores")["items"] == everything


# ------------------------------------------------------------------------------ tokens


def test_without_a_valid_token_the_answer_is_401(api, tokens, demo_site):
    missing = conforms(api("/api/v1/relationships", token=None), "/relationships", 401)
    assert missing["error"]["code"] == "missing_token"
    assert api("/api/v1/relationships", token=None).headers["WWW-Authenticate"].startswith("Bearer")
    for bad in ("rh_not-a-real-token", tokens["manager"] + "x", ""):
        response = api("/api/v1/relationships", token=bad)
        assert response.status_code == 401, bad
        assert response.get_json()["error"]["code"] == "invalid_token"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    basic = api("/api/v1/relationships", token=None, Authorization="Basic dXNlcjpwYXNz")
    assert basic.status_code == 401


def test_a_revoked_token_stops_working_at_once(api):
    token = token_for("manager", "to revoke")
    assert api("/api/v1/relationships", token=token).status_code == 200
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(token))
    )
    api_tokens.revoke_token(record.user, record.id)
    db.session.commit()
    assert api("/api/v1/relationships", token=token).status_code == 401


def test_a_deactivated_account_s_tokens_stop_working(api):
    token = token_for("reviewer", "leaver")
    user = db.session.scalar(select(User).where(User.role == "reviewer"))
    user_id = user.id
    user.active = False
    db.session.commit()
    try:
        assert api("/api/v1/relationships", token=token).status_code == 401
    finally:
        db.session.get(User, user_id).active = True  # the request ended the session
        db.session.commit()


def test_every_role_reads_the_api_with_its_own_token_and_no_session_is_made(api, tokens):
    for role, token in tokens.items():
        response = api("/api/v1/relationships", token=token)
        assert response.status_code == 200, role
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"


def test_a_token_decides_even_beside_a_session(demo_site, tokens):
    browser = demo_site.client("manager")
    assert browser.get("/api/v1/relationships").status_code == 200  # the session alone
    bad = browser.get("/api/v1/relationships", headers={"Authorization": "Bearer rh_wrong"})
    assert bad.status_code == 401


def test_tokens_are_stored_only_as_sha256_hashes(tokens):
    stored = db.session.execute(text("SELECT name, token_hash FROM api_tokens")).all()
    hashes = {h for _, h in stored}
    for token in tokens.values():
        assert token.startswith("rh_") and len(token) >= 40
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        dumped = " ".join(
            str(v) for row in db.session.execute(text("SELECT * FROM api_tokens")) for v in row
        )
        assert token not in dumped and token[3:] not in dumped


def test_the_token_page_shows_a_new_token_once_and_revokes(demo_site):
    browser = demo_site.client("reviewer")
    assert browser.get("/account/api-tokens/").status_code == 200
    created = submit(
        browser,
        "/account/api-tokens/",
        {"name": "Power BI refresh", "days": "365", "reach": "all"},
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code class="app-token" id="new-token">(rh_[^<]+)</code>', html).group(1)
    assert (
        demo_site.app.test_client()
        .get("/api/v1/relationships", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 200
    )
    again = browser.get("/account/api-tokens/").get_data(as_text=True)
    assert token not in again and "Power BI refresh" in again and "Last used" in again
    record = db.session.scalar(select(ApiToken).where(ApiToken.name == "Power BI refresh"))
    assert record.last_used_on is not None
    revoked = browser.post(
        f"/account/api-tokens/{record.id}/revoke", data={"csrf_token": csrf_token(again)}
    )
    assert revoked.status_code == 302
    assert "is revoked" in browser.get("/account/api-tokens/").get_data(as_text=True)
    assert (
        demo_site.app.test_client()
        .get("/api/v1/relationships", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )
    blank = browser.post(
        "/account/api-tokens/",
        data={"csrf_token": csrf_token(again), "name": "  ", "days": "365", "reach": "all"},
    )
    assert blank.status_code == 400 and "Enter a name for the token" in blank.get_data(as_text=True)


def test_nobody_revokes_someone_else_s_token(demo_site):
    other = token_for("admin", "admin's")
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(other))
    )
    browser = demo_site.client("manager")
    page = browser.get("/account/api-tokens/").get_data(as_text=True)
    response = browser.post(
        f"/account/api-tokens/{record.id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert db.session.get(ApiToken, record.id).revoked_at is None


# ------------------------------------------------------------------------------ suppression


def truth() -> dict[tuple[str, str, str], int]:
    """Responses behind every cell of the small wave: side × area × role, margins included."""
    counts: dict[tuple[str, str, str], int] = {}
    for (side, area, role), n in SMALL_GROUPS.items():
        for s, a, r in itertools.product((side, "all"), (area, "_all"), (role, "_all")):
            counts[(s, a, r)] = counts.get((s, a, r), 0) + n
    return counts


def test_the_api_never_shows_a_small_cell_nor_one_recoverable_by_subtraction(api, demo_site):
    k = min_cell_size()
    shown: dict[tuple[str, str, str], int | None] = {}
    for role in (None, "executive", "manager", "staff"):
        query = "dimension=index" + (f"&role_level={role}" if role else "")
        body = conforms(
            api(f"/api/v1/waves/{demo_site.small_wave_id}/scores?{query}&per_page=1000"),
            "/waves/{wave_id}/scores",
        )
        for row in body["items"]:
            shown[(row["side"], row["area"], role or "_all")] = row["n"]
    counts = truth()
    for cell, n in shown.items():
        assert n is None or n == 0 or n >= k, cell  # an empty cell reveals nobody
        if n is not None:
            assert n == counts.get(cell, 0), cell
    assert all(
        shown.get((s, "tiny-area", r)) is None
        for s in ("client", "supplier", "all")
        for r in ("_all", "staff")
    )
    # Checked on what the API shows, independently of how the service decides: from every
    # partition whose total is shown, (a) no group of fewer than k can be taken away, and
    # (b) no hidden small cell is fixed by the equations "members add up to the total".
    axes = (
        ("client", "supplier", "all"),
        ("big-area", "tiny-area", "_none", "_all"),
        ("executive", "manager", "staff", "_none", "_all"),
    )
    margins = ("all", "_all", "_all")
    hidden = sorted(c for c, n in counts.items() if n > 0 and shown.get(c) is None)
    column = {c: i for i, c in enumerate(hidden)}
    equations = []
    for axis, values in enumerate(axes):
        others = [v for a, v in enumerate(axes) if a != axis]
        for rest in itertools.product(*others):

            def cell(value, rest=rest, axis=axis):  # type: ignore[no-untyped-def]
                return (*rest[:axis], value, *rest[axis:])

            if shown.get(cell(margins[axis])) is None:
                continue
            members = [cell(v) for v in values if v != margins[axis] and cell(v) in column]
            if members:
                assert sum(counts[m] for m in members) >= k, (cell(margins[axis]), members)
                row = np.zeros(len(hidden))
                row[[column[m] for m in members]] = 1
                equations.append(row)
    system = np.array(equations) if equations else np.zeros((0, len(hidden)))
    rank = np.linalg.matrix_rank(system) if equations else 0
    for c in hidden:
        if counts[c] < k:
            unit = np.zeros(len(hidden))
            unit[column[c]] = 1
            assert np.linalg.matrix_rank(np.vstack([system, unit])) > rank, f"{c} can be worked out"
    gaps = api(
        f"/api/v1/waves/{demo_site.small_wave_id}/gaps?area=tiny-area&per_page=1000"
    ).get_json()["items"]
    assert gaps and all(g["mean_client"] is None and g["suppressed"] for g in gaps)


def test_one_status_everywhere_for_every_row_of_the_demo(demo_site, api):
    """DESIGN §4.12: one status per group × dimension × wave, computed once and read by every
    output. For every published scores row of every wave of the demo, the API, the scores
    download, the trends as of that wave and the wave's alerts say the same; the board pack's
    alerts and the dashboard's dimensions table say what the latest wave's rows say."""
    from markupsafe import escape

    from survey_app.services import alerts, results
    from survey_app.services.exports.downloads import build_tables
    from survey_app.services.exports.scope import export_scope
    from survey_app.services.reports.pack import board_pack

    rel = get_relationship(NAME)
    waves = results.closed_waves(rel)
    stored = {
        (r["wave"], r["side"], r["area"], r["dimension"]): r["status"]
        for r in results.published_rows("scores", rel, waves)
        if r["suppressed"] is None
    }
    assert len(stored) > 1000 and {"deteriorating", "watch", "stable"} <= set(stored.values())
    (table,) = build_tables("scores", export_scope(rel))
    names = table.column_names
    at = {c: names.index(c) for c in ("wave", "side", "area", "dimension", "status")}
    download = {
        tuple(row[at[c]] for c in ("wave", "side", "area", "dimension")): row[at["status"]]
        for row in table.rows
    }
    trends = {
        (r["latest_wave"], r["side"], r["area"], r["dimension"]): r["status"]
        for r in results.published_rows("trends", rel, waves)
        if r["suppressed"] is None
    }
    flagged = {
        wave.label: {
            (wave.label, a.side, a.area, a.dimension)
            for a in alerts.wave_alerts(wave)
            if a.kind == "deteriorating"
        }
        for wave in waves
    }
    pack = board_pack(rel, waves[-1])
    assert {
        (waves[-1].label, a.side, a.area, a.dimension)
        for a in pack.alerts
        if a.kind == "deteriorating"
    } == flagged[waves[-1].label]
    rel_id, labels = rel.id, [(w.id, w.label) for w in waves]
    titles = {
        r["dimension"]: r["dimension_title"]
        for r in results.published_rows("scores", rel, waves[-1:])
    }
    for wave_id, label in labels:
        body = api(f"/api/v1/waves/{wave_id}/scores?per_page=1000").get_json()
        from_api = {
            (label, r["side"], r["area"], r["dimension"]): r["status"] for r in body["items"]
        }
        assert flagged[label] == {
            k for k, s in stored.items() if k[0] == label and s == "deteriorating"
        }
        for key, status in stored.items():
            if key[0] == label:
                assert from_api[key] == download[key] == trends.get(key, status) == status, key
    # the trends hide what their own suppression must; every other row agrees above
    assert len(stored.keys() & trends.keys()) > 0.9 * len(stored)
    html = demo_site.client("manager").get(f"/dashboard/{rel_id}/").get_data(as_text=True)
    table_html = html[html.index('id="dimensions"') :]
    latest = labels[-1][1]
    for key, title in titles.items():
        if key == "index":
            continue
        row = table_html[table_html.index(f">{escape(title)}</a>") :]
        row = row[: row.index("</tr>")]
        status = stored[(latest, "all", "_all", key)]
        assert re.findall(r'govuk-tag[^"]*">([^<]+)</strong>', row)[-1] == status.capitalize(), key
