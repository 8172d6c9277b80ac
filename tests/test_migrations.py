"""The schema comes only from the Alembic history, and the history matches the models."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from survey_app.extensions import db
from survey_app.models import Relationship

ROOT = Path(__file__).resolve().parent.parent


def schema_diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_autogenerate_finds_nothing_to_do_after_upgrade(app):
    assert schema_diff() == []


def test_every_revision_downgrades_and_upgrades_again(app):
    db.session.remove()
    downgrade(revision="base")
    db.engine.dispose()
    assert [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"] == []
    upgrade()
    db.engine.dispose()
    assert schema_diff() == []


def test_the_schema_is_never_created_outside_migrations():
    for path in (ROOT / "survey_app").rglob("*.py"):
        assert "create_all(" not in path.read_text(), path


def test_every_revision_has_a_real_downgrade():
    """A downgrade calls Alembic's ``op`` or a shape of ``survey_app.migration_ops``."""
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        source = path.read_text()
        body = source.split("def downgrade():", 1)[1]
        assert re.search(r"\b(op\.\w+|drop_table|drop_column_in_place)\(", body), (
            f"{path.name} has an empty downgrade"
        )


def test_typed_models_select_and_paginate_work_on_this_sqlalchemy(app):
    """STYLE.md: Flask-SQLAlchemy 3.1.1 predates SQLAlchemy 2.1; this notices if that breaks."""
    assert sqlalchemy.__version__.startswith("2.")
    from survey_app.services.relationships import create_relationship

    create_relationship("A — B", client="A", supplier="B", service_areas=["X"])
    db.session.commit()
    page = db.paginate(
        select(Relationship).order_by(Relationship.id), page=1, per_page=10, error_out=False
    )
    assert [r.name for r in page.items] == ["A — B"]
    assert page.total == 1
