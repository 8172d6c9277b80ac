"""The default instrument, instruments/partnership-health/v1.yaml, as respondents will see it."""

import re
import string

from instruments import INSTRUMENTS_DIR, SIDES, load_instrument

COUNCIL = "Birmingham City Council"
SUPPLIER = "Service Birmingham"
# {partner} is the other party: the supplier for council staff, the council for supplier staff.
PARTNER_OF = {"client": SUPPLIER, "supplier": COUNCIL}

# The constructs DESIGN.md §3 requires, by dimension key.
REQUIRED_DIMENSIONS = {
    "shared_purpose",
    "trust",
    "communication",
    "problem_solving",
    "innovation",
    "value_for_money",
    "commitment",
    "partnership_orientation",
}

# Change this only together with a new version file: once a wave has used v1, its definition is
# frozen in the database, and editing the file would make the file and the frozen copy disagree.
V1_CONTENT_HASH = "a9d77d35c17cc0e741165342e40ca15ad8d43dc6ca7dc7af1a18b3e96e63d51e"

# Words the GOV.UK style guide asks writers to avoid, and survey jargon.
AVOID = ("leverage", "synergy", "stakeholder", "going forward", "robust", "facilitate",
         "streamline", "utilise", "deliverable", "key", "SLA", "KPI")  # fmt: skip


def rendered(v1):
    for item in (*v1.items, *v1.comments):
        for side in SIDES:
            yield item, side, item.text(side, partner=PARTNER_OF[side])


def test_v1_is_found_where_the_app_looks_for_it(v1):
    assert v1.source == "instruments/partnership-health/v1.yaml"
    assert load_instrument(INSTRUMENTS_DIR / "partnership-health" / "v1.yaml") == v1
    assert (v1.key, v1.version) == ("partnership-health", 1)
    assert v1.title == "Partnership health survey"
    assert v1.description
    assert 5 <= v1.minutes <= 20


def test_v1_content_is_pinned(v1):
    assert v1.content_hash == V1_CONTENT_HASH, (
        "v1.yaml changed. If any wave has used v1, put the change in v2.yaml instead."
    )


def test_v1_has_at_least_30_items(v1):
    assert len(v1.items) >= 30


def test_v1_covers_the_required_constructs_in_8_or_9_dimensions_of_3_to_5_items(v1):
    keys = [d.key for d in v1.dimensions]
    assert set(keys) >= REQUIRED_DIMENSIONS
    assert 8 <= len(keys) <= 9
    for key in keys:
        assert 3 <= len(v1.items_in(key)) <= 5, key


def test_v1_uses_a_five_point_agreement_scale(v1):
    assert v1.scale.points == 5
    assert v1.scale.labels[0] == "Strongly disagree"
    assert v1.scale.labels[-1] == "Strongly agree"
    assert v1.scale.favourable == (4, 5)
    assert v1.scale.unfavourable == (1, 2)
    assert (v1.bands.strength, v1.bands.concern) == (4.0, 3.0)


def test_commitment_to_continue_is_the_outcome_dimension(v1):
    assert [d.key for d in v1.outcome_dimensions] == ["commitment"]


def test_every_item_has_different_wording_for_each_side(v1):
    for item in (*v1.items, *v1.comments):
        assert item.wording["client"] != item.wording["supplier"], item.key
        for side in SIDES:
            assert item.wording[side].strip(), (item.key, side)


def test_every_statement_names_the_partner(v1):
    for item in (*v1.items, *v1.comments):
        for side in SIDES:
            assert "{partner}" in item.wording[side], (item.key, side)


def test_placeholders_render_for_both_sides(v1):
    for item, side, text in rendered(v1):
        assert PARTNER_OF[side] in text, (item.key, side)
        assert "{" not in text and "}" not in text, (item.key, side)


def test_client_wording_speaks_from_the_council_and_supplier_wording_from_the_supplier(v1):
    # Council staff never see the council called "{partner}", and supplier staff never see
    # themselves called "the council".
    for item in v1.items:
        assert "the council" not in item.wording["supplier"].lower(), item.key


def test_some_items_are_reverse_keyed(v1):
    reverse = [item.key for item in v1.items if item.reverse]
    assert 8 <= len(reverse) <= 10
    dimensions_with_reverse = {v1.item(key).dimension for key in reverse}
    assert len(dimensions_with_reverse) >= 7


def test_the_contract_enforcement_and_blame_items_are_reverse_keyed(v1):
    enforcing = [i for i in v1.items if "enforcing the contract" in i.wording["client"]]
    passing = [i for i in v1.items if "passed back and forth" in i.wording["client"]]
    assert enforcing and all(i.reverse for i in enforcing)
    assert passing and all(i.reverse for i in passing)


def test_dont_know_is_offered_where_staff_may_not_know(v1):
    for key in ("innovation", "value_for_money"):
        offered = [i.dont_know for i in v1.items_in(key)]
        assert sum(offered) >= len(offered) - 1, key
    for key in ("trust", "communication", "problem_solving", "partnership_orientation"):
        assert not any(i.dont_know for i in v1.items_in(key)), key


def test_value_for_money_and_service_quality_are_asked_about_the_own_area(v1):
    per_area = [i for i in v1.items if i.per_service_area]
    assert {i.dimension for i in per_area} >= {"value_for_money"}
    for item in per_area:
        for side in SIDES:
            assert "my area" in item.wording[side] or "my service area" in item.wording[side]


def test_there_is_a_free_text_question_about_what_would_most_improve_the_partnership(v1):
    assert len(v1.comments) >= 2
    assert any("most improve" in c.wording["client"] for c in v1.comments)
    for comment in v1.comments:
        for side in SIDES:
            assert comment.wording[side].endswith("?")


def test_statements_are_short_plain_sentences(v1):
    for item, side, text in rendered(v1):
        assert len(text.split()) <= 25, (item.key, side, text)
        assert text[0].isupper(), (item.key, side)
        for word in AVOID:
            assert not re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), (item.key, word)
    for item in v1.items:
        for side in SIDES:
            assert item.wording[side].endswith("."), (item.key, side)


def test_v1_uses_only_the_partner_placeholder(v1):
    assert v1.placeholders == ("partner",)
    names = {
        name
        for item in (*v1.items, *v1.comments)
        for side in SIDES
        for _, name, _, _ in string.Formatter().parse(item.wording[side])
        if name
    }
    assert names == {"partner"}


def test_item_keys_are_short_and_unique(v1):
    keys = [i.key for i in v1.items] + [c.key for c in v1.comments]
    assert len(keys) == len(set(keys))
    assert all(len(k) <= 20 for k in keys)
