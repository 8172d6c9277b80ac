"""Migration 0008 moves users, parties and API tokens to organisations and scoped roles without
losing anybody's access."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from survey_app.extensions import db

MIGRATION = next(
    (Path(__file__).resolve().parent.parent / "migrations" / "versions").glob(
        "*_organisations_access.py"
    )
)
#: The revision before this migration (whatever number the history gives it).
BEFORE = re.search(r"^down_revision = '(\w+)'", MIGRATION.read_text(), re.M).group(1)


def _run(sql: str, **values) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        conn.execute(text(sql), values)


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_global_roles_parties_and_tokens_move_to_the_new_model(app):
    db.session.remove()
    downgrade(revision=BEFORE)
    db.engine.dispose()
    _run("INSERT INTO relationships (id, name) VALUES (1, 'C — S1'), (2, 'C — S2')")
    _run(
        "INSERT INTO parties (relationship_id, name, side) VALUES "
        "(1, 'Council', 'client'), (1, 'Supplier One', 'supplier'), "
        "(2, 'Council', 'client'), (2, 'Supplier Two', 'supplier')"
    )
    _run(
        "INSERT INTO users (id, email, name, role, password_hash, active) VALUES "
        "(1, 'a@x.example', 'A', 'admin', 'h1', true), (2, 'm@x.example', 'M', 'manager', 'h2', true)"
    )
    _run(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
        "VALUES (2, 'bi', :hash, :at)",
        hash="0" * 64,
        at=datetime(2026, 1, 1),
    )
    before = datetime.utcnow()
    upgrade()
    db.engine.dispose()

    assert _rows("SELECT name FROM organisations ORDER BY name") == [
        ("Council",),
        ("Supplier One",),
        ("Supplier Two",),
    ]
    assert _rows(
        "SELECT parties.name, organisations.name FROM parties "
        "JOIN organisations ON organisations.id = parties.organisation_id ORDER BY parties.id"
    ) == [
        ("Council", "Council"),
        ("Supplier One", "Supplier One"),
        ("Council", "Council"),
        ("Supplier Two", "Supplier Two"),
    ]
    # global roles stay, as service-wide roles; passwords stay
    assert _rows("SELECT email, role, password_hash FROM users ORDER BY id") == [
        ("a@x.example", "admin", "h1"),
        ("m@x.example", "manager", "h2"),
    ]
    ((expires, scope),) = _rows("SELECT expires_at, relationship_id FROM api_tokens")
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    assert before + timedelta(days=364) < expires < datetime.utcnow() + timedelta(days=366)
    assert scope is None


def test_downgrade_gives_a_scoped_user_their_lowest_role_and_no_password_an_unusable_one(app):
    db.session.remove()
    _run(
        "INSERT INTO organisations (id, name, allowed_email_domains, group_roles, "
        "local_passwords_allowed) VALUES (1, 'Council', '[]', '{}', true)"
    )
    _run("INSERT INTO relationships (id, name) VALUES (1, 'R1'), (2, 'R2')")
    _run("INSERT INTO users (id, email, name, active) VALUES (1, 'u@x.example', 'U', true)")
    _run(
        "INSERT INTO memberships (user_id, relationship_id, role) "
        "VALUES (1, 1, 'admin'), (1, 2, 'manager')"
    )
    downgrade(revision=BEFORE)
    db.engine.dispose()
    assert _rows("SELECT role, password_hash FROM users") == [("manager", "!")]
    upgrade()
    db.engine.dispose()
