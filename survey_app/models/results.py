"""Persisted results of closed waves, so that a dashboard, a download or the API never recomputes.

Layout: one row per (wave, table). ``columns`` names the table's columns once and ``rows``
holds the table as a JSON list of lists in that column order (NaN stored as ``null``).

Why JSON blobs rather than one relational table per result table:

* A wave's tables are written once, when it closes, and always read whole (a dashboard page,
  a download, an API call for a wave); nobody queries "every cell with alpha < 0.7 across
  relationships" in SQL. One row per table reads and writes in one round trip: a ten-year,
  million-response history is 40 waves x 7 tables = 280 rows, not hundreds of thousands.
* The tables are wide (up to ~50 columns) and will gain columns as the analysis grows; with
  the column list stored beside the rows, a new column needs no migration and an old result
  set stays readable. ``analysis_version`` says which analysis produced it, so a stale set can
  be spotted and rebuilt with ``relhealth recompute``.
* The cell counts (``n`` columns) are stored, never suppressed: confidentiality is applied at
  output time with the threshold then in force (DESIGN §4.14), by
  ``survey_app.services.results.suppress_rows``.

Relationship-level tables (``trends``) are stored under each closed wave, as they stood when
it closed (the "as of" wave); the relationship's trends are those of its latest closed wave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, RelationshipId, WaveId

RESULT_SCOPES = ("wave", "relationship")


class ResultTable(Base):
    """One computed table (``scores``, ``items``, ...) of one closed wave."""

    __tablename__ = "result_tables"
    __table_args__ = (UniqueConstraint("wave_id", "name"),)

    id: Mapped[IntPk]
    relationship_id: Mapped[RelationshipId]
    #: The wave the table belongs to; for a relationship-level table, the wave it is as of.
    wave_id: Mapped[WaveId]
    name: Mapped[str] = mapped_column(String(40))
    #: ``wave`` (the table describes one wave) or ``relationship`` (all closed waves so far).
    scope: Mapped[str] = mapped_column(String(12), default="wave")
    analysis_version: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime]
    #: The smallest cell (k) in force when computed: trend inputs below it were left out.
    min_cell_size: Mapped[int]
    n_rows: Mapped[int]
    columns: Mapped[list[str]] = mapped_column(JSON)
    rows: Mapped[list[list[Any]]] = mapped_column(JSON)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dictionaries keyed by column name."""
        names = list(self.columns)
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def __repr__(self) -> str:
        return f"<ResultTable {self.name} wave={self.wave_id} rows={self.n_rows}>"


class CommentTheme(Base):
    """One theme of the comments of one group of a closed wave (issue 16 part 4).

    Computed once, when the wave closes (``survey_app.services.results.themes``), for each
    free-text question and each group the comments page can show — a side (or both) × a
    service area (or all) — whose published comments number at least
    ``MIN_COMMENT_CELL_SIZE``. ``n_comments`` is how many comments were grouped: a page shows
    the themes only while it shows that many comments for the group, so that a later change
    of the threshold never shows themes of comments the page would not show.
    """

    __tablename__ = "comment_themes"
    __table_args__ = (UniqueConstraint("wave_id", "question_key", "side", "area_key", "rank"),)

    id: Mapped[IntPk]
    wave_id: Mapped[WaveId]
    question_key: Mapped[str] = mapped_column(String(60))
    #: ``client``, ``supplier`` or ``all``.
    side: Mapped[str] = mapped_column(String(12))
    #: A service area's key, or ``_all`` for every area.
    area_key: Mapped[str] = mapped_column(String(60))
    #: Comments grouped (the group's published comments when the wave closed).
    n_comments: Mapped[int]
    #: ``embedding`` or ``tfidf`` (analysis.themes).
    method: Mapped[str] = mapped_column(String(12))
    #: 0 for the largest theme of the group.
    rank: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    words: Mapped[list[str]] = mapped_column(JSON)
    count: Mapped[int]
    #: Two representative comments (one when the theme has one).
    examples: Mapped[list[str]] = mapped_column(JSON)
    computed_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<CommentTheme {self.name!r} wave={self.wave_id} n={self.count}>"


class ReleasedGroup(Base):
    """How one group of a closed wave's raw responses is released in the ``responses`` download.

    A group is the responses of one side × service area × role level (as given: area or role
    blank when not given). ``survey_app.services.results.release`` computes the k-anonymous
    recoding of the wave's groups once, when its results are stored (at close and on
    ``relhealth recompute``), because it depends only on the wave's responses, its k and the
    cells its results show — and auditing it against those cells takes a linear program per
    small group, far too slow for every download (benchmarks/README.md, *Export*).
    """

    __tablename__ = "released_groups"

    id: Mapped[IntPk]
    wave_id: Mapped[WaveId]
    side: Mapped[str] = mapped_column(String(8))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    role_level: Mapped[str | None] = mapped_column(String(20))
    #: Responses in the group.
    n_responses: Mapped[int]
    #: The wave's k the recoding was computed with (a wave given a new k is recomputed).
    min_cell_size: Mapped[int]
    #: Released as "Other" on that quasi-identifier.
    side_generalised: Mapped[bool]
    area_generalised: Mapped[bool]
    role_generalised: Mapped[bool]
    #: Left out of the download (its stratum, the wave, holds fewer than k responses).
    withheld: Mapped[bool]

    def __repr__(self) -> str:
        return f"<ReleasedGroup wave={self.wave_id} {self.side} {self.service_area_id} {self.role_level}>"
