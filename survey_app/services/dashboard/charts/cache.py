"""Rendered charts and other derived views of closed waves, kept per results version.

:class:`ChartCache` keeps rendered charts (and other derived payloads, e.g. the role-level
cuts of a wave) as JSON files under ``<instance>/chart-cache/<relationship id>/<results
version>/``. The *results version* (:func:`results_version`) is a hash of the relationship's
stored result tables (their ids and computation times): ``relhealth recompute`` and the
closing of a wave replace those rows, so the version changes and every cached chart of the
relationship is invalidated at once; older version folders are deleted when the new version
writes its first file. A key also holds the closed wave, the chart's parameters, the
confidentiality threshold in force, the reader's language (a chart's words are in it)
and :data:`CHARTS_VERSION`. Files are written atomically
(temporary file, then rename), so concurrent workers at worst render the same chart twice.
An open wave's response-rate chart is never cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import get_babel, get_locale
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Relationship, ResultTable
from survey_app.services.dashboard.charts.model import Chart
from survey_app.services.dashboard.charts.svg import png_wanted
from survey_app.services.results import min_cell_size

#: Bump when a chart's drawing or its table changes: cached charts of another version are ignored.
CHARTS_VERSION = "3"


def results_version(relationship: Relationship) -> str:
    """A fingerprint of the relationship's stored results: it changes whenever they are rebuilt.

    The names the charts print (parties, service areas) are part of it too, so a renamed
    area is not drawn under its old name.
    """
    rows = db.session.execute(
        select(
            ResultTable.id,
            ResultTable.wave_id,
            ResultTable.name,
            ResultTable.analysis_version,
            ResultTable.computed_at,
        )
        .where(ResultTable.relationship_id == relationship.id)
        .order_by(ResultTable.id)
    ).all()
    digest = hashlib.sha256()
    names = [relationship.name]
    names += [f"{p.side}={p.name}" for p in relationship.parties]
    names += [f"{a.key}={a.name}" for a in relationship.service_areas]
    digest.update(repr(names).encode("utf-8"))
    for row in rows:
        digest.update(repr(tuple(row)).encode("utf-8"))
    return digest.hexdigest()[:20]


def words_version() -> str:
    """The reader's language and the version of its catalogue (the compiled file's time): a
    chart's words are in it, and a new translation must not be served from an old drawing."""
    language = str(get_locale() or "en")
    stamps = [
        str(path.stat().st_mtime_ns)
        for folder in get_babel().translation_directories
        for path in [Path(folder) / language / "LC_MESSAGES" / "messages.mo"]
        if path.exists()
    ]
    return ":".join([language, *stamps])


def cache_root() -> Path:
    configured = current_app.config.get("CHART_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "chart-cache"


@dataclass
class ChartCache:
    """Derived views of one relationship's closed waves, kept per results version.

    ``chart(...)`` and ``payload(...)`` return the cached value for a key, else build it,
    store it and return it. Keys are (wave id, name, parameters, k, :data:`CHARTS_VERSION`).
    """

    relationship_id: int
    version: str
    root: Path = field(default_factory=cache_root)

    @classmethod
    def of(cls, relationship: Relationship) -> ChartCache:
        return cls(relationship.id, results_version(relationship))

    @property
    def folder(self) -> Path:
        return self.root / str(self.relationship_id) / self.version

    def path(self, wave_id: int, name: str, params: dict[str, Any]) -> Path:
        key = json.dumps(
            {
                "params": params,
                "k": min_cell_size(),
                "charts": CHARTS_VERSION,
                "language": words_version(),  # a chart's words are in one language
            },
            sort_keys=True,
            default=str,
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{wave_id}-{name}-{digest}.json"

    def payload(
        self, wave_id: int, name: str, params: dict[str, Any], build: Callable[[], Any]
    ) -> Any:
        path = self.path(wave_id, name, params)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            pass
        value = build()
        self._write(path, json.dumps(value, separators=(",", ":")))
        return value

    def chart(
        self, wave_id: int, name: str, params: dict[str, Any], render: Callable[[], Chart]
    ) -> Chart:
        data = self.payload(wave_id, name, params, lambda: render().to_dict())
        if png_wanted(data["key"]):
            render()  # a PNG of this chart is asked for: draw it again (svg.drawn_as_png)
        return Chart.from_dict(data)

    def _write(self, path: Path, text: str) -> None:
        folder = path.parent
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            self._drop_other_versions()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _drop_other_versions(self) -> None:
        parent = self.folder.parent
        for other in parent.iterdir():
            if other.is_dir() and other.name != self.version:
                shutil.rmtree(other, ignore_errors=True)


def invalidate(relationship: Relationship) -> None:
    """Forget every cached chart of a relationship (results rebuilt outside this process)."""
    shutil.rmtree(cache_root() / str(relationship.id), ignore_errors=True)
