"""The staff pages in Welsh: every dashboard, actions, targets and downloads page type rendered
signed in with a pseudo-translation shows no text a translator never saw (tests/pseudo_locale.py),
and the real Welsh reaches the page, its charts and their tables.

On the ``demo_site`` fixture (the demo's 14 closed waves, alerts, actions and comments, and a
small relationship). What a page may show untranslated is data, listed in ``_allowed``: names
of the relationships, parties, areas and people, wave labels, the instrument's own Welsh
wording, and what people wrote. The sentences about the results — statuses' summaries,
evidence and "How we know" lines, hot spots, margins' notes — are stored as facts and worded in
the reader's language (``survey_app/services/results/wording.py``), and so are the tables'
reasons for a figure not shown or not computed: they are *not* allowed here, so any English
left in them fails the test.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Action, Comment, CommentTheme, Relationship, User
from survey_app.services import alerts, exports, reports
from survey_app.services.instruments import wave_instrument
from survey_app.services.results import closed_waves
from tests.pseudo_locale import pseudo_translation, unmarked

#: Names a page shows as they are (formats, tests, the service's commands).
TECHNICAL = {
    *("SVG", "PNG", "CSV", "JSON", "EWMA", "CUSUM", "API", "English", "Cymraeg"),
    *exports.TABLES,  # the tables' names, as their files are named
    "all",
    "Relationship Health",
}
#: The date input's part labels (web/fields.py), marked on the i17-admin branch: drop this once
#: it is merged.
PENDING = {"Day", "Month", "Year"}


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _main(html: str) -> str:
    """The page's own content (the frame around it, header and navigation, is every page's
    and is checked with the account pages, tests/test_staff_languages.py)."""
    found = re.search(r"<main\b.*</main>", html, flags=re.S)
    assert found, "no <main> element"
    return found.group(0)


def _allowed() -> set[str]:
    allowed = TECHNICAL | PENDING
    for rel in db.session.scalars(select(Relationship)):
        allowed.add(rel.name)
        allowed |= {p.name for p in rel.parties} | {a.name for a in rel.service_areas}
        names = {p.side: p.name for p in rel.parties}
        for wave in closed_waves(rel):
            allowed.add(wave.label)
            instrument = wave_instrument(wave)
            language = instrument.resolve_language("cy")
            for d in instrument.dimensions:
                allowed |= {d.title_in(language), d.description_in(language)}
            for side, partner in (("client", "supplier"), ("supplier", "client")):
                fill = {"partner": names.get(partner, ""), "partner_side": partner}
                allowed |= {i.text_in(side, language, **fill) for i in instrument.items}
                allowed |= {q.text_in(side, language, **fill) for q in instrument.comments}
    allowed |= {u.name for u in db.session.scalars(select(User))}
    for action in db.session.scalars(select(Action)):
        allowed |= {action.what, action.owner, action.created_by}
    allowed |= {c.text for c in db.session.scalars(select(Comment))}
    # a comment theme's name is made of its comments' own words: data, like the comments
    allowed |= {t.name for t in db.session.scalars(select(CommentTheme))}
    return {a for a in allowed if a}


def test_the_dashboard_its_charts_and_their_tables_are_in_welsh(demo_site):
    """(Runs before the pseudo-translation below is installed for the module.)"""
    client = demo_site.client("manager")
    rel = demo_site.relationship_id
    english = _page(client, f"/dashboard/{rel}/dimension/innovation")
    welsh = _page(client, f"/dashboard/{rel}/dimension/innovation?lang=cy")
    assert '<html lang="cy"' in welsh and "Dros amser" in welsh and "Over time" not in welsh
    # the chart's title, description and table come in Welsh (not the English cached first)
    assert "Arloesi dros amser: staff y cleient, pob maes gwasanaeth" in welsh
    assert "Innovation over time: client staff" in english
    assert "y cyfartaledd symudol â phwysiad esbonyddol (EWMA)" in welsh
    assert ">Cyfwng hyder 95%</th>" in welsh and ">95% CI</th>" in english
    page = _page(client, f"/dashboard/{rel}/")
    assert "Mynegai iechyd y berthynas" in page and "Beth sydd angen sylw" in page


def test_the_alerts_evidence_and_how_we_know_are_worded_in_welsh(demo_site):
    """The statuses' sentences are stored as facts when a wave closes and worded in the
    reader's language (issue 17): the Welsh dashboard shows every alert's summary, evidence
    and "How we know" lines in Welsh, and none of the English ones the English page shows.
    (Runs before the pseudo-translation below is installed for the module.)"""
    client = demo_site.client("manager")
    url = f"/dashboard/{demo_site.relationship_id}/"
    relationship = db.session.get(Relationship, demo_site.relationship_id)
    with force_locale("en"):
        english = alerts.relationship_alerts(relationship, status=None)
    with force_locale("cy"):
        welsh = alerts.relationship_alerts(relationship, status=None)
    assert {a.kind for a in english} == {"deteriorating", "gap_widening"}
    en_page = html.unescape(_main(_page(client, url + "?lang=en")))
    cy_page = html.unescape(_main(_page(client, url + "?lang=cy")))
    shown = 0
    for en, cy in zip(english, welsh, strict=True):
        assert en.reference == cy.reference
        for en_line, cy_line in zip(
            (en.summary, *en.evidence, *en.how), (cy.summary, *cy.evidence, *cy.how), strict=True
        ):
            assert en_line != cy_line, en_line  # every sentence has its own Welsh
            if en_line in en_page:
                shown += 1
                assert cy_line in cy_page, cy_line
                assert en_line not in cy_page, en_line
    assert shown > 20
    for english_words in (
        "getting worse",
        "The recent level",
        "Since 2012-Q2",
        "against the baseline",
    ):
        assert english_words in en_page and english_words not in cy_page
    assert "yn gwaethygu" in cy_page and "bwlch canfyddiad yn lledu" in cy_page
    assert "Mae’r lefel ddiweddar" in cy_page and "terfynau rheoli" in cy_page


def _pdf_words(pdf: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The text ``pdftotext`` reads from a PDF without its white space (lines wrap anywhere,
    even after a dash)."""
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler) is not installed")
    out = subprocess.run([tool, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True)
    return "".join(out.stdout.decode("utf-8").split())


def test_the_welsh_board_packs_alerts_and_evidence_are_in_welsh(demo_site, tmp_path):
    """The board pack words the stored facts in its own language (issue 17): the Welsh pack
    prints the alerts' evidence in Welsh, with none of the English sentences the English pack
    prints. (Runs before the pseudo-translation below is installed for the module.)"""
    relationship = db.session.get(Relationship, demo_site.relationship_id)
    wave = closed_waves(relationship)[-1]
    with force_locale("en"):
        english = alerts.wave_alerts(wave)
    with force_locale("cy"):
        welsh = alerts.wave_alerts(wave)
    en_text = _pdf_words(reports.build_board_pack(relationship, wave, language="en"), tmp_path)
    cy_text = _pdf_words(reports.build_board_pack(relationship, wave, language="cy"), tmp_path)
    printed = {"en": 0, "cy": 0}
    for en, cy in zip(english, welsh, strict=True):
        for en_line, cy_line in zip(en.evidence, cy.evidence, strict=True):
            en_line, cy_line = "".join(en_line.split()), "".join(cy_line.split())
            printed["en"] += en_line in en_text
            printed["cy"] += cy_line in cy_text
            assert en_line not in cy_text, en_line
    assert printed["en"] >= 10 and printed["cy"] >= 10, printed
    for words in ("Therecentlevel", "surveyssince", "Aseriesthatisnotchanging"):
        assert words in en_text and words not in cy_text
    assert "Mae’rlefelddiweddar" in cy_text and "bwlchcanfyddiadynlledu" in cy_text


@pytest.fixture(scope="module")
def pseudo_site(demo_site, tmp_path_factory):
    with (
        demo_site.app.app_context(),
        pseudo_translation(demo_site.app, tmp_path_factory.mktemp("pseudo")),
    ):
        yield demo_site


def test_no_staff_page_shows_text_that_is_not_marked_for_translation(pseudo_site):
    rel, small = pseudo_site.relationship_id, pseudo_site.small_id
    pages = {
        "manager": [
            "/dashboard/",
            "/dashboard/how-we-know",
            f"/dashboard/{rel}/",
            f"/dashboard/{rel}/?side=client&area=contact-centre&role_level=manager",
            f"/dashboard/{rel}/?wave=2011-Q3",
            f"/dashboard/{rel}/dimension/innovation",
            f"/dashboard/{rel}/dimension/trust?side=supplier",
            f"/dashboard/{rel}/comments",
            f"/dashboard/{small}/",
            "/actions/",
            f"/actions/{rel}/",
            f"/actions/{rel}/targets",
            f"/actions/{rel}/new",
        ],
        "reviewer": ["/downloads/", f"/downloads/{rel}/", f"/downloads/{rel}/?wave=2012-Q3"],
    }
    allowed = _allowed()
    for role, urls in pages.items():
        client = pseudo_site.client(role)
        _page(client, "/dashboard/?lang=cy" if role == "manager" else "/downloads/?lang=cy")
        for url in urls:
            html = _page(client, url)
            assert '<html lang="cy"' in html, url
            assert not unmarked(_main(html), allowed), (url, unmarked(_main(html), allowed))
