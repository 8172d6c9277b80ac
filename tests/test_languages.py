"""Welsh and English: every marked text has its Welsh, no survey page shows unmarked text, and a
respondent can answer in Welsh, switching language half way without losing an answer.

The completeness check extracts the marked texts from the source exactly as ``pybabel extract``
does (babel.cfg, the keywords in pyproject.toml), so a new ``_()`` without Welsh fails here.
The unmarked-text check renders the survey pages with a pseudo-translation (every catalogue
text wrapped in ‹…›): whatever is left outside the marks once the respondent's own data (names,
the instrument's Welsh wording) is removed is text a translator never saw.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from markupsafe import escape
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from tests.factories import Respondent, csrf_token, radio_names
from tests.pseudo_locale import unmarked, welsh_catalogue

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)s|%\{\w+\}|</?strong>")


def marked_texts() -> set[str]:
    """Every text the source marks for translation, as ``pybabel extract`` would find it."""
    keywords = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["babel"]["keywords"]
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: set[str] = set()
    spec = {k.split(":")[0]: (1, 2) if ":1,2" in k else None for k in keywords}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=spec
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_marked_text_has_a_welsh_translation() -> None:
    catalogue = welsh_catalogue()
    marked = marked_texts()
    assert len(marked) > 80  # the survey journey, the page frame and the error pages at least
    missing = sorted(t for t in marked if t not in catalogue or not catalogue[t].string)
    fuzzy = sorted(t for t in marked if t in catalogue and catalogue[t].fuzzy)
    assert not missing, f"no Welsh for {len(missing)} texts, e.g. {missing[:5]}"
    assert not fuzzy, f"Welsh marked fuzzy (unchecked) for {fuzzy[:5]}"


def test_each_welsh_text_keeps_the_placeholders_and_markup_of_its_english() -> None:
    for message in welsh_catalogue():
        if message.id and message.string:
            # A plural (ngettext) has two English forms and six Welsh ones: each Welsh form
            # keeps the placeholders of the English plural.
            source = message.id[-1] if message.pluralizable else message.id
            forms = message.string if message.pluralizable else (message.string,)
            english = sorted(PLACEHOLDER.findall(source))
            for welsh in forms:
                assert english == sorted(PLACEHOLDER.findall(welsh)), (message.id, welsh)


# ------------------------------------------------------------------ the survey in Welsh


def test_a_respondent_answers_in_english_then_welsh_and_one_response_is_stored(client, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    person = Respondent(client, token)
    person.open()
    person.answer_about(area="core-ict", role="staff")
    assert person.answer_section(1, "4").status_code == 302  # in English

    welsh = client.get("/survey/section/1?lang=cy").get_data(as_text=True)
    assert '<html lang="cy"' in welsh
    assert "Adran 1 o " in welsh and "Cadw a pharhau" in welsh
    assert 'value="4" checked' in welsh  # the answer given in English is still there
    page = client.get("/survey/section/2").get_data(as_text=True)  # the choice is kept
    assert '<html lang="cy"' in page and "Adran 2 o " in page
    total = len(re.findall(r"Adran \d+ o (\d+)", page)[:1]) and int(
        re.search(r"Adran \d+ o (\d+)", page).group(1)
    )
    for number in range(2, total + 1):
        assert person.answer_section(number, "3").status_code == 302
    check = client.get("/survey/check").get_data(as_text=True)
    assert "Gwiriwch eich atebion cyn eu cyflwyno" in check
    done = person.post("/survey/check", {}, follow_redirects=True).get_data(as_text=True)
    assert "Arolwg wedi’i gyflwyno" in done

    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    values = db.session.scalars(select(Answer.value)).all()
    assert values.count(4) == len(radio_names(welsh)) and set(values) == {3, 4}


def test_the_instrument_is_shown_in_the_welsh_the_wave_froze_when_it_opened(client, factory):
    from instruments import find_instrument

    wave = factory.wave()
    assert set(wave.translations) == {"cy"}
    welsh = find_instrument("partnership-health", 1)
    (token,) = factory.tokens(wave)
    client.get(f"/s/{token}?lang=cy")
    Respondent(client, token).answer_about()
    start = client.get("/survey/").get_data(as_text=True)
    assert escape(welsh.title_in("cy")) in start and escape(welsh.title) not in start
    section = client.get("/survey/section/1").get_data(as_text=True)
    assert escape(welsh.dimensions[0].title_in("cy")) in section
    assert escape(welsh.scale.labels_in("cy")[0]) in section


def test_a_wave_that_opened_without_welsh_stays_english_when_welsh_is_asked_for(client, factory):
    wave = factory.wave()
    wave.translations = None
    db.session.commit()
    (token,) = factory.tokens(wave)
    client.get(f"/s/{token}?lang=cy")
    Respondent(client, token).answer_about()
    section = client.get("/survey/section/1").get_data(as_text=True)
    from instruments import find_instrument

    english = find_instrument("partnership-health", 1)
    assert english.dimensions[0].title in section  # the questions: English, as the wave froze
    assert '<html lang="en"' in section and "Save and continue" in section  # never a mix
    assert "Cymraeg" not in section  # and no switch to a language the wave does not offer


def test_errors_and_the_error_summary_are_in_welsh(client, factory):
    wave = factory.wave()
    (token,) = factory.tokens(wave)
    client.get(f"/s/{token}?lang=cy")
    Respondent(client, token).answer_about()
    page = client.get("/survey/section/1").get_data(as_text=True)
    response = client.post("/survey/section/1", data={"csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Mae problem wedi codi" in html and "Dewiswch i ba raddau rydych yn cytuno" in html
    assert "<title>Gwall:" in html
    assert "There is a problem" not in html
    assert client.get("/no-such-page").get_data(as_text=True).count("Heb ddod o hyd") >= 1


# ------------------------------------------------------------------ nothing left unmarked


def test_no_survey_page_shows_text_that_is_not_marked_for_translation(
    pseudo_welsh, client, factory
):
    from survey_app.services.instruments import wave_instrument

    pseudo_welsh.config["SERVICE_NAME_CY"] = "Iechyd y Berthynas"

    wave = factory.wave()
    instrument = wave_instrument(wave)
    (token,) = factory.tokens(wave)
    person = Respondent(client, token)
    client.get(f"/s/{token}?lang=cy")
    allowed = {
        wave.relationship.name,
        wave.label,
        "Test Council",
        "Test Supplier",
        "Core ICT",
        "Contact centre",
        "English",
        "Cymraeg",
        "Iechyd y Berthynas",
        instrument.title_in("cy"),
        instrument.description_in("cy"),
        *instrument.scale.labels_in("cy"),
        instrument.scale.dont_know_label_in("cy"),
        *(d.title_in("cy") for d in instrument.dimensions),
        *(d.description_in("cy") for d in instrument.dimensions),
    }
    pages = ["/survey/", "/survey/about"]
    person.answer_about()
    for number in range(1, len(instrument.dimensions) + 2):
        html = client.get(f"/survey/section/{number}").get_data(as_text=True)
        for side in ("client", "supplier"):
            for item in instrument.items:
                allowed.add(
                    item.text_in(side, "cy", partner="Test Supplier", partner_side="supplier")
                )
            for question in instrument.comments:
                allowed.add(
                    question.text_in(side, "cy", partner="Test Supplier", partner_side="supplier")
                )
        pages.append(f"/survey/section/{number}")
        person.post(f"/survey/section/{number}", {n: "4" for n in radio_names(html)})
    pages += ["/survey/check", "/survey/saved", "/no-such-page"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert not unmarked(html, allowed), (path, unmarked(html, allowed))
