"""tests/snapshots.py: data built once and copied back is the data a fresh build makes."""

from __future__ import annotations

import uuid

from survey_app.extensions import db
from tests.conftest import empty_tables
from tests.demo_site import build_small_wave
from tests.snapshots import built_once, snapshot_rows, tables_are_empty, trim_to_held


def never() -> tuple[int, int]:
    raise AssertionError("built again: the copy was not used")


def test_the_copy_is_the_build_row_for_row_and_new_rows_come_after_it(app, factory):  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    built = built_once(key, build_small_wave)
    rows = snapshot_rows()
    db.session.commit()
    assert sum(len(values) for _, values in rows.values()) > 100
    empty_tables(db)
    assert tables_are_empty()

    assert built_once(key, never) == built
    assert snapshot_rows() == rows
    # Ids go on after the copied rows (PostgreSQL's sequences were moved past them).
    relationship_id, _ = built
    assert factory.relationship("Later Council — Later Supplier").id > relationship_id


def test_into_tables_that_are_not_empty_it_builds_afresh(app, factory):  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    built_once(key, build_small_wave)
    empty_tables(db)
    factory.relationship()  # a test made data first: the copied ids would clash
    calls = []

    def build() -> str:
        calls.append(1)
        return "fresh"

    assert built_once(key, build) == "fresh" and calls == [1]


def test_emptied_tables_are_empty_and_start_their_ids_again(app, factory):  # type: ignore[no-untyped-def]
    first = factory.wave().id
    db.session.commit()  # the session's read transaction ends (as the app fixture's does)
    empty_tables(db)
    assert tables_are_empty()
    assert factory.wave().id == first


def test_trimmed_back_the_rows_are_the_build_and_it_is_not_copied_again(app, factory):  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    built = built_once(key, build_small_wave)
    rows = snapshot_rows()
    db.session.commit()
    factory.relationship("Later Council — Later Supplier")  # what a test reading it adds
    factory.respondent(app.test_client())  # rows in most tables, the ones with ids at least
    db.session.commit()
    assert snapshot_rows() != rows

    assert trim_to_held()
    assert snapshot_rows() == rows
    assert built_once(key, never) == built  # still there: neither copied nor built


def test_a_held_build_that_lost_rows_is_not_trimmed_back(app):  # type: ignore[no-untyped-def]
    from survey_app.models import Response

    built_once(uuid.uuid4().hex, build_small_wave)
    first = db.session.scalars(db.select(Response).limit(1)).one()
    db.session.delete(first)  # (and its answers): rows the build made are gone
    db.session.commit()
    assert not trim_to_held()
    empty_tables(db)
    assert not trim_to_held()  # emptied: nothing is held any more
