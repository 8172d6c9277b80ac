"""The floor for the load benchmark: a bare endpoint on the service's own stack.

Flask, Flask-SQLAlchemy, the service's configuration (``DATABASE_URL``, the SQLite
pragmas of ``survey_app.database``: WAL, busy timeout, synchronous=NORMAL) and
the same gunicorn settings — but no templates, sessions, CSRF or business
logic: ``POST /floor`` stores one row and answers a few bytes. Whatever the
survey pages cost beyond this is the application's own.

The table ``bench_floor`` lives only in the benchmark's scratch database;
``create_floor_table`` makes it (``load.py`` calls it before starting the server).

Serve with ``gunicorn -c gunicorn.conf.py 'benchmarks.floor_app:create_app()'``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from survey_app import database
from survey_app.config import Config, normalise_database_url

metadata = MetaData()
floor_rows = Table(
    "bench_floor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("note", String(100), nullable=False),
)
db = SQLAlchemy(metadata=metadata)


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("RELHEALTH_INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    database.init_app(app)
    db.init_app(app)

    @app.post("/floor")
    def store_one_row() -> tuple[str, int]:
        db.session.execute(insert(floor_rows).values(note=request.form.get("note", "")[:100]))
        db.session.commit()
        return "stored\n", 200

    @app.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok\n", 200

    return app


def create_floor_table(database_url: str) -> None:
    engine = create_engine(normalise_database_url(database_url))
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
