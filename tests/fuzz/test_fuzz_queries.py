"""Fuzzing query strings and URL values of every page a signed-in admin may GET (so every GET
route in the url map), the filters of the dashboard and downloads pages, and every GET route
with another relationship's ids as an admin of one relationship only.

A page answers 200, a redirect, or a clear 4xx — never 500 — and a GET changes nothing, except
a download, which legitimately writes one audit event before its first byte (asserted
exactly). The board pack is a POST that starts a job (tests/fuzz/test_fuzz_jobs.py).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, FUZZ_SLOW, assert_clear_refusal, encode, nothing_changes
from tests.fuzz.digest import changed_tables, database_digest, table_rows
from tests.fuzz.strategies import junk

FILTERS = ["side", "area", "role_level", "wave", "return", "next", "relationship", "alert"]
FILTER_VALUES = ["", "client", "supplier", "core-ict", "none", "staff", "2024-Q1", "x"]


def query_strings() -> st.SearchStrategy[str]:
    pairs = st.lists(
        st.tuples(
            st.one_of(st.sampled_from(FILTERS), junk),
            st.one_of(st.sampled_from(FILTER_VALUES), junk),
        ),
        max_size=4,
    )
    raw = st.sampled_from(
        ["", "?", "?&&", "?=", "?a", "?%", "?%zz", "?a=%FF%FE", "?" + "a=1&" * 300]
    )
    return st.one_of(
        pairs.map(lambda ps: "?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in ps)), raw
    )


def get_routes(app):  # type: ignore[no-untyped-def]
    """Every GET rule but static files: (endpoint, rule string, converters)."""
    return sorted(
        (rule.endpoint, rule.rule, dict(rule._converters))
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    )


def test_fuzz_every_get_route(app, admin, world, caplog):
    ids = [world.rel.id, world.other.id, world.open_wave, world.closed_wave, world.rel.area_ids[0]]
    ids += [0, 999_999, 2**31, 2**63, 10**40]
    texts = ["partnership-health", "client", "supplier", "scores", "csv", "index"]
    texts += ["%00", "%FF", "..", "%C0%AF", "%ED%A0%80", "x" * 300, "\u00e9"]

    def fill(rule: str, converters: dict) -> st.SearchStrategy[str]:  # type: ignore[type-arg]
        parts = {
            name: st.sampled_from(ids).map(str)
            if type(conv).__name__ in ("IdConverter", "IntegerConverter")
            else st.sampled_from(texts).map(lambda t: t if "%" in t else encode(t))
            for name, conv in converters.items()
        }

        @st.composite
        def build(draw: st.DrawFn) -> str:
            url = rule
            for name, values in parts.items():
                url = url.replace(f"<{_spec(rule, name)}>", draw(values))
            return url

        return build()

    routes = get_routes(app)

    @FUZZ
    @given(data=st.data())
    def run(data):  # type: ignore[no-untyped-def]
        endpoint, rule, converters = data.draw(st.sampled_from(routes))
        url = data.draw(fill(rule, converters)) + data.draw(query_strings())
        if endpoint == "downloads.download":
            return  # writes an audit event: test_fuzz_downloads
        with nothing_changes(caplog):
            response = admin.get(url)
            response.close()
            if response.status_code >= 400:
                assert_clear_refusal(response)
            else:
                assert response.status_code in (200, 302), (url, response.status_code)

    run()


def _spec(rule: str, name: str) -> str:
    start = rule.index(f":{name}>") if f":{name}>" in rule else rule.index(f"<{name}>")
    begin = rule.rindex("<", 0, start + 1)
    end = rule.index(">", begin)
    return rule[begin + 1 : end]


def test_fuzz_dashboard_filters(app, admin, world, caplog):
    @FUZZ_SLOW  # each dashboard page reads every stored result
    @given(
        page=st.sampled_from(
            [f"/dashboard/{world.rel.id}/", f"/dashboard/{world.rel.id}/dimension/index"]
        ),
        query=query_strings(),
    )
    def run(page, query):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            response = admin.get(page + query)
            if response.status_code != 200:
                kind = assert_clear_refusal(response, statuses=(400, 404))
                if response.status_code == 400:
                    assert kind == "form"

    run()


def test_fuzz_downloads(app, admin, world, caplog):
    """A download's only effect is its audit event; a bad wave or table is 404."""

    @FUZZ
    @given(
        table=st.sampled_from(["scores", "gaps", "responses", "codebook", "all", "nope", "%00"]),
        fmt=st.sampled_from(["csv", "xlsx", "json", "sav", "exe", ""]),
        query=query_strings(),
    )
    def run(table, fmt, query):  # type: ignore[no-untyped-def]
        from survey_app.extensions import db

        db.session.remove()
        before = database_digest()
        events = table_rows("audit_events")
        start = len(caplog.records)
        response = admin.get(f"/downloads/{world.rel.id}/{table}.{fmt}{query}")
        response.get_data()
        db.session.remove()
        changed = changed_tables(before, database_digest())
        if response.status_code == 200:
            assert changed == ["audit_events"]
            after = table_rows("audit_events")
            assert after[: len(events)] == events and len(after) == len(events) + 1
        else:
            assert_clear_refusal(response, statuses=(400, 404))
            assert changed == []
        assert [r for r in caplog.records[start:] if r.exc_info] == []

    run()


def test_fuzz_chart_downloads(app, admin, world, caplog):
    """A chart the page shows downloads under valid filters; anything else is a clear 404."""

    @FUZZ
    @given(
        key=st.one_of(
            st.sampled_from(
                ["gaps-all", "heat-all", "trend-client-all-index", f"rates-{world.open_wave}"]
            ),
            st.sampled_from(["nope", "trend-client-all-nope", "x" * 300]),
            junk.map(encode),
        ),
        fmt=st.sampled_from(["svg", "png", "gif", "SVG", "%00"]),
        query=query_strings(),
    )
    def run(key, fmt, query):  # type: ignore[no-untyped-def]
        with nothing_changes(caplog):
            response = admin.get(f"/dashboard/{world.rel.id}/charts/{key}.{fmt}{query}")
            if response.status_code == 200:
                assert response.mimetype in ("image/svg+xml", "image/png")
            else:
                assert_clear_refusal(response, statuses=(404,))

    run()


#: Public on purpose, or answered by their own fuzzers: a relationship's privacy notice (what
#: its respondents read), the API (tokens, not sessions: test_fuzz_api_other_relationships_ids).
NOT_SCOPED_BY_SESSION = ("pages.relationship_privacy", "api.", "static")


def test_fuzz_every_get_route_with_another_relationship_s_ids(app, world, caplog):
    """An admin of the *other* relationship only sends every GET route the ids of this one's
    relationship, waves, areas and job, with fuzzed filters: a route naming them answers 403
    or 404, and no page they reach shows this relationship's name."""
    from unittest.mock import patch

    from survey_app.database import write_transaction
    from survey_app.extensions import db
    from survey_app.models import Relationship
    from survey_app.services import jobs
    from survey_app.services.accounts.sign_in import ensure_user
    from tests import factories
    from tests.fuzz.conftest import PASSWORD, cheap_hash

    with write_transaction():
        operator = ensure_user(
            "operator.fuzz@council.example", name="Operator", role="admin", password="x" * 20
        )
        job = jobs.submit_job(
            "jobs.check",
            requested_by=operator,
            relationship=db.session.get(Relationship, world.rel.id),
        ).id
    with patch("survey_app.models.user.generate_password_hash", cheap_hash):
        scoped = factories.sign_in(
            app, "admin", email="scoped.fuzz@council.example", password=PASSWORD,
            relationships=[db.session.get(Relationship, world.other.id)],
        )  # fmt: skip
    theirs = {
        "relationship_id": [world.rel.id],
        "wave_id": [world.draft_wave, world.open_wave, world.closed_wave],
        "area_id": list(world.rel.area_ids),
        "job_id": [job],
    }
    routes = [
        (endpoint, rule, converters)
        for endpoint, rule, converters in get_routes(app)
        if not endpoint.startswith(NOT_SCOPED_BY_SESSION)
        and not rule.startswith(("/api/", "/s/", "/survey"))
    ]
    values = ["partnership-health", "client", "scores", "csv", "v1", "1"]
    queries = st.one_of(
        query_strings(),
        st.sampled_from(["relationship", "wave", "area"]).flatmap(
            lambda name: st.sampled_from(
                [str(world.rel.id), "2024-Q1", "core-ict", world.rel.name]
            ).map(lambda value: f"?{name}={encode(value)}")
        ),
    )

    @settings(FUZZ, max_examples=60)
    @given(data=st.data())
    def run(data):  # type: ignore[no-untyped-def]
        endpoint, rule, converters = data.draw(st.sampled_from(routes))
        url, named = rule, False
        for name in converters:
            if name in theirs:
                value, named = data.draw(st.sampled_from(theirs[name])), True
            else:
                value = data.draw(st.sampled_from(values))
            url = url.replace(f"<{_spec(rule, name)}>", encode(str(value)))
        url += data.draw(queries)
        with nothing_changes(caplog):
            response = scoped.get(url)
            body = response.get_data(as_text=True)
            response.close()
        if named:
            assert response.status_code in (403, 404), (url, response.status_code)
        assert world.rel.name not in body, (url, response.status_code)

    run()
