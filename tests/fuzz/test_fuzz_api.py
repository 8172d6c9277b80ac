"""Fuzzing the JSON API: query parameters, Authorization headers, methods and bodies.

Every answer is JSON: 200 with ``items`` for a good query, else 4xx with ``error.message``
(unknown or repeated parameters, bad values, bad tokens, bodies or methods the read-only API does
not take). Nothing is written: the token's day of use is recorded before the examples start.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services.accounts import api_tokens
from tests.fuzz.conftest import FUZZ, assert_clear_refusal, encode, nothing_changes, sign_in
from tests.fuzz.strategies import junk

PARAMS = ["page", "per_page", "side", "area", "dimension", "role_level", "material", "state"]
PARAMS += ["status", "kind", "wave"]
VALUES = ["1", "0", "2", "1000", "1001", "client", "all", "core-ict", "none", "true", "false"]
VALUES += ["closed", "deteriorating", "watch", "index", "senior", "\u00b2", "1" * 5000]

#: Query strings: known and junk parameters with known and junk values.
queries = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(PARAMS), junk),
        st.one_of(st.sampled_from(VALUES), junk),
    ),
    max_size=4,
)


def nested(depth: int) -> bytes:
    """JSON nested ``depth`` deep, written out directly (json.dumps would recurse)."""
    return b'{"a":[' * depth + b"1" + b"]}" * depth


bodies = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.sampled_from([b"{", b"[]", b"null", b'{"a":' * 50, b"\xff\xfe{}"]),
    st.integers(1, 5000).map(nested),
)

headers = st.one_of(
    st.just("valid"),
    st.just("missing"),
    st.sampled_from(
        ["Bearer", "Bearer ", "Bearer rh_", "Bearer rh_" + "A" * 300, "Basic dXNlcjpwYXNz"]
        + ["bearer  two words", "Bearer rh_\u00e9t\u00e9", "Token abc", ""]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
)


def test_fuzz_api(app, world, caplog):
    sign_in(app, "reviewer")
    user = db.session.scalar(db.select(User).where(User.role == "reviewer"))
    token = api_tokens.create_token(user, "fuzz").token
    db.session.commit()
    client = app.test_client()
    paths = [
        "/api/v1/relationships",
        f"/api/v1/relationships/{world.rel.id}/waves",
        f"/api/v1/waves/{world.closed_wave}/scores",
        f"/api/v1/waves/{world.closed_wave}/gaps",
        f"/api/v1/waves/{world.open_wave}/gaps",
        f"/api/v1/relationships/{world.rel.id}/trends",
        f"/api/v1/relationships/{world.rel.id}/alerts",
        f"/api/v1/relationships/{world.rel.id}/targets",
        "/api/v1/portfolio",
        "/api/v1/norms",
        f"/api/v1/waves/{world.closed_wave}/comment-counts",
        f"/api/v1/waves/{world.closed_wave}/relative-weights",
        f"/api/v1/waves/{world.closed_wave}/heat-map",
        f"/api/v1/waves/{world.closed_wave}/margins",
        "/api/v1/relationships/99999999999999999999/waves",
        "/api/v1/waves/0/scores",
        "/api/v1/openapi.json",
        "/api/v1/%00",
        "/api/v1/" + "x/" * 200,
    ]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(paths[0], headers=auth).status_code == 200  # records today's use

    @FUZZ
    @example(path=paths[2], query=[("page", "\u00b2")], header="valid", method="GET", data=None)
    @example(
        path=paths[2], query=[("per_page", "9" * 5000)], header="valid", method="GET", data=None
    )
    @given(
        path=st.sampled_from(paths),
        query=queries,
        header=headers,
        method=st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH"]),
        data=bodies,
    )
    def run(path, query, header, method, data):  # type: ignore[no-untyped-def]
        sent = {}
        if header == "valid":
            sent["Authorization"] = f"Bearer {token}"
        elif header != "missing":
            sent["Authorization"] = header
        url = path + ("?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in query) if query else "")
        with nothing_changes(caplog):
            response = client.open(
                url, method=method, headers=sent, data=data, content_type="application/json"
            )
            assert response.mimetype == "application/json", response.status_code
            if response.status_code == 200:
                assert method == "GET"
                assert "items" in response.get_json() or "openapi" in response.get_json()
            else:
                assert_clear_refusal(response)
                if header not in ("valid", "missing") and "openapi" not in path:
                    assert response.status_code in (401, 404, 405), response.status_code

    run()


def test_fuzz_api_other_relationships_ids(app, world, caplog):
    """A reviewer of the other relationship only, with any query, never reads a thing of the
    fuzzed relationship: 404 (or a refusal of the query itself), never 200, never its name."""
    from survey_app.models import Relationship
    from survey_app.services.accounts.sign_in import ensure_user

    other = db.session.get(Relationship, world.other.id)
    user = ensure_user(
        "scoped.fuzz@council.example",
        name="Scoped",
        role="reviewer",
        password="fuzz passphrase ok",
        relationships=[other],
    )
    token = api_tokens.create_token(user, "fuzz").token
    db.session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/relationships", headers=auth).get_json()  # records today's use
    assert [r["id"] for r in listed["items"]] == [world.other.id]
    theirs = [
        f"/api/v1/relationships/{world.rel.id}/waves",
        f"/api/v1/waves/{world.closed_wave}/scores",
        f"/api/v1/waves/{world.closed_wave}/gaps",
        f"/api/v1/waves/{world.open_wave}/gaps",
        f"/api/v1/waves/{world.draft_wave}/scores",
        f"/api/v1/relationships/{world.rel.id}/trends",
        f"/api/v1/relationships/{world.rel.id}/alerts",
    ]

    @FUZZ
    @given(
        path=st.sampled_from(theirs),
        query=queries,
    )
    def run(path, query):  # type: ignore[no-untyped-def]
        url = path + ("?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in query) if query else "")
        with nothing_changes(caplog):
            response = client.get(url, headers=auth)
            assert response.status_code in (400, 404), (url, response.status_code)
            assert_clear_refusal(response)
            assert world.rel.name not in response.get_data(as_text=True)

    run()
