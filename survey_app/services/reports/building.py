"""Building the board pack: its HTML from the template, the PDF, the file and its audit.

:func:`build_board_pack` is the one entry point (the ``relhealth report`` command and the
dashboard's download call it). It is a plain function of a relationship and a closed wave
returning bytes, so a background job can run it as it is: the job would load both by id,
call :func:`prepare_board_pack`, keep the :class:`BoardPackFile` for the user and
:func:`record_board_pack` (see ``survey_app/web/dashboard/files.py`` for the seam).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from flask_babel import force_locale, format_date

from survey_app.models import Relationship, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.dashboard.charts import Chart, standalone_svg
from survey_app.services.mailing.messages import service_name
from survey_app.services.reports.pack import BoardPack, board_pack
from survey_app.services.reports.pdf import html_to_pdf
from survey_app.services.reports.summary import alert_headline
from survey_app.services.results import EWMA_LAMBDA

#: The languages a board pack is written in, with the language tag of the PDF and its HTML.
LANGUAGES = {"en": "en-GB", "cy": "cy-GB"}
MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class BoardPackFile:
    """A board pack as a file: its name, media type and bytes."""

    filename: str
    media_type: str
    data: bytes


def build_board_pack(relationship: Relationship, wave: Wave, *, language: str = "en") -> bytes:
    """The board pack of a closed wave of the relationship, as a tagged PDF (PDF/UA-1).

    Raises ServiceError for a wave that is not a closed wave of the relationship, or a
    language the pack is not written in.
    """
    # Every word of the pack — its template, summary, charts and tables — in ``language``,
    # whatever the language of the page or command that asks for it.
    with force_locale(_language(language)):
        pack = board_pack(relationship, wave, language=language)
        return html_to_pdf(
            board_pack_html(pack),
            stylesheet=render_template("reports/board_pack.css"),
            title=pack.title,
            language=LANGUAGES[pack.language],
        )


def prepare_board_pack(
    relationship: Relationship, wave: Wave, *, language: str = "en"
) -> BoardPackFile:
    """:func:`build_board_pack` as a named file: ``board-pack-<relationship id>-<wave>.pdf``."""
    data = build_board_pack(relationship, wave, language=language)
    return BoardPackFile(board_pack_filename(relationship, wave), MEDIA_TYPE, data)


def board_pack_filename(relationship: Relationship, wave: Wave) -> str:
    label = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in wave.label)
    return f"board-pack-{relationship.id}-{label}.pdf"


def record_board_pack(
    relationship: Relationship, wave: Wave, *, actor: User | str, language: str = "en"
) -> None:
    """Write the board pack's download to the audit log, as every download is."""
    audit.record(
        "download",
        actor=actor,
        relationship=relationship.id,
        table="board_pack",
        format="pdf",
        wave=wave.label,
        language=language,
    )


def board_pack_html(pack: BoardPack) -> str:
    """The HTML of the pack, which WeasyPrint prints (also handy to look at in a browser)."""
    return render_template(
        "reports/board_pack.html",
        pack=pack,
        lang=LANGUAGES[pack.language],
        service_name=service_name(pack.language),
        ewma_lambda=EWMA_LAMBDA,
        chart_uri=chart_uri,
        long_date=long_date,
        signed=signed,
        p_value=p_value,
        alert_headline=alert_headline,
    )


def chart_uri(chart: Chart) -> str:
    """The chart as a ``data:`` URI of its standalone SVG, for an ``<img>``."""
    svg = standalone_svg(chart).encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def long_date(value: date | datetime) -> str:
    """A date as GOV.UK writes it, in the pack's language: 5 January 2026, 5 Ionawr 2026."""
    return format_date(value, "d MMMM y")


def signed(value: float | None, decimals: int) -> str:
    """A change with its sign, and a true minus sign."""
    if value is None:
        return ""
    return f"{value:+.{decimals}f}".replace("-", "−")


def p_value(value: float | None) -> str:
    if value is None:
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _language(language: str) -> str:
    if language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise ServiceError(f"the board pack is written in {known}, not {language!r}")
    return language
