"""The Welsh wording of the default instrument, instruments/partnership-health/v1.cy.yaml (a draft
awaiting review by a qualified translator), as Welsh-speaking respondents will see it."""

import re

import yaml

from instruments import INSTRUMENTS_DIR, SIDES

COUNCIL = "Cyngor Sir Ceredigion"  # a Welsh name: it would mutate after i, a, â, yn...
SUPPLIER = "Gwasanaethau Digidol Cymru"
PARTNER_OF = {"client": SUPPLIER, "supplier": COUNCIL}

# The scale and "don't know" labels of Welsh public-sector surveys, low to high.
WELSH_SCALE = (
    "Anghytuno'n gryf",
    "Anghytuno",
    "Ddim yn cytuno nac yn anghytuno",
    "Cytuno",
    "Cytuno'n gryf",
)

# Words after which the next word mutates (soft, nasal or aspirate mutation). A placeholder
# cannot mutate the name put into it, so {partner} must never follow one of them.
MUTATING = {
    "a", "â", "ag", "am", "ar", "at", "dan", "dros", "drwy", "trwy", "gan", "heb", "hyd",
    "i", "o", "wrth", "yn", "gyda", "tua", "na", "nac", "ei", "eu", "ein", "fy", "dy", "neu",
    "mor", "rhy", "pa", "dau", "dwy", "tri", "chwe",
}  # fmt: skip

# English words that would betray an untranslated or half-translated statement.
ENGLISH_WORDS = {"the", "and", "with", "of", "to", "is", "are", "our", "we", "us", "council"}


def welsh_wordings(v1):
    for part in (*v1.items, *v1.comments):
        for side in SIDES:
            yield part, side, part.wording_in("cy")[side]


def test_v1_is_offered_in_english_and_welsh(v1):
    assert v1.languages == ("en", "cy")
    assert v1.resolve_language("cy", offered=("en", "cy")) == "cy"


def test_the_welsh_file_names_the_v1_definition_it_translates(v1):
    raw = yaml.safe_load((INSTRUMENTS_DIR / "partnership-health" / "v1.cy.yaml").read_text("utf-8"))
    assert raw["language"] == "cy"
    assert raw["translates"] == v1.content_hash


def test_the_welsh_file_says_it_is_a_draft_awaiting_a_qualified_translator():
    header = (INSTRUMENTS_DIR / "partnership-health" / "v1.cy.yaml").read_text("utf-8")[:600]
    assert "DRAFT" in header
    assert "qualified translator" in header


def test_the_welsh_scale_uses_the_standard_survey_labels(v1):
    assert v1.scale.labels_in("cy") == WELSH_SCALE
    assert v1.scale.dont_know_label_in("cy") == "Ddim yn gwybod"


def test_every_welsh_text_differs_from_the_english(v1):
    assert v1.title_in("cy") != v1.title
    assert v1.description_in("cy") != v1.description
    for dimension in v1.dimensions:
        assert dimension.title_in("cy") != dimension.title, dimension.key
        assert dimension.description_in("cy") != dimension.description, dimension.key
    for part, side, text in welsh_wordings(v1):
        assert text != part.wording[side], (part.key, side)


def test_no_english_words_are_left_in_the_welsh(v1):
    texts = [v1.title_in("cy"), v1.description_in("cy"), *v1.scale.labels_in("cy")]
    texts += [d.title_in("cy") for d in v1.dimensions]
    texts += [d.description_in("cy") for d in v1.dimensions]
    texts += [text for _, _, text in welsh_wordings(v1)]
    for text in texts:
        words = set(re.findall(r"[a-zâêîôûŵŷ']+", text.lower()))
        assert not words & ENGLISH_WORDS, (text, words & ENGLISH_WORDS)


def test_partner_never_follows_a_word_that_would_mutate_it(v1):
    for part, side, text in welsh_wordings(v1):
        for before in re.findall(r"(\S+)\s+\{partner\}", text):
            word = before.lower().split("'")[-1]  # "a'i" -> "i"
            assert word not in MUTATING, (part.key, side, before, text)


def test_every_welsh_statement_names_the_partner_once_and_renders(v1):
    for part, side, text in welsh_wordings(v1):
        assert text.count("{partner}") == 1, (part.key, side)
        shown = part.text_in(side, "cy", partner=PARTNER_OF[side])
        assert PARTNER_OF[side] in shown and "{" not in shown, (part.key, side)
        assert shown[0].isupper(), (part.key, side, shown)


def test_supplier_staff_never_see_the_council_called_the_council(v1):
    # "yngor" is in every mutated form of "cyngor": gyngor, chyngor, nghyngor.
    for part in (*v1.items, *v1.comments):
        assert "yngor" not in part.wording_in("cy")["supplier"], part.key


def test_client_wording_speaks_of_the_council(v1):
    mentions = [i.key for i in v1.items if "cyngor" in i.wording_in("cy")["client"]]
    english = [i.key for i in v1.items if "council" in i.wording["client"].lower()]
    assert set(english) <= set(mentions)


def test_statements_end_with_a_full_stop_and_questions_with_a_question_mark(v1):
    for item in v1.items:
        for side in SIDES:
            assert item.wording_in("cy")[side].endswith("."), (item.key, side)
    for question in v1.comments:
        for side in SIDES:
            assert question.wording_in("cy")[side].endswith("?"), (question.key, side)


def test_welsh_statements_stay_short(v1):
    # Welsh runs longer than English; 25 words is the English limit, 30 the Welsh one.
    for part, side, text in welsh_wordings(v1):
        assert len(text.split()) <= 30, (part.key, side, len(text.split()))


def test_items_asked_about_the_own_area_say_so_in_welsh(v1):
    for item in v1.items:
        if item.per_service_area:
            for side in SIDES:
                assert "maes" in item.wording_in("cy")[side], (item.key, side)


def test_the_free_text_question_asks_what_would_most_improve_the_partnership(v1):
    improve = v1.comment("comment_improve").wording_in("cy")
    for side in SIDES:
        assert "gwella" in improve[side] and "fwyaf" in improve[side]


def test_the_contract_enforcement_item_keeps_its_meaning(v1):
    enforcing = [i for i in v1.items if "gorfodi'r contract" in i.wording_in("cy")["client"]]
    assert [i.key for i in enforcing] == ["po2"]
    assert all(i.reverse for i in enforcing)
