"""Fixtures: a real database per test run (SQLite file or a fresh PostgreSQL database).

``DATABASE_URL`` selects the server: unset or SQLite → a temporary SQLite file;
a PostgreSQL URL → a new database ``relhealth_test_<random>`` is created on that
server, migrated with ``upgrade`` (never ``create_all``), and dropped at the end.
Each test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule

from survey_app.config import normalise_database_url
from tests.demo_site import load_demo_site
from tests.factories import Respondent, sign_in
from tests.pseudo_locale import pseudo_welsh  # noqa: F401 (a fixture: the pages in a pseudo-Welsh)
from tests.snapshots import forget_held, trim_to_held

#: Fixtures the job and mailing tests share (woken, queue, spawn).
pytest_plugins = ["tests.job_support"]

TEST_SECRET = "test-secret-key-not-for-production"


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url and url.startswith(("postgres://", "postgresql")):
        return normalise_database_url(url)
    return None


#: Test accounts' passwords: still scrypt, at 1/32 of the production cost (N=1024), because the
#: suite creates and signs in hundreds of accounts. test_auth checks the production default.
TEST_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 (a method name)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    from survey_app.models import user

    production = user.PASSWORD_HASH_METHOD
    user.PASSWORD_HASH_METHOD = TEST_PASSWORD_HASH_METHOD
    yield
    user.PASSWORD_HASH_METHOD = production


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = _server_url()
    if server is None:
        path = tmp_path_factory.mktemp("db") / "relhealth-test.sqlite3"
        yield f"sqlite:///{path}"
        return
    import psycopg

    admin = make_url(server)
    name = f"relhealth_test_{secrets.token_hex(6)}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # A commit returns without waiting for its WAL record to reach the disk: visibility,
        # locks and isolation are unchanged (only a server crash could lose the last commits,
        # of a database dropped at the end anyway). Under a loaded disk every test's commits
        # otherwise wait on fsync.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _SharedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the whole run: every test makes a new app, whose Jinja
    environment would otherwise compile each GOV.UK macro template again (about 0.25 s of every
    test's first page). A template whose source changes is compiled afresh (Jinja checks)."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedBytecodeCache()


_BUILDERS: dict[tuple[Any, ...], Any] = {}
_compile_builder = Rule._compile_builder


def _shared_url_builder(self: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
    """Werkzeug's ``Rule._compile_builder``, its result kept for the whole run: every test
    makes a new app, whose ~100 URL rules would otherwise each have two builder functions
    generated as Python source and compiled again (about 90% of ``create_app``). The function
    made is a pure function of the rule's parsed parts (``_trace``), the names of its defaults
    and ``append_unknown``; it reaches its converters only through the rule it is bound to.
    A rule with a default for one of its own variables has that value's ``to_url`` folded into
    the code, so it is compiled afresh every time."""
    defaults = self.defaults or {}
    if any(dynamic and part in defaults for dynamic, part in self._trace):
        return _compile_builder(self, append_unknown)
    key = (append_unknown, self.rule, tuple(self._trace), tuple(defaults))
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _compile_builder(self, append_unknown)
    return builder


@pytest.fixture(scope="session", autouse=True)
def shared_url_builders() -> Iterator[None]:
    Rule._compile_builder = _shared_url_builder  # type: ignore[method-assign]
    yield
    Rule._compile_builder = _compile_builder  # type: ignore[method-assign]


def make_app(database_url: str, instance: Path, **overrides: Any):
    from survey_app import create_app

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_BASE_URL": "http://survey.test",
        "SERVER_NAME": None,
        # Jobs run in the process that starts them, at once (tests/test_jobs_worker.py runs
        # real workers with a real queue).
        "JOB_QUEUE_IMMEDIATE": True,
        # Admins sign in without setting up a TOTP code first (tests/test_second_factor.py
        # turns it on).
        "ADMIN_SECOND_FACTOR": False,
    }
    config.update(overrides)
    os.environ["RELHEALTH_INSTANCE_PATH"] = str(instance)
    app = create_app(config)
    app.jinja_env.bytecode_cache = _TEMPLATES
    app.test_client_class = RequestScopedClient
    return app


class RequestScopedClient(FlaskClient):
    """A test client whose every request behaves as in production, although the test
    holds an application context open: ``g`` starts empty and the database session
    is removed afterwards (as Flask-SQLAlchemy's teardown would)."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        from survey_app.extensions import db

        saved = dict(g.__dict__) if has_app_context() else {}
        if has_app_context():
            g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                db.session.remove()
                g.__dict__.clear()
                g.__dict__.update(saved)


@pytest.fixture(scope="session")
def migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, brought to the latest revision by Alembic once per run."""
    from flask_migrate import upgrade

    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        from survey_app.extensions import db

        db.engine.dispose()
    return database_url


@contextmanager
def running_app(
    database_url: str, instance: Path, keep: Callable[[], bool] = lambda: False, **overrides: Any
) -> Iterator[Any]:
    """An app (:func:`make_app`) inside its application context; its tables are emptied
    when the context ends, unless ``keep()`` says they were left as the next test needs them."""
    from survey_app.extensions import db

    app = make_app(database_url, instance, **overrides)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            if not keep():
                empty_tables(db)
            db.engine.dispose()


#: The test pytest runs after this one (None after the last), for ``app``'s teardown.
_NEXT_ITEM = pytest.StashKey["pytest.Item | None"]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    item.stash[_NEXT_ITEM] = nextitem
    return (yield)


def _reads_demo(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("reads_demo") is not None


@pytest.fixture
def app(migrated: str, tmp_path: Path, request: pytest.FixtureRequest):
    """An app on empty tables, emptied again afterwards. A test marked ``reads_demo`` (it reads
    the demo, ``built_once`` in :mod:`tests.snapshots`, and only adds rows) followed by another
    so marked leaves the demo in the tables for it, less the rows it added (``trim_to_held``):
    copying the demo's 170,000 rows back costs seconds, trimming a few milliseconds. Run alone,
    or before any other test, it empties the tables as usual."""

    def keep() -> bool:
        following = request.node.stash.get(_NEXT_ITEM, None)
        return _reads_demo(request.node) and _reads_demo(following) and trim_to_held()

    with running_app(migrated, tmp_path / "instance", keep) as app:
        yield app


@pytest.fixture(scope="module")
def demo_site(migrated: str, tmp_path_factory: pytest.TempPathFactory):
    """The demo and a small closed wave (:mod:`tests.demo_site`), loaded once for a module with
    an app of its own; a module using it must not use ``app``, which empties the tables."""
    with running_app(migrated, tmp_path_factory.mktemp("demo-instance")) as app:
        yield load_demo_site(app)


def empty_tables(db) -> None:  # type: ignore[no-untyped-def]
    """Delete every row (a module-scoped app of its own empties its tables with this)."""
    forget_held()
    deletes = [f"DELETE FROM {t.name}" for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # DELETE, then every sequence back to 1 (as SQLite starts again after emptying a
            # table): ten times faster than TRUNCATE ... RESTART IDENTITY on tables this small.
            # One round trip (psycopg sends a text without parameters as one simple query).
            reset = "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"
            conn.exec_driver_sql("; ".join([*deletes, reset]))
        else:
            for delete in deletes:
                conn.exec_driver_sql(delete)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(app):
    """Signs in to ``app``: ``auth("manager")`` is a new test client signed in as a manager
    (:func:`tests.factories.sign_in`, which takes the same keywords)."""

    def signed_in(role: str = "admin", **account: str):  # type: ignore[no-untyped-def]
        return sign_in(app, role, **account)

    return signed_in


@pytest.fixture
def admin(auth):
    """A test client signed in as an administrator (``auth("admin")``)."""
    return auth("admin")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def dialect(app) -> str:
    from survey_app.extensions import db

    return db.engine.dialect.name


# ----------------------------------------------------------------- factories


class Factory:
    """Builds domain objects through the service layer, committing like a request would."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    def relationship(
        self, name: str = "Test Council — Test Supplier", areas: list[str] | None = None
    ):
        from survey_app.extensions import db
        from survey_app.services.relationships import create_relationship

        rel = create_relationship(
            name,
            client="Test Council",
            supplier="Test Supplier",
            service_areas=areas if areas is not None else ["Core ICT", "Contact centre"],
        )
        db.session.commit()
        return rel

    def wave(self, relationship=None, label: str = "2024-Q1", state: str = "open"):  # type: ignore[no-untyped-def]
        from survey_app.extensions import db
        from survey_app.services.waves import close_wave, create_wave, open_wave

        relationship = relationship or self.relationship()
        wave = create_wave(relationship, label)
        if state in ("open", "closed"):
            open_wave(wave)
        if state == "closed":
            close_wave(wave)
        db.session.commit()
        return wave

    def respondent(self, client, *, about: bool = True) -> Respondent:  # type: ignore[no-untyped-def]
        """A person with a link to a new open wave, who has opened it in ``client`` (and, if
        ``about``, answered the about page with its defaults)."""
        (token,) = self.tokens(self.wave())
        person = Respondent(client, token)
        person.open()
        if about:
            person.answer_about()
        return person

    def tokens(self, wave, side: str = "client", n: int = 1, area=None, role=None) -> list[str]:  # type: ignore[no-untyped-def]
        from survey_app.extensions import db
        from survey_app.services.invitations import issue_invitations

        issued = issue_invitations(wave, side, n, service_area=area, role_level=role)
        db.session.commit()
        return [inv.token for inv in issued]


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)
