"""API tokens carry their owner's scope (or one relationship of it), expire, and stop working
when their owner loses the role."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from survey_app.extensions import db
from survey_app.models import ApiToken, Relationship, User
from survey_app.services import ServiceError
from survey_app.services.accounts import api_tokens
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.accounts.users import set_memberships
from tests.factories import PASSWORD, csrf_token
from tests.factories import sign_in as client_as


@pytest.fixture
def two(factory):  # type: ignore[no-untyped-def]
    """Two relationships, each with a closed wave: (A id, A wave id, B id, B wave id)."""
    ids = []
    for name in ("Council A — Supplier A", "Council B — Supplier B"):
        wave = factory.wave(factory.relationship(name, areas=["Core ICT"]), state="closed")
        ids += [wave.relationship_id, wave.id]
    return tuple(ids)


def _manager_of(relationship_id: int) -> User:
    """An account holding the manager role on that one relationship only."""
    relationship = db.session.get(Relationship, relationship_id)
    return ensure_user(
        "m@a.example", name="M", role="manager", password=PASSWORD, relationships=[relationship]
    )


def _token(user: User, **kwargs) -> str:  # type: ignore[no-untyped-def]
    issued = api_tokens.create_token(user, "script", **kwargs)
    db.session.commit()
    return issued.token


def _get(client, path: str, token: str):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def _listed(client, token: str) -> list[int]:  # type: ignore[no-untyped-def]
    body = _get(client, "/api/v1/relationships", token).get_json()
    return [r["id"] for r in body["items"]]


def test_a_scoped_user_s_token_reads_their_relationship_only(app, client, two):
    a, a_wave, b, b_wave = two

    user = _manager_of(a)
    token = _token(user)
    assert _listed(client, token) == [a]
    assert _get(client, f"/api/v1/relationships/{a}/waves", token).status_code == 200
    assert _get(client, f"/api/v1/waves/{a_wave}/scores", token).status_code == 200
    for path in (
        f"/api/v1/relationships/{b}/waves",
        f"/api/v1/waves/{b_wave}/scores",
        f"/api/v1/waves/{b_wave}/gaps",
        f"/api/v1/relationships/{b}/trends",
        f"/api/v1/relationships/{b}/alerts",
    ):
        response = _get(client, path, token)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_token_made_for_one_relationship_reads_that_one_only(app, client, two):

    a, a_wave, b, b_wave = two
    user = ensure_user("r@a.example", name="R", role="reviewer", password=PASSWORD)  # service-wide
    narrow = _token(db.session.get(User, user.id), relationship=db.session.get(Relationship, b))
    wide = _token(db.session.get(User, user.id))
    assert _listed(client, narrow) == [b]
    assert _listed(client, wide) == [a, b]
    assert _get(client, f"/api/v1/waves/{a_wave}/scores", narrow).status_code == 404
    assert _get(client, f"/api/v1/waves/{b_wave}/scores", narrow).status_code == 200


def test_an_expired_token_is_refused(app, client, two):
    user = ensure_user("r@a.example", name="R", role="reviewer", password=PASSWORD)
    token = _token(user, lifetime_days=1)
    assert _get(client, "/api/v1/relationships", token).status_code == 200
    record = db.session.query(ApiToken).one()
    record.expires_at = datetime.utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _get(client, "/api/v1/relationships", token).status_code == 401


def test_a_token_stops_when_its_owner_loses_the_role(app, client, two):

    a = two[0]
    user = _manager_of(a)
    token = _token(user)
    assert _get(client, "/api/v1/relationships", token).status_code == 200
    set_memberships(db.session.get(User, user.id), {})
    db.session.commit()
    assert _get(client, "/api/v1/relationships", token).status_code == 403


@pytest.mark.parametrize("days", [0, -1, 366])
def test_a_lifetime_beyond_a_year_or_below_a_day_is_refused(app, days):
    user = ensure_user("r@a.example", name="R", role="reviewer", password=PASSWORD)
    with pytest.raises(ServiceError, match="between 1 and 365 days"):
        api_tokens.create_token(user, "script", lifetime_days=days)


def test_the_token_page_offers_only_relationships_in_reach(app, two):

    a, _, b, _ = two
    browser = client_as(
        app, "reviewer", relationships=[db.session.get(Relationship, a)], email="r@a.example"
    )
    page = browser.get("/account/api-tokens/").get_data(as_text=True)
    assert "Council A" in page and "Council B" not in page
    token = csrf_token(page)
    refused = browser.post(
        "/account/api-tokens/",
        data={"csrf_token": token, "name": "x", "days": "30", "reach": str(b)},
    )
    assert refused.status_code == 400
    assert "Select one of the choices listed" in refused.get_data(as_text=True)
    too_long = browser.post(
        "/account/api-tokens/",
        data={"csrf_token": token, "name": "x", "days": "400", "reach": "all"},
    )
    assert "Enter a number of days from 1 to 365" in too_long.get_data(as_text=True)
    made = browser.post(
        "/account/api-tokens/",
        data={"csrf_token": token, "name": "BI", "days": "30", "reach": str(a)},
    )
    assert made.status_code == 200
    assert re.search(r"rh_[A-Za-z0-9_-]{43}", made.get_data(as_text=True))
    record = db.session.query(ApiToken).one()
    assert record.relationship_id == a
    assert timedelta(days=29) < record.expires_at - record.created_at <= timedelta(days=30)
