"""The API conforms to its own OpenAPI document: a property-based run of schemathesis finds
nothing.

Schemathesis reads ``/api/v1/openapi.json`` and, for every operation, sends requests the
document allows (they must be answered 2xx or 404 — never a 400 for a value the document
says is fine) and requests it forbids (they must be refused with a 4xx), with every check
it has: status codes, content types and bodies against the declared schemas (``date-time``
formats included), a 401 without the token, a 405 with ``Allow`` for a method the document
does not declare, and no server error. It runs as a client would: over HTTP, against the app
served on a loopback port in this process (schemathesis' in-process WSGI transport cannot
send its no-token probe), authenticated with a reviewer's bearer token, seeded and with a
fixed number of examples per operation, so that a run is repeatable and takes well under a
minute. Raise ``MAX_EXAMPLES`` for a longer hunt.

Runs on the demo (14 closed waves with alerts, an open wave) and the small wave of
``tests/test_dashboard.py``, loaded once for the module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services.accounts import api_tokens
from survey_app.web.api import routes
from survey_app.web.api.openapi import document

SEED = 20261203
#: Examples per operation in the fuzzing phase (the coverage phase adds its own boundary
#: and invalid values, a fixed set).
MAX_EXAMPLES = 12


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass


@pytest.fixture(scope="module")
def served(demo_site) -> Iterator[str]:
    """The app on a loopback port, for the length of the module: its base URL."""
    server = make_server("127.0.0.1", 0, demo_site.app, threaded=False, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def token(demo_site) -> str:
    reviewer = db.session.scalar(
        select(User).where(User.role == "reviewer", User.email.like("%@demo.example"))
    )
    issued = api_tokens.create_token(reviewer, "conformance")
    db.session.commit()
    return issued.token


@dataclass
class Run:
    """What a schemathesis run found: its failures and errors, and what it tried."""

    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: operation label -> status codes answered
    statuses: dict[str, set[int]] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)

    def report(self) -> str:
        return "\n\n".join(self.failures + self.errors)


def run_schemathesis(
    base_url: str, token: str, *, max_examples: int, operation_id: str | None = None
) -> Run:
    """Every phase and check of schemathesis against the served API (one operation, or all)."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": max_examples, "database": "none"},
            "cache": {"enabled": False},
            "workers": 1,
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", config=config)
    if operation_id is not None:
        schema = schema.include(operation_id=operation_id)
    run = Run()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(run, event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{getattr(event, 'label', '')}: {_error_text(event)}")
    return run


def _record(run: Run, event: events.ScenarioFinished) -> None:
    seen = set()
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            run.checked.add(check.name)
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (event.label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            where = event.label or f"{event.phase.value} phase"
            run.failures.append(
                f"{where} — {check.name}: {failure.title}\n{failure.message}\n"
                f"{check.failure_info.code_sample}"
            )
    for case_id, interaction in event.recorder.interactions.items():
        if interaction.response is not None and event.label:
            run.statuses.setdefault(event.label, set()).add(interaction.response.status_code)


def _error_text(event: events.NonFatalError | events.FatalError) -> str:
    info = getattr(event, "info", None)
    return info.format() if info is not None else repr(getattr(event, "exception", event))


def test_the_api_conforms_to_its_openapi_document(served, token):
    run = run_schemathesis(served, token, max_examples=MAX_EXAMPLES)
    assert not run.failures and not run.errors, run.report()
    # The run exercised every operation (but the one serving the document, which schemathesis
    # leaves out: tests/test_api.py checks it), with answers that had data in them ...
    operations = {
        f"{method.upper()} {path}"
        for path, methods in document()["paths"].items()
        for method in methods
        if path != "/openapi.json"
    }
    assert operations == set(run.statuses), operations ^ set(run.statuses)
    for label, statuses in run.statuses.items():
        assert 200 in statuses, (label, statuses)
    # ... and refusals: bad values (400), no token (401), a method it does not take (405).
    everything = set().union(*run.statuses.values())
    assert {200, 400, 401, 404, 405} <= everything, everything
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
    } <= run.checked, run.checked


def test_the_conformance_run_finds_a_timestamp_without_an_offset(served, token, monkeypatch):
    # The run can fail: with the defect it was written for put back (naive ISO timestamps,
    # which are not RFC 3339 date-times), it finds it.
    monkeypatch.setattr(routes, "_timestamp", lambda moment: moment and moment.isoformat())
    run = run_schemathesis(served, token, max_examples=2, operation_id="listWaves")
    assert any(
        "response_schema_conformance" in f and 'is not a "date-time"' in f for f in run.failures
    ), run.report()
