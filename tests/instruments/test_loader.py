"""The instrument loader: what it accepts, what it rejects and how it says so."""

import dataclasses
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings

from analysis.status import Phrase
from instruments import (
    INSTRUMENTS_DIR,
    SIDES,
    Instrument,
    InstrumentError,
    available_instruments,
    changed_dimensions,
    comparable_items,
    find_instrument,
    instrument_from_dict,
    load_instrument,
    load_instrument_text,
)
from tests.factories import any_wording, wording_for_sides
from tests.instruments.examples import example_table, example_text

BAD = Path(__file__).parent / "bad"
BAD_SHOWN = "tests/instruments/bad"  # how messages name the fixtures

#: A small valid definition (examples/small.yaml) that the tests vary.
SMALL = example_text("small.yaml")


def small(**changes) -> dict:
    """The SMALL definition as a dict, with top-level fields replaced."""
    definition = yaml.safe_load(SMALL)
    definition.update(changes)
    return definition


def load_dict(definition: dict) -> Instrument:
    return load_instrument_text(yaml.safe_dump(definition, sort_keys=False), source="small.yaml")


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    return caught.value.problems


# --- a good definition ------------------------------------------------------------------------


def test_a_good_definition_loads_with_defaults_filled_in():
    survey = load_instrument_text(SMALL)

    assert survey.key == "small"
    assert survey.version == 1
    assert survey.description == ""
    assert survey.scale.dont_know_label == "Don't know"
    assert survey.scale.neutral == (3,)
    assert (survey.bands.strength, survey.bands.concern) == (4.0, 3.0)
    assert survey.placeholders == ("partner",)
    assert [d.key for d in survey.dimensions] == ["shared_purpose", "trust", "commitment"]
    assert survey.dimension("trust").weight == 2.0
    assert survey.dimension("shared_purpose").weight == 1.0
    assert survey.outcome_dimensions == (survey.dimension("commitment"),)
    assert [i.key for i in survey.items_in("trust")] == ["tr1", "tr2"]
    assert survey.item("sp2").reverse is True
    assert survey.item("sp1").reverse is False
    assert survey.item("tr2").dont_know is True
    assert survey.item("tr2").per_service_area is True
    assert survey.item("sp1").replaces is None
    assert survey.comment("comment_improve").max_length == 2000
    assert survey.source == "<string>"


def test_lookups_of_unknown_keys_raise_key_error():
    survey = load_instrument_text(SMALL)
    with pytest.raises(KeyError):
        survey.item("nope")
    with pytest.raises(KeyError):
        survey.dimension("nope")
    with pytest.raises(KeyError):
        survey.items_in("nope")


def test_an_instrument_is_frozen_and_hashable():
    survey = load_instrument_text(SMALL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        survey.title = "Changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        survey.items[0].reverse = True
    assert isinstance(survey.items, tuple)
    assert isinstance(survey.scale.labels, tuple)
    assert hash(survey) == hash(load_instrument_text(SMALL))


def test_item_text_fills_in_the_partner_for_each_side():
    item = load_instrument_text(SMALL).item("sp1")

    assert item.text("client", partner="Service Birmingham") == (
        "The council and Service Birmingham share goals."
    )
    assert item.text("supplier", partner="Birmingham City Council") == (
        "We and Birmingham City Council share goals."
    )
    assert dict(item.wording) == {
        "client": "The council and {partner} share goals.",
        "supplier": "We and {partner} share goals.",
    }
    assert tuple(item.wording) == SIDES


def test_item_text_ignores_extra_values_but_names_a_missing_one():
    item = load_instrument_text(SMALL).item("tr1")

    assert item.text("client", partner="P", unused="x") == "P keeps its promises to the council."
    with pytest.raises(ValueError, match=r"item 'tr1': no value given for placeholder \{partner\}"):
        item.text("client")
    with pytest.raises(ValueError, match="side must be one of client, supplier"):
        item.text("council", partner="P")


def test_braces_in_a_partner_name_are_not_treated_as_placeholders():
    item = load_instrument_text(SMALL).item("tr1")
    assert item.text("client", partner="{x}") == "{x} keeps its promises to the council."


def test_doubled_braces_are_literal_braces():
    definition = small()
    definition["items"][0]["wording"]["client"] = "Use {{braces}} with {partner}."
    item = load_dict(definition).item("sp1")
    assert item.text("client", partner="P") == "Use {braces} with P."


def test_declared_placeholders_can_be_used():
    definition = small(placeholders=["partner", "partner_side"])
    definition["items"][0]["wording"]["client"] = "{partner} ({partner_side}) shares goals."
    survey = load_dict(definition)

    assert survey.placeholders == ("partner", "partner_side")
    rendered = survey.item("sp1").text("client", partner="P", partner_side="supplier")
    assert rendered == "P (supplier) shares goals."


def test_wording_whitespace_is_normalised():
    definition = small()
    definition["items"][0]["wording"]["client"] = "  The council   and\n{partner} share goals. "
    assert load_dict(definition) == load_instrument_text(SMALL)


# --- bad files: one fixture per fault --------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param(
            "unknown_dimension.yaml",
            "unknown_dimension.yaml: item 'tr3': unknown dimension 'trsut' (did you mean 'trust'?)",
            id="unknown dimension",
        ),
        pytest.param(
            "duplicate_item_key.yaml",
            "duplicate_item_key.yaml: item 'sp1': duplicate key (also at item 1)",
            id="duplicate item key",
        ),
        pytest.param(
            "duplicate_yaml_key.yaml",
            "duplicate_yaml_key.yaml: item 'tr2': duplicate field 'key' at line 31 "
            "(first at line 29)",
            id="duplicate YAML key",
        ),
        pytest.param(
            "missing_side_wording.yaml",
            "missing_side_wording.yaml: item 'tr2': missing wording for side 'supplier'",
            id="missing side wording",
        ),
        pytest.param(
            "scale_labels_count.yaml",
            "scale_labels_count.yaml: scale: 'labels' has 4 entries but 'points' is 5",
            id="scale labels count",
        ),
        pytest.param(
            "scale_overlap.yaml",
            "scale_overlap.yaml: scale: 3 is in both 'favourable' and 'unfavourable'",
            id="scale favourable overlaps unfavourable",
        ),
        pytest.param(
            "scale_out_of_range.yaml",
            "scale_out_of_range.yaml: scale: 'favourable' value 6 is outside 1..5",
            id="scale value out of range",
        ),
        pytest.param(
            "undeclared_placeholder.yaml",
            "undeclared_placeholder.yaml: item 'tr2': client wording uses undeclared "
            "placeholder {council} (declared: partner)",
            id="undeclared placeholder",
        ),
        pytest.param(
            "unknown_field.yaml",
            "unknown_field.yaml: item 'tr2': unknown field 'revrse' (did you mean 'reverse'?)",
            id="unknown field",
        ),
        pytest.param(
            "too_few_items.yaml",
            "too_few_items.yaml: dimension 'trust': has 1 item; every dimension needs at least 2",
            id="dimension with one item",
        ),
        pytest.param(
            "filename-version/v2.yaml",
            "filename-version/v2.yaml: version is 1 but the file name says v2",
            id="version does not match file name",
        ),
        pytest.param(
            "filename-key/v1.yaml",
            "filename-key/v1.yaml: key 'partnership-health' does not match the folder name "
            "'filename-key'",
            id="key does not match folder name",
        ),
        pytest.param(
            "syntax_error.yaml",
            "syntax_error.yaml: line 22, column 26: YAML syntax error: "
            "mapping values are not allowed here",
            id="YAML syntax error",
        ),
    ],
)
def test_a_bad_file_is_rejected_naming_the_file_the_part_and_the_fault(fixture, expected):
    problems = problems_of(BAD / fixture)
    assert f"{BAD_SHOWN}/{expected}" in problems
    assert len(problems) == 1 or fixture == "scale_out_of_range.yaml", problems


def test_the_error_message_lists_every_problem():
    with pytest.raises(InstrumentError) as caught:
        load_instrument(BAD / "scale_out_of_range.yaml")
    assert str(caught.value).splitlines() == [
        f"{BAD_SHOWN}/scale_out_of_range.yaml: scale: 'favourable' value 6 is outside 1..5",
        f"{BAD_SHOWN}/scale_out_of_range.yaml: scale: 'unfavourable' value 0 is outside 1..5",
    ]
    assert isinstance(caught.value, ValueError)


def test_all_problems_are_collected_before_raising():
    definition = small(version=0, minutes="ten", colour="blue")
    definition["scale"]["points"] = 12
    definition["items"][0]["dimension"] = "sharedpurpose"
    definition["items"][2]["key"] = "sp1"
    definition["items"][3]["wording"] = {"client": "{partner}", "suplier": "x"}
    definition["dimensions"][1]["weight"] = 0

    with pytest.raises(InstrumentError) as caught:
        load_dict(definition)

    assert caught.value.problems == [
        "small.yaml: unknown field 'colour'",
        "small.yaml: 'version' must be a whole number of 1 or more, not 0",
        "small.yaml: 'minutes' must be a whole number of 1 or more, not 'ten'",
        "small.yaml: scale: 'points' must be a whole number from 3 to 11, not 12",
        "small.yaml: dimension 'trust': 'weight' must be a number above 0, not 0",
        "small.yaml: item 'sp1': unknown dimension 'sharedpurpose' "
        "(did you mean 'shared_purpose'?)",
        "small.yaml: item 'sp1': duplicate key (also at item 1)",
        "small.yaml: item 'tr2': unknown wording side 'suplier' (did you mean 'supplier'?)",
        "small.yaml: item 'tr2': missing wording for side 'supplier'",
        "small.yaml: dimension 'shared_purpose': has 1 item; every dimension needs at least 2",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"placeholders": ["partner", "partner"]},
            "small.yaml: placeholders: 'partner' listed twice",
            id="placeholder declared twice",
        ),
        pytest.param(
            {"bands": {"strength": 3.0, "concern": 3.5}},
            "small.yaml: bands: 'concern' (3.5) must be below 'strength' (3.0)",
            id="bands the wrong way round",
        ),
        pytest.param(
            {"bands": {"strength": 6, "concern": 3}},
            "small.yaml: bands: 'strength' 6 is outside 1..5",
            id="band outside the scale",
        ),
        pytest.param(
            {"key": "Small Survey"},
            "small.yaml: key 'Small Survey' must be lower-case a-z, 0-9 and '-'",
            id="instrument key not a slug",
        ),
        pytest.param(
            {"version": "1"},
            "small.yaml: 'version' must be a whole number of 1 or more, not '1'",
            id="version as text",
        ),
        pytest.param(
            {"title": None},
            "small.yaml: missing field 'title'",
            id="missing title",
        ),
        pytest.param(
            {"comments": [{"key": "sp1", "wording": {"client": "a?", "supplier": "b?"}}]},
            "small.yaml: comment 'sp1': duplicate key (also at item 1)",
            id="comment key clashes with an item key",
        ),
    ],
)
def test_other_faults_in_top_level_fields(change, expected):
    with pytest.raises(InstrumentError) as caught:
        load_dict(small(**change))
    assert caught.value.problems == [expected]


@pytest.mark.parametrize(
    ("change", "first"),
    [
        ({"dimensions": {}}, "dimensions: must be a non-empty list"),
        ({"items": []}, "items: must be a non-empty list"),
        ({"items": [7]}, "item 1: must be a mapping of fields, not 7"),
        ({"comments": 5}, "comments: must be a list, not 5"),
        ({"comments": ["x"]}, "comment 1: must be a mapping of fields, not 'x'"),
    ],
)
def test_a_list_section_that_is_not_a_list_of_mappings_is_reported_first(change, first):
    """Dimensions and items must be non-empty lists, comments a list (maybe empty); each
    entry a mapping. Later problems follow from the missing entries."""
    with pytest.raises(InstrumentError) as caught:
        load_dict(small(**change))
    assert caught.value.problems[0] == f"small.yaml: {first}"


#: Faults in an item and the problem each must raise (examples/item_faults.yaml).
ITEM_FAULTS = example_table("item_faults.yaml")


@pytest.mark.parametrize("fault", ITEM_FAULTS, ids=[fault["fault"] for fault in ITEM_FAULTS])
def test_other_faults_in_an_item(fault):
    definition = small()
    definition["items"][0][fault["field"]] = fault["value"]
    with pytest.raises(InstrumentError) as caught:
        load_dict(definition)
    assert caught.value.problems == [f"small.yaml: {fault['problem']}"]


def test_two_items_cannot_replace_the_same_previous_item():
    definition = small()
    definition["items"][0]["replaces"] = "old1"
    definition["items"][1]["replaces"] = "old1"
    with pytest.raises(InstrumentError) as caught:
        load_dict(definition)
    assert caught.value.problems == [
        "small.yaml: item 'sp2': 'replaces' 'old1' is already replaced by item 'sp1'"
    ]


def test_a_scale_other_than_five_points_needs_its_own_bands():
    definition = small()
    definition["scale"] = {
        "points": 7,
        "labels": [f"{n}" for n in range(1, 8)],
        "favourable": [6, 7],
        "unfavourable": [1, 2],
    }
    with pytest.raises(InstrumentError, match="give 'strength' and 'concern'"):
        load_dict(definition)

    definition["bands"] = {"strength": 5.5, "concern": 4.0}
    assert load_dict(definition).bands.strength == 5.5


def test_favourable_values_must_sit_above_unfavourable_ones():
    definition = small()
    definition["scale"]["favourable"] = [1, 2]
    definition["scale"]["unfavourable"] = [4, 5]
    with pytest.raises(InstrumentError, match="every 'favourable' value must be above"):
        load_dict(definition)


def test_an_empty_file_is_rejected():
    with pytest.raises(InstrumentError, match=r"^<string>: the definition is empty$"):
        load_instrument_text("")


def test_a_list_instead_of_a_mapping_is_rejected():
    with pytest.raises(InstrumentError, match="must be a YAML mapping of instrument fields"):
        load_instrument_text("- one\n- two\n")


def test_python_object_tags_are_refused():
    text = "!!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(
        InstrumentError, match="YAML syntax error: could not determine a constructor"
    ):
        load_instrument_text(text)


def test_duplicate_keys_are_found_at_every_level():
    text = SMALL.replace("  points: 5\n", "  points: 5\n  points: 5\n", 1)
    text = text.replace("title: Small survey\n", "title: Small survey\ntitle: Again\n", 1)
    with pytest.raises(InstrumentError) as caught:
        load_instrument_text(text, source="dup.yaml")
    assert caught.value.problems == [
        "dup.yaml: duplicate field 'title' at line 4 (first at line 3)",
        "dup.yaml: scale: duplicate field 'points' at line 8 (first at line 7)",
    ]


def test_many_aliases_do_not_blow_up_the_duplicate_key_check():
    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    layers += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 8)]
    started = time.perf_counter()
    with pytest.raises(InstrumentError, match="unknown field 'a0'"):
        load_instrument_text("\n".join(layers) + "\n")
    assert time.perf_counter() - started < 5


def test_an_unreadable_file_is_reported(tmp_path):
    missing = tmp_path / "nothing.yaml"
    with pytest.raises(InstrumentError, match="nothing.yaml: cannot read the file"):
        load_instrument(missing)


# --- freezing into the database ----------------------------------------------------------------


def test_to_dict_is_plain_json_with_every_default_filled_in():
    frozen = load_instrument_text(SMALL).to_dict()

    assert json.loads(json.dumps(frozen)) == frozen
    assert "content_hash" not in frozen
    assert "source" not in frozen
    assert frozen["bands"] == {"strength": 4.0, "concern": 3.0}
    assert frozen["placeholders"] == ["partner"]
    assert frozen["dimensions"][0] == {
        "key": "shared_purpose",
        "title": "Shared purpose",
        "description": "",
        "weight": 1.0,
        "outcome": False,
    }
    assert frozen["items"][3] == {
        "key": "tr2",
        "dimension": "trust",
        "wording": {
            "client": "{partner} is honest with my area.",
            "supplier": "{partner} is honest with us in my area.",
        },
        "reverse": False,
        "dont_know": True,
        "per_service_area": True,
        "replaces": None,
    }
    assert frozen["comments"] == [
        {
            "key": "comment_improve",
            "wording": {
                "client": "What would most improve the council's work with {partner}?",
                "supplier": "What would most improve our work with {partner}?",
            },
            "max_length": 2000,
        }
    ]


def test_a_frozen_definition_round_trips_with_the_same_content_hash():
    survey = load_instrument_text(SMALL)
    stored = json.loads(json.dumps(survey.to_dict()))

    rebuilt = instrument_from_dict(stored)

    assert rebuilt == survey
    assert rebuilt.content_hash == survey.content_hash
    assert rebuilt.to_dict() == survey.to_dict()
    assert rebuilt.source == "<database>"


def test_the_content_hash_is_sha256_of_the_canonical_json():
    import hashlib

    survey = load_instrument_text(SMALL)
    canonical = json.dumps(
        survey.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert survey.content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert len(survey.content_hash) == 64


def test_the_content_hash_changes_when_wording_changes():
    definition = small()
    before = load_dict(definition).content_hash
    definition["items"][0]["wording"]["supplier"] = "We and {partner} share most goals."
    assert load_dict(definition).content_hash != before


def test_the_content_hash_ignores_comments_layout_and_spelled_out_defaults():
    definition = small()
    definition["bands"] = {"strength": 4, "concern": 3}
    definition["items"][0].update(reverse=False, dont_know=False, per_service_area=False)
    reformatted = "# a comment\n" + yaml.safe_dump(definition, default_flow_style=True)
    assert (
        load_instrument_text(reformatted).content_hash == load_instrument_text(SMALL).content_hash
    )


def test_a_tampered_frozen_definition_is_rejected():
    stored = load_instrument_text(SMALL).to_dict()
    stored["items"][0]["dimension"] = "gone"
    with pytest.raises(InstrumentError) as caught:
        instrument_from_dict(stored)
    assert caught.value.problems == [
        "<database>: item 'sp1': unknown dimension 'gone'",
        "<database>: dimension 'shared_purpose': has 1 item; every dimension needs at least 2",
    ]


# --- finding instruments on disk ---------------------------------------------------------------


def write_version(root: Path, key: str, version: int, text: str = SMALL) -> Path:
    path = root / key / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = text.replace("key: small", f"key: {key}").replace("version: 1", f"version: {version}")
    path.write_text(text, encoding="utf-8")
    return path


def test_available_instruments_lists_versions_in_order(tmp_path):
    write_version(tmp_path, "small", 10)
    write_version(tmp_path, "small", 2)
    write_version(tmp_path, "another", 1)
    (tmp_path / "small" / "notes.yaml").write_text("x: 1\n")
    (tmp_path / "__pycache__").mkdir()

    assert available_instruments(tmp_path) == [
        ("another", 1, tmp_path / "another" / "v1.yaml"),
        ("small", 2, tmp_path / "small" / "v2.yaml"),
        ("small", 10, tmp_path / "small" / "v10.yaml"),
    ]


def test_available_instruments_includes_the_default_instrument():
    assert ("partnership-health", 1) in [(k, v) for k, v, _ in available_instruments()]
    assert INSTRUMENTS_DIR.name == "instruments"


def test_find_instrument_loads_by_key_and_version(tmp_path):
    write_version(tmp_path, "small", 2)
    survey = find_instrument("small", 2, root=tmp_path)
    assert (survey.key, survey.version) == ("small", 2)


@pytest.mark.parametrize(
    ("key", "version"), [("small", 3), ("nothing", 1), ("../small", 2), ("small", "2")]
)
def test_find_instrument_says_when_there_is_no_such_instrument(tmp_path, key, version):
    write_version(tmp_path, "small", 2)
    with pytest.raises(InstrumentError, match=f"^no instrument {key!r} version {version!r} in "):
        find_instrument(key, version, root=tmp_path)


# --- comparing versions ------------------------------------------------------------------------


def next_version(**item_changes) -> Instrument:
    """Version 2 of SMALL with items changed, added (new keys) or removed (value None)."""
    definition = small(version=2)
    items = {item["key"]: item for item in definition["items"]}
    for key, change in item_changes.items():
        if change is None:
            del items[key]
        elif key in items:
            items[key] = {**items[key], **change}
        else:
            items[key] = {"key": key, **change}
    definition["items"] = list(items.values())
    return load_dict(definition)


def test_items_with_the_same_key_are_comparable():
    v1 = load_instrument_text(SMALL)
    v2 = next_version()

    assert comparable_items(v1, v2) == {
        key: key for key in ("sp1", "sp2", "tr1", "tr2", "co1", "co2")
    }
    assert changed_dimensions(v1, v2) == {}


def test_an_item_that_replaces_another_is_comparable_with_it():
    v1 = load_instrument_text(SMALL)
    new_tr1 = {
        "key": "tr1b",
        "dimension": "trust",
        "replaces": "tr1",
        "wording": {"client": "{partner} keeps its word.", "supplier": "{partner} keeps its word."},
    }
    v2 = next_version(tr1=None, tr1b=new_tr1)

    assert comparable_items(v1, v2)["tr1b"] == "tr1"
    assert "tr1" not in comparable_items(v1, v2)
    assert changed_dimensions(v1, v2) == {
        "trust": (Phrase("item_replaces", {"item": "tr1b", "previous": "tr1"}),)
    }


def test_changed_dimensions_says_what_changed():
    v1 = load_instrument_text(SMALL)
    extra = {
        "dimension": "trust",
        "wording": {"client": "{partner} is fair.", "supplier": "{partner} is fair to us."},
    }
    v2 = next_version(
        sp1={"wording": {"client": "The council and {partner} agree.", "supplier": "We agree."}},
        sp2={"reverse": False},
        co2={"dimension": "trust"},
        tr3=extra,
        co3={**extra, "dimension": "commitment"},
    )

    assert changed_dimensions(v1, v2) == {
        "shared_purpose": (
            Phrase("item_reworded", {"item": "sp1"}),
            Phrase("item_reverse", {"item": "sp2", "now": False}),
        ),
        "trust": (
            Phrase("new_items", {"items": ["tr3"]}),
            Phrase("item_moved_here", {"item": "co2", "dimension": "commitment"}),
        ),
        "commitment": (
            Phrase("new_items", {"items": ["co3"]}),
            Phrase("item_moved_to", {"item": "co2", "dimension": "trust"}),
        ),
    }
    assert comparable_items(v1, v2)["co2"] == "co2"
    assert "tr3" not in comparable_items(v1, v2)


def test_changed_dimensions_names_new_and_dropped_dimensions():
    v1 = load_instrument_text(SMALL)
    definition = small(version=2)
    definition["dimensions"][2] = {"key": "innovation", "title": "Innovation"}
    for item in definition["items"]:
        if item["dimension"] == "commitment":
            item["dimension"] = "innovation"
            item["key"] = item["key"].replace("co", "in")
    v2 = load_dict(definition)

    assert changed_dimensions(v1, v2) == {
        "innovation": (Phrase("new_dimension", {"version": 2}),),
        "commitment": (Phrase("dropped_dimension", {"version": 2}),),
    }


def test_a_change_of_scale_touches_every_dimension():
    v1 = load_instrument_text(SMALL)
    definition = small(version=2, bands={"strength": 5.5, "concern": 4.0})
    definition["scale"] = {
        "points": 7,
        "labels": [f"{n}" for n in range(1, 8)],
        "favourable": [6, 7],
        "unfavourable": [1, 2],
    }
    changes = changed_dimensions(v1, load_dict(definition))
    assert set(changes) == {"shared_purpose", "trust", "commitment"}
    for change in changes.values():
        assert change == (Phrase("scale_points", {"previous": 5, "current": 7}),)


def test_items_of_different_instruments_are_not_compared():
    other = load_dict(small(key="other"))
    with pytest.raises(ValueError, match="different instruments"):
        comparable_items(load_instrument_text(SMALL), other)


# --- any wording survives freezing -------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(client=any_wording, supplier=any_wording)
def test_any_wording_round_trips_through_the_database_with_the_same_hash(client, supplier):
    definition = small()
    definition["items"][0]["wording"] = wording_for_sides(client, supplier)
    survey = load_dict(definition)

    rebuilt = instrument_from_dict(json.loads(json.dumps(survey.to_dict(), ensure_ascii=False)))

    assert rebuilt.content_hash == survey.content_hash
    shown = rebuilt.item("sp1").text("client", partner="P")
    assert shown == " ".join(client.split()) + " P"
