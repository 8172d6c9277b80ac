"""How a new instrument version shows in the stored results: a changed dimension restarts its
series, and every change is stored as facts and worded when read, in English and Welsh (the
results' comparability notes, on screen and in downloads)."""

from __future__ import annotations

import numpy as np
import pytest
from flask_babel import force_locale

import instruments
from survey_app.extensions import db
from survey_app.services.results import wording
from survey_app.services.waves import close_wave, create_wave, open_wave
from tests.scored_waves import fill_wave, new_wave, stored

AREAS = ["Core ICT", "Contact centre"]


@pytest.fixture
def relationship(factory):
    return factory.relationship(areas=AREAS)


V2_CHANGES = {"in3": "The council and {partner} have a shared plan for new services."}


def test_a_changed_dimension_restarts_its_series_and_says_why(app, relationship, tmp_path):
    import shutil

    from instruments import INSTRUMENTS_DIR

    root = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR / "partnership-health", root / "partnership-health")
    text = (root / "partnership-health" / "v1.yaml").read_text()
    text = text.replace("version: 1", "version: 2").replace(
        'client: "The council and {partner} have agreed plans for how services will change over the next few years."',
        f'client: "{V2_CHANGES["in3"]}"',
    )
    (root / "partnership-health" / "v2.yaml").write_text(text)
    app.config["INSTRUMENTS_DIR"] = str(root)
    rng = np.random.default_rng(12)
    for i in range(3):
        new_wave(relationship, f"2024-W{i}", rng, 25)
    wave = create_wave(relationship, "2024-W3", instrument_version=2)
    open_wave(wave)
    fill_wave(wave, rng, 25)
    close_wave(wave)
    db.session.commit()
    rows = {(r["side"], r["area"], r["dimension"]): r for r in stored(wave, "scores")}
    innovation = rows[("all", "_all", "innovation")]
    assert innovation["change"] is None
    # stored as facts, worded when read (in the reader's language: English here)
    note = innovation["comparability_note"]
    assert (note["key"], note["wave"], note["version"]) == ("from", "2024-W3", 2)
    assert note["reason"] == {
        "key": "changes",
        "changes": [{"key": "item_reworded", "item": "in3"}],
    }
    assert wording.comparability_note(note) == (
        "Compared from 2024-W3 only: version 2 of the instrument changed this (item 'in3' reworded)"
    )
    with force_locale("cy"):  # the instrument's account of the change too (issue 17)
        assert wording.comparability_note(note) == (
            "Wedi’i gymharu o 2024-W3 yn unig: newidiodd fersiwn 2 o’r offeryn hyn "
            "(ail-eiriwyd eitem 'in3')"
        )
    index_note = rows[("all", "_all", "index")]["comparability_note"]
    assert index_note["reason"] == {"key": "dimensions", "dimensions": ["innovation"]}
    assert wording.comparability_note(index_note) == (
        "Compared from 2024-W3 only: version 2 of the instrument changed this "
        "(dimensions changed: innovation)"
    )
    trust = rows[("all", "_all", "trust")]
    assert trust["change"] is not None
    assert wording.comparability_note(trust["comparability_note"]) == (
        "Compared across instrument versions 1–2: unchanged in them"
    )
    with force_locale("cy"):
        assert wording.comparability_note(trust["comparability_note"]) == (
            "Wedi’i gymharu ar draws fersiynau 1–2 o’r offeryn: heb newid ynddynt"
        )
    trends = {(r["side"], r["area"], r["dimension"]): r for r in stored(wave, "trends")}
    assert trends[("all", "_all", "innovation")]["series_start"] == "2024-W3"
    assert trends[("all", "_all", "trust")]["n_waves"] == 4
    # A download words the notes in the language it is asked in (issue 17)
    for fmt in ("csv", "xlsx"):
        english, welsh = (_trend_notes(relationship, fmt, lang) for lang in ("en", "cy"))
        assert english[("all", "_all", "trust")] == (
            "Compared across instrument versions 1–2: unchanged in them"
        )
        assert welsh[("all", "_all", "trust")] == (
            "Wedi’i gymharu ar draws fersiynau 1–2 o’r offeryn: heb newid ynddynt"
        )
        assert welsh[("all", "_all", "index")] == (
            "Wedi’i gymharu o 2024-W3 yn unig: newidiodd fersiwn 2 o’r offeryn hyn "
            "(dimensiynau wedi newid: innovation)"
        )
        assert welsh[("all", "_all", "innovation")].startswith("Wedi’i gymharu o 2024-W3 yn unig")


def test_every_change_an_instrument_version_makes_is_worded_in_english_and_welsh(app):
    """What :func:`instruments.changed_dimensions` finds is stored as facts and worded when
    read: each kind of change reads as before in English and has its own Welsh."""
    import yaml

    from tests.instruments.examples import example_text

    def load_dict(definition: dict) -> instruments.Instrument:
        text = yaml.safe_dump(definition, sort_keys=False)
        return instruments.load_instrument_text(text, source="small.yaml")

    v1 = load_dict(yaml.safe_load(example_text("small.yaml")))
    definition = {**yaml.safe_load(example_text("small.yaml")), "version": 2}
    definition["scale"] = {**definition["scale"], "labels": ["a", "b", "c", "d", "e"]}
    definition["dimensions"].append({"key": "innovation", "title": "Innovation"})
    items = {i["key"]: i for i in definition["items"]}
    items["sp1"]["wording"] = {"client": "We agree.", "supplier": "We agree."}
    items["sp2"]["reverse"] = not items["sp2"].get("reverse", False)
    items["tr2"]["dimension"] = "shared_purpose"
    items["tr2"]["per_service_area"] = not items["tr2"].get("per_service_area", False)
    items["tr1"] = {**items["tr1"], "key": "tr1b", "replaces": "tr1"}
    items["co2"] = {**items["co2"], "key": "co3"}
    for key in ("tr3", "in1", "in2"):
        items[key] = {**items["sp1"], "key": key, "dimension": key[:2].replace("in", "innovation")}
    items["tr3"]["dimension"] = "trust"
    definition["items"] = list(items.values())
    changes = instruments.changed_dimensions(v1, load_dict(definition))
    stored = {k: [c.as_dict() for c in v] for k, v in changes.items()}
    kinds = {c["key"] for v in stored.values() for c in v}
    assert kinds == set(wording.ITEM_CHANGES) - {"scale_points", "dropped_dimension"}, kinds
    english = {k: wording.item_changes(v) for k, v in stored.items()}
    assert english == {
        "shared_purpose": "answer scale labels changed; item 'sp1' reworded; "
        "item 'sp2' is no longer reverse-keyed; item 'tr2' moved here from 'trust'; "
        "item 'tr2' is no longer asked per service area",
        "trust": "answer scale labels changed; new items: tr3; item 'tr1b' replaces 'tr1'; "
        "item 'tr2' moved to 'shared_purpose'",
        "commitment": "answer scale labels changed; new items: co3; item 'co2' dropped",
        "innovation": "new dimension in version 2",
    }
    scale = [{"key": "scale_points", "previous": 5, "current": 7}]
    dropped = [{"key": "dropped_dimension", "version": 3}]
    now = [{"key": k, "item": "x", "now": True} for k in ("item_reverse", "item_per_area")]
    assert wording.item_changes(now) == (
        "item 'x' is now reverse-keyed; item 'x' is now asked per service area"
    )
    assert wording.item_changes(scale + dropped) == (
        "answer scale changed from 5 to 7 points; dropped in version 3"
    )
    for phrases in [*stored.values(), scale, dropped, now]:
        for phrase in phrases:
            with force_locale("cy"):
                welsh = wording.item_changes([phrase])
            assert welsh != wording.item_changes([phrase]), phrase
            assert all(str(v) in welsh for k, v in phrase.items() if k in ("item", "version"))


def _trend_notes(relationship, fmt: str, language: str) -> dict[tuple, str]:
    """The ``comparability_note`` of a trends download asked for in ``language``, by cell."""
    import io

    from openpyxl import load_workbook

    from survey_app.services import exports
    from tests.exchange import read_csv

    with force_locale(language):
        prepared = exports.prepare_download(
            "trends", fmt, exports.export_scope(relationship.id, None)
        )
        data = b"".join(prepared.chunks)
    if fmt == "csv":
        header, *rows = read_csv(data)
    else:
        header, *rows = load_workbook(io.BytesIO(data), read_only=True)["trends"].iter_rows(
            values_only=True
        )
    at = {c: list(header).index(c) for c in ("side", "area", "dimension", "comparability_note")}
    return {
        (r[at["side"]], r[at["area"]], r[at["dimension"]]): r[at["comparability_note"]]
        for r in rows
    }
