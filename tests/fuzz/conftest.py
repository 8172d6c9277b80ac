"""Fixtures and checks shared by the fuzz tests.

* :data:`FUZZ` — the hypothesis settings of every fuzz test: few examples (the suite runs on
  SQLite and on PostgreSQL inside a tight budget), no deadline, derandomised so that CI is
  reproducible, no example database written to disk.
* :func:`nothing_changes` — around one example: the database digest before and after must be
  equal, and the server must have logged no traceback.
* :func:`assert_clear_refusal` — the answer is 4xx with a clear message: the GOV.UK error
  summary of a form, the error page's title, or a JSON error with a message.

Function-scoped fixtures (the app, the signed-in clients) are shared by all examples of one
test; that is sound because every example proves the database unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from survey_app.extensions import db
from survey_app.services.respondents import (
    AlreadySubmitted,
    NoSurveySession,
    UnknownLink,
    WaveClosed,
    WaveNotOpen,
)
from survey_app.web.errors import TITLES
from tests import factories
from tests.factories import Rel, Respondent, csrf_token, snapshot, text
from tests.fuzz.digest import changed_tables, database_digest

FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
#: Fewer examples where each one is slow (uploads, password checks).
FUZZ_SLOW = settings(FUZZ, max_examples=10)

#: The survey's own refusals (a link that cannot be used), by status.
SURVEY_TITLES: dict[int, set[str]] = {}
for _kind in (UnknownLink, AlreadySubmitted, WaveNotOpen, WaveClosed, NoSurveySession):
    SURVEY_TITLES.setdefault(_kind.status, set()).add(_kind.title)

PASSWORD = "fuzzing passphrase 123"
CSRF_MESSAGE = "This form has expired or was not sent from this service"
FORM_URLENCODED = "application/x-www-form-urlencoded"


# ----------------------------------------------------------------------------- the checks


def tracebacks(records: list[logging.LogRecord]) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}" for r in records if r.exc_info or r.levelno >= logging.ERROR
    ]


@contextmanager
def nothing_changes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The block leaves every table byte-for-byte as it was and logs no error."""
    db.session.remove()
    before = database_digest()
    start = len(caplog.records)
    yield
    db.session.remove()
    after = database_digest()
    assert changed_tables(before, after) == [], "the request changed the database"
    assert tracebacks(caplog.records[start:]) == [], "the server logged an error"


def assert_clear_refusal(response: Any, *messages: str, statuses: tuple[int, ...] = ()) -> str:
    """4xx (never 500) with a clear message; returns the kind: form, page, csrf or json."""
    status = response.status_code
    html = text(response)
    assert 400 <= status < 500, f"answered {status}: {html[:800]}"
    if statuses:
        assert status in statuses, f"answered {status}, expected one of {statuses}: {html[:500]}"
    if response.mimetype == "application/json":
        payload = response.get_json()
        assert isinstance(payload, dict) and isinstance(payload.get("error"), dict), html[:300]
        assert payload["error"].get("message"), html[:300]
        kind = "json"
    elif CSRF_MESSAGE in html:
        assert status == 400
        kind = "csrf"
    elif "govuk-error-summary" in html:
        assert "There is a problem" in html and "<title>Error: " in html, html[:500]
        kind = "form"
    else:
        titles = {TITLES.get(status, "There is a problem"), *SURVEY_TITLES.get(status, ())}
        if status == 404:
            titles.add("Page not found")
        assert any(str(t) in html for t in titles), (
            f"{status} without a clear message: {html[:500]}"
        )
        kind = "page"
    for message in messages:
        assert message in html, f"{message!r} is not in the answer"
    return kind


# ------------------------------------------------------------------------- sending forms


def encode(value: str | bytes) -> str:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


def form_body(pairs: list[tuple[str | bytes, str | bytes]]) -> bytes:
    """An ``application/x-www-form-urlencoded`` body holding any bytes at all (invalid UTF-8,
    lone surrogates), which the test client's own encoder would refuse."""
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs).encode("ascii")


def post_form(client: Any, path: str, pairs: list[tuple[Any, Any]], **kwargs: Any) -> Any:
    return client.post(path, data=form_body(pairs), content_type=FORM_URLENCODED, **kwargs)


def csrf_value(mode: str, valid: str, other: str) -> list[str]:
    """The ``csrf_token`` values sent for ``mode`` (first one wins); only ``valid*`` pass."""
    forged = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
    return {
        "valid": [valid],
        "valid_twice": [valid, "junk"],
        "missing": [],
        "empty": [""],
        "garbage": ["not-a-token"],
        "forged": [forged],
        "other_session": [other],
        "garbage_first": ["junk", valid],
    }[mode]


def csrf_fields(mode: str, valid: str, other: str) -> list[tuple[str, str]]:
    """The ``("csrf_token", value)`` form pairs sent for ``mode`` (see :func:`csrf_value`)."""
    return [("csrf_token", t) for t in csrf_value(mode, valid, other)]


def send_form(client: Any, path: str, mode: str, valid: str, other: str, pairs: list) -> Any:
    """POST ``pairs`` to ``path`` with the ``csrf_token`` values ``mode`` sends."""
    return post_form(client, path, csrf_fields(mode, valid, other) + pairs)


CSRF_MODES = (
    "valid",
    "valid_twice",
    "missing",
    "empty",
    "garbage",
    "forged",
    "other_session",
    "garbage_first",
)
#: About half the examples carry a good token (to reach the form's own checks).
CSRF = st.one_of(st.just("valid"), st.sampled_from(CSRF_MODES))


def csrf_passes(mode: str) -> bool:
    return mode.startswith("valid")


# ------------------------------------------------------------------------------ the world


def cheap_hash(password: str, method: str = "") -> str:
    """A fast password hash for the fuzzers' own accounts (scrypt costs 0.2 s a check)."""
    return generate_password_hash(password, method="pbkdf2:sha256:1")


def sign_in(app: Any, role: str = "admin", email: str | None = None) -> Any:
    with patch("survey_app.models.user.generate_password_hash", cheap_hash):
        return factories.sign_in(
            app,
            role,
            email=email or f"{role}.fuzz@council.example",
            name=f"Fuzz {role}",
            password=PASSWORD,
        )


@dataclass(frozen=True)
class World:
    """A small site: two relationships, waves in each state, an area in use."""

    rel: Rel
    other: Rel
    draft_wave: int
    open_wave: int
    closed_wave: int
    token: str  # an unused survey link on the open wave

    @property
    def used_area(self) -> int:
        """The area the open wave's invitations name (the relationship's first)."""
        return self.rel.area_ids[0]


@pytest.fixture
def world(app, factory) -> World:  # type: ignore[no-untyped-def]
    rel = factory.relationship("Fuzz Council — Fuzz Supplier", areas=["Core ICT", "Contact centre"])
    other = factory.relationship("Other Council — Other Supplier", areas=["Elsewhere"])
    draft = factory.wave(rel, "2024-Q3", state="draft")
    open_ = factory.wave(rel, "2024-Q2", state="open")
    closed = factory.wave(rel, "2024-Q1", state="closed")
    (token,) = factory.tokens(open_, area=rel.service_areas[0])  # invitations name the first area
    return World(
        rel=snapshot(rel),
        other=snapshot(other),
        draft_wave=draft.id,
        open_wave=open_.id,
        closed_wave=closed.id,
        token=token,
    )


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return sign_in(app, "admin")


@pytest.fixture
def manager(app):  # type: ignore[no-untyped-def]
    return sign_in(app, "manager")


@pytest.fixture
def other_csrf(app) -> str:  # type: ignore[no-untyped-def]
    """A genuine CSRF token of another (anonymous) browser's session."""
    return csrf_token(text(app.test_client().get("/sign-in")))


def page_csrf(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return csrf_token(text(response))


def respondent(app: Any, token: str) -> tuple[Any, Respondent]:
    client = app.test_client()
    person = Respondent(client, token)
    assert person.open().status_code == 302
    return client, person


TODAY = date.today()
PAST = TODAY - timedelta(days=1)


def refused(response, mode, statuses=(400,)):  # type: ignore[no-untyped-def]
    """The answer to a form the page must refuse: the CSRF page for a bad token, else the form
    again with its error summary, with one of ``statuses``; which of the two it was."""
    kind = assert_clear_refusal(response)
    if not csrf_passes(mode):
        assert kind == "csrf", response.status_code
    else:
        assert kind == "form", (kind, response.status_code)
        assert response.status_code in statuses, response.status_code
    return kind
