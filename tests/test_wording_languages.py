"""The worded statuses of a results table in English and Welsh, in one process.

:func:`~survey_app.services.results.wording.worded_rows` looks each template's translation up
once per call; the memo must be keyed by the reader's locale, so a Welsh download after an
English one (and back) is worded in its own language.
"""

from __future__ import annotations

from flask_babel import force_locale, gettext, ngettext

from survey_app.services.results import wording


def _row(change: float) -> dict:
    facts = {"key": "headline.since", "status": "stable", "change": change, "prev": "2024-Q1",
             "now": 61.0, "wave": "2024-Q2"}  # fmt: skip
    return {"side": "client", "area": wording.AREA_ALL, "area_name": "All", "dimension": "trust",
            "status_summary": facts}  # fmt: skip


def _expected(change: int) -> str:
    """The sentence as Flask-Babel words it, one lookup at a time (no memo)."""
    return gettext(
        "%(subject)s: %(status)s — %(headline)s",
        subject=f"Trust, {gettext(wording.SIDE_WORDS['client'])}, {gettext('all service areas')}",
        status=gettext("no clear change"),
        headline=gettext(
            "%(change)s since %(prev)s, now %(now)s out of 100 in %(wave)s",
            change=ngettext("down %(num)d point", "down %(num)d points", change),
            prev="2024-Q1",
            now="61",
            wave="2024-Q2",
        ),
    )


def test_english_and_welsh_rows_are_each_worded_in_their_own_language(app):
    rows = [_row(-1.0), _row(-9.0), _row(-9.0)]
    titles = {"trust": "Trust"}
    worded = {}
    with app.test_request_context("/"):
        for language in ("en", "cy", "en", "cy"):
            with force_locale(language):
                got = [r["status_summary"] for r in wording.worded_rows("scores", rows, titles)]
                assert got == [_expected(1), _expected(9), _expected(9)], language
                worded.setdefault(language, got)
                assert got == worded[language]
    assert "no clear change" in worded["en"][0] and "down 1 point" in worded["en"][0]
    assert "dim newid clir" in worded["cy"][0] and "i lawr 9 pwynt" in worded["cy"][1]
    assert worded["en"] != worded["cy"]
