"""Instruments in more than one language: translation files, completeness, the fallback rule and
the frozen form a wave keeps."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings

from instruments import (
    INSTRUMENTS_DIR,
    LANGUAGES,
    SOURCE_LANGUAGE,
    InstrumentError,
    available_instruments,
    find_instrument,
    instrument_from_dict,
    load_instrument,
    load_instrument_text,
    translation_files,
    with_translations,
)
from tests.factories import any_wording, wording_for_sides
from tests.instruments.examples import example_table, example_text

FROZEN = Path(__file__).parent / "frozen"

# The content hash of partnership-health v1 as main's code computed it before instruments had
# languages (commit 8e54a4e; the same literal is pinned in test_v1_instrument.py). The frozen
# definition beside this test, frozen/partnership-health-v1.json, is that code's `to_dict()`
# of v1, written by running main's instruments package (from `git show 8e54a4e:instruments/...`)
# in a scratch folder: it is what a wave froze into the database before Welsh existed.
MAIN_V1_CONTENT_HASH = "a9d77d35c17cc0e741165342e40ca15ad8d43dc6ca7dc7af1a18b3e96e63d51e"

#: A small definition and its Welsh translation (examples/bilingual.yaml, bilingual.cy.yaml).
ENGLISH = example_text("bilingual.yaml")

WELSH = example_text("bilingual.cy.yaml")


def welsh(**changes) -> dict:
    """The WELSH translation as a dict, with top-level fields replaced (None removes one)."""
    translation = yaml.safe_load(WELSH)
    for name, value in changes.items():
        if value is None:
            translation.pop(name, None)
        else:
            translation[name] = value
    return translation


def bilingual(translation: dict | str | None = None):
    text = WELSH if translation is None else translation
    if isinstance(text, dict):
        text = yaml.safe_dump(text, allow_unicode=True, sort_keys=False)
    return load_instrument_text(ENGLISH, source="small.yaml", translations={"cy": text})


def problems_with(translation: dict) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        bilingual(translation)
    return caught.value.problems


# --- a complete translation -------------------------------------------------------------------


def test_a_complete_translation_gives_every_text_in_welsh():
    survey = bilingual()

    assert survey.languages == ("en", "cy")
    assert survey.title_in("cy") == "Arolwg bach"
    assert survey.description_in("cy") == "Arolwg byr am y bartneriaeth."
    assert survey.dimension("trust").title_in("cy") == "Ymddiriedaeth"
    assert survey.dimension("trust").description_in("cy") == "Mae pob ochr yn cadw at ei gair."
    assert survey.dimension("commitment").description_in("cy") == ""
    assert survey.scale.labels_in("cy")[0] == "Anghytuno'n gryf"
    assert survey.scale.label(5, "cy") == "Cytuno'n gryf"
    assert survey.scale.dont_know_label_in("cy") == "Ddim yn gwybod"
    assert survey.item("tr1").text_in("supplier", "cy", partner="Cyngor Sir Powys") == (
        "Mae Cyngor Sir Powys yn cadw ei addewidion i ni."
    )
    assert survey.item("tr1").wording_in("cy")["client"] == (
        "Mae {partner} yn cadw ei addewidion i'r cyngor."
    )
    assert survey.comment("comment_improve").text_in("client", "cy", partner="P") == (
        "Beth fyddai'n gwella gwaith y cyngor gyda staff P fwyaf?"
    )


def test_the_english_accessors_are_unchanged_by_a_translation():
    english_only = load_instrument_text(ENGLISH)
    survey = bilingual()

    assert survey.title == english_only.title == survey.title_in("en")
    assert survey.scale.labels == english_only.scale.labels == survey.scale.labels_in("en")
    assert survey.scale.label(1) == "Strongly disagree"
    assert survey.scale.dont_know_label == "Don't know"
    assert survey.dimension("trust").title == "Trust"
    for item in survey.items:
        assert item.wording == english_only.item(item.key).wording == item.wording_in("en")
        assert item.text("client", partner="P") == item.text_in("client", "en", partner="P")
    assert english_only.languages == ("en",)


def test_adding_a_language_changes_neither_the_content_hash_nor_equality():
    english_only = load_instrument_text(ENGLISH)
    survey = bilingual()

    assert survey.content_hash == english_only.content_hash
    assert survey.to_dict() == english_only.to_dict()
    assert survey == english_only
    assert hash(survey) == hash(english_only)


def test_welsh_wording_is_normalised_like_english():
    translation = welsh()
    translation["items"]["tr1"]["client"] = "  Mae {partner}   yn cadw\nei addewidion i'r cyngor. "
    assert bilingual(translation).item("tr1").wording_in("cy") == bilingual().item(
        "tr1"
    ).wording_in("cy")


def test_a_translated_instrument_stays_frozen_and_hashable():
    survey = bilingual()
    with pytest.raises(dataclasses.FrozenInstanceError):
        survey.item("tr1").translations = ()
    assert isinstance(survey.item("tr1").translations, tuple)
    assert {survey: 1}[bilingual()] == 1


# --- completeness: what is missing is named ---------------------------------------------------


def entry(translation: dict, path: str) -> tuple[dict, str]:
    """The mapping that holds the entry at a dotted path (e.g. "items.tr2.supplier"), and its key."""
    *parents, key = path.split(".")
    for name in parents:
        translation = translation[name]
    return translation, key


def without(path: str) -> dict:
    """WELSH with the entry at a dotted ``path`` removed."""
    translation = welsh()
    node, key = entry(translation, path)
    del node[key]
    return translation


#: Texts left out of a translation and the problems each must raise
#: (examples/missing_translations.yaml).
MISSING = example_table("missing_translations.yaml")


@pytest.mark.parametrize("missing", MISSING, ids=[missing["missing"] for missing in MISSING])
def test_a_missing_welsh_text_is_named_by_file_part_key_side_and_language(missing):
    expected = [f"small.cy.yaml: {line}" for line in missing["problems"]]
    assert problems_with(without(missing["path"])) == expected


def test_a_translation_with_no_items_lists_every_missing_statement():
    problems = problems_with(welsh(items={}))
    assert len(problems) == 4 * 2
    assert "small.cy.yaml: item 'co2': missing cy wording for side 'supplier'" in problems


#: Faults in a translation and the problem each must raise (examples/translation_faults.yaml).
FAULTS = example_table("translation_faults.yaml")


def changed(path: str, value) -> dict:  # type: ignore[no-untyped-def]
    """The WELSH translation with the field at the dotted ``path`` set to ``value``."""
    translation = welsh()
    node, key = entry(translation, path)
    node[key] = value
    return translation


@pytest.mark.parametrize("fault", FAULTS, ids=[fault["fault"] for fault in FAULTS])
def test_other_faults_in_a_translation(fault):
    translation = changed(fault["path"], fault["value"])
    if fault["problem"] is None:
        assert bilingual(translation).item("tr1").wording_in("cy")["client"]
        return
    assert problems_with(translation) == [f"small.cy.yaml: {fault['problem']}"]


def test_a_translation_of_another_definition_says_how_to_put_it_right():
    english = load_instrument_text(ENGLISH).content_hash[:12]
    assert problems_with(welsh(translates="0" * 64)) == [
        "small.cy.yaml: 'translates' names definition 000000000000, but this definition is "
        f"{english}: the English has changed since it was translated, or this translation belongs "
        "to another version. Check the translation against the English, then update 'translates'"
    ]


def test_translates_may_name_the_definition_it_translates():
    english_hash = load_instrument_text(ENGLISH).content_hash
    assert bilingual(welsh(translates=english_hash)).languages == ("en", "cy")


def test_every_fault_of_a_translation_is_collected_before_raising():
    translation = welsh(title=None)
    del translation["items"]["tr2"]["client"]
    translation["scale"]["labels"] = ["Na"]
    assert problems_with(translation) == [
        "small.cy.yaml: missing cy 'title'",
        "small.cy.yaml: scale: cy 'labels' has 1 entries but the scale has 5 points",
        "small.cy.yaml: item 'tr2': missing cy wording for side 'client'",
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "unknown language 'fr' (languages: cy)"),
        ("cym", "unknown language 'cym' (did you mean 'cy'?) (languages: cy)"),
        ("en", "'en' is the language of the definition itself; only other languages are "
               "translations"),
    ],
)  # fmt: skip
def test_only_known_languages_other_than_english_can_be_translations(language, expected):
    with pytest.raises(InstrumentError) as caught:
        load_instrument_text(ENGLISH, source="small.yaml", translations={language: WELSH})
    assert caught.value.problems == [f"small.{language}.yaml: {expected}"]


def test_a_definition_with_faults_is_reported_before_its_translations():
    broken = ENGLISH.replace("dimension: trust\n", "dimension: trsut\n", 1)
    with pytest.raises(InstrumentError) as caught:
        load_instrument_text(broken, source="small.yaml", translations={"cy": "title: [oops\n"})
    assert caught.value.problems == [
        "small.yaml: item 'tr1': unknown dimension 'trsut' (did you mean 'trust'?)",
        "small.yaml: dimension 'trust': has 1 item; every dimension needs at least 2",
    ]


def test_duplicate_keys_in_a_translation_are_reported():
    text = WELSH.replace("title: Arolwg bach\n", "title: Arolwg bach\ntitle: Eto\n", 1)
    with pytest.raises(InstrumentError) as caught:
        bilingual(text)
    assert caught.value.problems == [
        "small.cy.yaml: duplicate field 'title' at line 3 (first at line 2)"
    ]


def test_a_yaml_syntax_error_in_a_translation_names_the_translation():
    with pytest.raises(InstrumentError, match=r"^small\.cy\.yaml: line 2, column 1: YAML syntax"):
        bilingual("title: [oops\n")


# --- the fallback rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "offered", "translated", "expected"),
    [
        ("cy", None, True, "cy"),
        ("cy", ("en", "cy"), True, "cy"),
        ("cy", ("en",), True, "en"),  # a wave that offers only English never shows Welsh
        ("cy", ("en", "cy"), False, "en"),  # a frozen copy without Welsh cannot show Welsh
        ("cy", None, False, "en"),
        ("en", ("en", "cy"), True, "en"),
        ("en", ("cy",), True, "en"),  # English is always there to fall back on
        (None, ("en", "cy"), True, "en"),
        ("fr", ("en", "cy", "fr"), True, "en"),
        ("CY", ("en", "cy"), True, "en"),  # codes are exact; the web layer normalises
        ("", None, True, "en"),
    ],
)
def test_resolve_language_falls_back_to_english_unless_offered_and_carried(
    requested, offered, translated, expected
):
    survey = bilingual() if translated else load_instrument_text(ENGLISH)
    assert survey.resolve_language(requested, offered) == expected


def test_no_text_falls_back_on_its_own_for_a_language_not_carried():
    english_only = load_instrument_text(ENGLISH)
    calls = [
        lambda: english_only.title_in("cy"),
        lambda: english_only.description_in("cy"),
        lambda: english_only.dimension("trust").title_in("cy"),
        lambda: english_only.scale.labels_in("cy"),
        lambda: english_only.scale.label(1, "cy"),
        lambda: english_only.scale.dont_know_label_in("cy"),
        lambda: english_only.item("tr1").text_in("client", "cy", partner="P"),
        lambda: english_only.comment("comment_improve").wording_in("cy"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"no 'cy' text \(languages: en\)$"):
            call()
    with pytest.raises(ValueError, match=r"^item 'tr1': no 'fr' text \(languages: en, cy\)$"):
        bilingual().item("tr1").wording_in("fr")


def test_every_language_has_a_name_in_itself_and_english_is_the_source():
    assert SOURCE_LANGUAGE == "en"
    assert dict(LANGUAGES) == {"en": "English", "cy": "Cymraeg"}
    assert next(iter(LANGUAGES)) == SOURCE_LANGUAGE


# --- the frozen form a wave keeps ------------------------------------------------------------


def every_text(survey, language: str) -> list[str]:
    """Every text of `survey` in `language`, read through the public accessors."""
    texts = [survey.title_in(language), survey.description_in(language)]
    texts += [*survey.scale.labels_in(language), survey.scale.dont_know_label_in(language)]
    for dimension in survey.dimensions:
        texts += [dimension.title_in(language), dimension.description_in(language)]
    for part in (*survey.items, *survey.comments):
        texts += [part.text_in(side, language, partner="P") for side in ("client", "supplier")]
    return texts


def test_frozen_translations_round_trip_with_the_same_texts_and_hashes():
    survey = bilingual()
    stored_definition = json.loads(json.dumps(survey.to_dict()))
    stored_translations = json.loads(json.dumps(survey.translations_to_dict(["en", "cy"])))

    rebuilt = instrument_from_dict(stored_definition, translations=stored_translations)

    assert list(stored_translations) == ["cy"]  # English is the definition itself
    assert stored_translations["cy"]["translates"] == survey.content_hash
    assert rebuilt == survey
    assert rebuilt.content_hash == survey.content_hash
    assert rebuilt.languages == ("en", "cy")
    assert rebuilt.translation_hash("cy") == survey.translation_hash("cy")
    assert rebuilt.translations_to_dict() == survey.translations_to_dict()
    assert every_text(rebuilt, "cy") == every_text(survey, "cy")
    assert every_text(rebuilt, "en") == every_text(survey, "en")


def test_the_frozen_translation_has_the_shape_of_a_translation_file():
    frozen = bilingual().translations_to_dict()["cy"]
    assert frozen["items"]["tr1"] == {
        "client": "Mae {partner} yn cadw ei addewidion i'r cyngor.",
        "supplier": "Mae {partner} yn cadw ei addewidion i ni.",
    }
    assert frozen["dimensions"]["commitment"] == {"title": "Ymrwymiad i barhau", "description": ""}
    assert frozen["scale"]["dont_know_label"] == "Ddim yn gwybod"
    # so a frozen translation can be written out as a file and loads as one
    text = yaml.safe_dump(frozen, allow_unicode=True)
    assert bilingual(text).translation_hash("cy") == bilingual().translation_hash("cy")


def test_the_translation_hash_is_sha256_of_the_canonical_json_of_the_frozen_translation():
    survey = bilingual()
    canonical = json.dumps(
        survey.translations_to_dict()["cy"],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert survey.translation_hash("cy") == hashlib.sha256(canonical.encode()).hexdigest()


def test_changing_welsh_changes_the_translation_hash_but_not_the_content_hash():
    changed = welsh()
    changed["items"]["tr1"]["client"] = "Mae {partner} bob amser yn cadw ei addewidion."
    before, after = bilingual(), bilingual(changed)
    assert after.content_hash == before.content_hash
    assert after.translation_hash("cy") != before.translation_hash("cy")


def test_with_translations_attaches_a_wave_s_frozen_welsh_to_a_frozen_definition():
    frozen_definition = instrument_from_dict(load_instrument_text(ENGLISH).to_dict())
    wave_translations = bilingual().translations_to_dict(["cy"])

    shown = with_translations(frozen_definition, wave_translations)

    assert frozen_definition.languages == ("en",)
    assert shown.languages == ("en", "cy")
    assert shown == frozen_definition
    assert every_text(shown, "cy") == every_text(bilingual(), "cy")
    assert with_translations(shown, {}).languages == ("en",)  # exactly the ones given


def test_a_tampered_or_mismatched_frozen_translation_is_rejected():
    survey = bilingual()
    stored = survey.translations_to_dict()
    del stored["cy"]["items"]["tr2"]["supplier"]
    with pytest.raises(InstrumentError) as caught:
        instrument_from_dict(survey.to_dict(), translations=stored)
    assert caught.value.problems == [
        "<database> (cy): item 'tr2': missing cy wording for side 'supplier'"
    ]

    other = yaml.safe_load(ENGLISH)
    other["items"][0]["wording"]["client"] = "{partner} always keeps its promises."
    other_definition = instrument_from_dict(other)
    with pytest.raises(InstrumentError, match="'translates' names definition"):
        with_translations(other_definition, survey.translations_to_dict())


def test_asking_to_freeze_a_language_not_carried_is_an_error():
    with pytest.raises(ValueError, match=r"has no 'cy' translation \(languages: en\)"):
        load_instrument_text(ENGLISH).translations_to_dict(["cy"])
    assert load_instrument_text(ENGLISH).translations_to_dict() == {}


@settings(max_examples=60, deadline=None, database=None)
@given(client=any_wording, supplier=any_wording)
def test_any_welsh_wording_survives_freezing_with_the_same_translation_hash(client, supplier):
    translation = welsh()
    translation["items"]["tr1"] = wording_for_sides(client, supplier)
    survey = bilingual(translation)
    stored = json.loads(json.dumps(survey.translations_to_dict(), ensure_ascii=False))

    rebuilt = with_translations(instrument_from_dict(survey.to_dict()), stored)

    assert rebuilt.translation_hash("cy") == survey.translation_hash("cy")
    shown = rebuilt.item("tr1").text_in("client", "cy", partner="P")
    assert shown == " ".join(client.split()) + " P"


# --- v1 as waves froze it before Welsh existed ------------------------------------------------


def test_v1_with_welsh_keeps_the_content_hash_main_gave_it():
    v1 = find_instrument("partnership-health", 1)
    assert "cy" in v1.languages
    assert v1.content_hash == MAIN_V1_CONTENT_HASH


def test_a_v1_frozen_before_welsh_existed_still_loads_and_compares_equal():
    frozen_before = json.loads((FROZEN / "partnership-health-v1.json").read_text("utf-8"))
    rebuilt = instrument_from_dict(frozen_before, source="<frozen partnership-health v1>")
    v1 = find_instrument("partnership-health", 1)

    assert rebuilt.content_hash == MAIN_V1_CONTENT_HASH
    assert rebuilt == v1
    assert rebuilt.to_dict() == v1.to_dict() == frozen_before
    # the old frozen copy carries no Welsh, so a wave frozen with it shows English
    assert rebuilt.languages == ("en",)
    assert rebuilt.resolve_language("cy") == "en"
    # and a wave frozen now keeps its Welsh beside the same definition
    wave_welsh = json.loads(json.dumps(v1.translations_to_dict(["en", "cy"])))
    assert with_translations(rebuilt, wave_welsh).translation_hash("cy") == v1.translation_hash(
        "cy"
    )


# --- translation files on disk: `relhealth instrument check` at the loader level ---------------


def copy_default(tmp_path: Path) -> Path:
    folder = tmp_path / "partnership-health"
    shutil.copytree(INSTRUMENTS_DIR / "partnership-health", folder)
    return folder


def check_all(root: Path) -> tuple[list[str], list[str]]:
    """What `relhealth instrument check` does: load every available instrument, collecting
    the lines it prints (ok) and the problems it reports."""
    ok, problems = [], []
    for _key, _version, path in available_instruments(root):
        try:
            survey = load_instrument(path)
        except InstrumentError as error:
            problems += error.problems
        else:
            ok.append(f"{survey.key} v{survey.version} {'+'.join(survey.languages)}")
    return ok, problems


def test_every_shipped_instrument_and_translation_passes_the_check():
    ok, problems = check_all(INSTRUMENTS_DIR)
    assert problems == []
    assert "partnership-health v1 en+cy" in ok


def test_translation_files_sit_beside_their_definition(tmp_path):
    folder = copy_default(tmp_path)
    (folder / "v1.cy.yaml.bak").write_text("x")
    (folder / "v10.cy.yaml").write_text("x")

    assert translation_files(folder / "v1.yaml") == [("cy", folder / "v1.cy.yaml")]
    assert translation_files(folder / "v10.yaml") == [("cy", folder / "v10.cy.yaml")]
    assert translation_files(folder / "v2.yaml") == []
    assert [v for _, v, _ in available_instruments(tmp_path)] == [1]  # never a translation


def test_an_incomplete_translation_file_fails_the_check_naming_file_item_side_and_language(
    tmp_path,
):
    folder = copy_default(tmp_path)
    path = folder / "v1.cy.yaml"
    text = path.read_text("utf-8")
    supplier_tr3 = next(line for line in text.splitlines() if "ein trin ni'n deg pan" in line)
    path.write_text(text.replace(supplier_tr3 + "\n", ""), "utf-8")

    ok, problems = check_all(tmp_path)

    assert ok == []
    assert problems == [
        f"{path}: item 'tr3': missing cy wording for side 'supplier'",
    ]


def test_a_translation_file_of_an_unknown_language_fails_the_check(tmp_path):
    folder = copy_default(tmp_path)
    shutil.copy(folder / "v1.cy.yaml", folder / "v1.cym.yaml")
    ok, problems = check_all(tmp_path)
    assert problems == [
        f"{folder / 'v1.cym.yaml'}: unknown language 'cym' (did you mean 'cy'?) (languages: cy)"
    ]


def test_checking_a_translation_file_checks_it_against_its_definition():
    v1 = load_instrument(INSTRUMENTS_DIR / "partnership-health" / "v1.cy.yaml")
    assert (v1.key, v1.version, v1.languages) == ("partnership-health", 1, ("en", "cy"))
    assert v1.source == "instruments/partnership-health/v1.yaml"


def test_an_edited_translation_file_is_read_afresh(tmp_path):
    folder = copy_default(tmp_path)
    before = load_instrument(folder / "v1.yaml")
    path = folder / "v1.cy.yaml"
    path.write_text(
        path.read_text("utf-8").replace("title: Arolwg iechyd partneriaeth", "title: Arolwg"),
        "utf-8",
    )
    after = load_instrument(folder / "v1.yaml")
    assert (before.title_in("cy"), after.title_in("cy")) == ("Arolwg iechyd partneriaeth", "Arolwg")
    assert after.content_hash == before.content_hash


def test_a_new_version_copied_with_its_translation_must_say_what_it_translates(tmp_path):
    # v2 copied from v1 with one English statement changed: the Welsh copied with it still
    # names v1's definition, so it is refused until someone checks it against the new English.
    folder = copy_default(tmp_path)
    english = (folder / "v1.yaml").read_text("utf-8").replace("version: 1", "version: 2")
    english = english.replace("keeps the promises it makes to us", "keeps its promises to us")
    (folder / "v2.yaml").write_text(english, "utf-8")
    shutil.copy(folder / "v1.cy.yaml", folder / "v2.cy.yaml")

    with pytest.raises(InstrumentError, match=r"v2\.cy\.yaml: 'translates' names definition"):
        load_instrument(folder / "v2.yaml")
