"""JSON columns: written by orjson, read back as :func:`json.dumps`' text would read.

The engine's encoder (``survey_app.database.json_text``) is checked through a scratch table with a JSON column on the test database itself, so the
dialect's own JSON handling (SQLite's text, PostgreSQL's ``json``) is in the path.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from survey_app.database import json_text
from survey_app.extensions import db


@pytest.fixture
def probe(app):
    """A table with one JSON column, made for the test and dropped after it."""
    table = Table(
        "json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("value", JSON)
    )
    table.create(db.engine)
    try:
        yield table
    finally:
        db.session.rollback()
        table.drop(db.engine)


def _round_trip(table: Table, value):
    with db.engine.begin() as conn:
        key = conn.execute(insert(table).values(value=value)).inserted_primary_key[0]
    with db.engine.connect() as conn:
        return conn.execute(select(table.c.value).where(table.c.id == key)).scalar_one()


def test_floats_integers_and_text_read_back_exactly(probe):
    rng = np.random.default_rng(7)
    floats = [float(v) for v in rng.standard_normal(2_000) * 10.0 ** rng.integers(-12, 12, 2_000)]
    value = {
        "floats": floats + [0.1, 1e-5, 1e16, 5e-324, 1.7976931348623157e308, -0.0],
        "ints": [0, -1, 2**63 - 1, -(2**63)],
        "text": ["Gwasanaeth Birmingham — ŵ ŷ", "a\u2028b", '"quoted"\n'],
        "nothing": None,
    }
    back = _round_trip(probe, value)
    assert back == value
    assert [math.copysign(1.0, v) for v in back["floats"]] == [
        math.copysign(1.0, v) for v in value["floats"]
    ]


def test_numpy_scalars_and_whole_keys_are_written_as_json_would_write_numbers(probe):
    back = _round_trip(
        probe, {"n": np.int64(41), "mean": np.float64(3.25), "codes": np.array([1, 2]), 7: "seven"}
    )
    assert back == {"n": 41, "mean": 3.25, "codes": [1, 2], "7": "seven"}
    assert type(back["n"]) is int and type(back["mean"]) is float


def test_missing_numbers_are_stored_as_null_on_every_database(probe):
    assert _round_trip(probe, [1.0, math.nan, math.inf, -math.inf]) == [1.0, None, None, None]


def test_an_integer_beyond_64_bits_is_still_written_and_read(probe):
    big = 2**80 + 1
    assert _round_trip(probe, {"big": big, "list": [big, -big]}) == {
        "big": big,
        "list": [big, -big],
    }


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_encoder_reads_back_what_json_reads_back(value):
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))
