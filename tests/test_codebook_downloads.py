"""The codebook as downloaded: every column of every results table described, typed and labelled,
in English and Welsh, alone and inside the workbooks (a reviewer audits the scores with it)."""

from __future__ import annotations

import io

from flask_babel import force_locale, gettext

from analysis.suppression import PRIMARY, SECONDARY
from survey_app.services import codebook, exports
from tests.exchange import (
    download_bytes,
    history_fixture,  # noqa: F401 (the history fixture)
    padded,
    read_csv,
)


def test_the_codebook_describes_and_labels_every_column_of_every_table(history):
    header, *rows = read_csv(download_bytes("codebook", "csv", history))
    assert header == [c.name for c in exports.CODEBOOK_COLUMNS]
    described = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows}
    scope = exports.export_scope(history.id)
    count = 0
    for table in (*exports.RESULT_TABLES, *exports.DERIVED_TABLES, "responses"):
        for column in exports.build_tables(table, scope)[0].columns:
            entry = described[(table, column.name)]
            assert entry["description"] not in ("", exports.UNDESCRIBED), (table, column.name)
            assert entry["label"].strip(), (table, column.name)
            count += 1
    assert count == len(rows)
    assert all(c.label for c in exports.CODEBOOK_COLUMNS)  # the codebook's own columns too
    assert described[("scores", "band")]["value_labels"].startswith("strength = ")
    other = f"{exports.OTHER} = {exports.OTHER_LABEL}"
    assert described[("responses", "role_level")]["value_labels"] == (
        f"executive = Executive or director; manager = Manager; staff = Staff; {other}"
    )
    assert described[("responses", "service_area")]["value_labels"] == (
        f"core-ict = Core ICT; contact-centre = Contact centre; {other}"
    )


def test_the_codebook_workbook_is_one_sheet_holding_the_codebook(history):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(download_bytes("codebook", "xlsx", history)), read_only=True)
    assert book.sheetnames == ["codebook"]
    sheet = [
        ["" if v is None else v for v in padded(r, len(exports.CODEBOOK_COLUMNS))]
        for r in book["codebook"].iter_rows(values_only=True)
    ]
    assert sheet == read_csv(download_bytes("codebook", "csv", history))


def test_a_stored_column_the_codebook_lacks_is_typed_from_its_values_and_says_so():
    # A table stored by an earlier version of the service may hold a column the codebook has
    # since dropped: it still downloads, typed from its values, and marked undescribed.
    columns = exports.tables._results_columns(
        "scores",
        ["wave", "retired_stat", "retired_flag"],
        [["2024-Q1", None, True], ["", 2.5, None]],
    )
    assert columns[0] is codebook.columns("scores")[0]
    assert [(c.type, c.description) for c in columns[1:]] == [
        ("number", exports.UNDESCRIBED),
        ("boolean", exports.UNDESCRIBED),
    ]


def test_every_codebook_column_is_one_line_of_prose_with_a_known_type():
    for table in codebook.tables():
        names = [c.name for c in codebook.columns(table)]
        assert names[-1] == "suppressed" and len(set(names)) == len(names), table
        assert codebook.table_description(table), table
        for column in codebook.columns(table):
            assert column.type in ("text", "integer", "number", "boolean"), (table, column.name)
            text = column.description
            assert text and "\n" not in text and text == " ".join(text.split()), (table, column)
            assert column.label and "\n" not in column.label, (table, column.name)
            assert len(column.label.encode()) <= 256, (table, column.name)  # SPSS's limit
            assert all(isinstance(k, str) and v for k, v in column.value_labels.items())
            # Every number says how a spreadsheet shows it.
            assert (column.kind in codebook.NUMBER_KINDS) == (column.type == "number"), column
    # The columns several tables share are one description, not copies that could drift.
    assert codebook.columns("scores")[0] is codebook.columns("gaps")[0]


def test_every_codebook_entry_has_its_welsh_label_value_labels_and_description():
    """An SPSS file in Welsh labels every variable in Welsh, and the codebook gives both."""
    every = codebook._codebook().columns  # the stored tables and those built when read
    assert set(codebook.tables()) < set(every)
    described = [(table, c) for table, columns in every.items() for c in columns]
    described += [("codebook", c) for c in exports.tables.CODEBOOK_COLUMNS]
    for table, column in described:
        assert column.label_cy and "\n" not in column.label_cy, (table, column.name)
        assert len(column.label_cy.encode()) <= 256, (table, column.name)  # SPSS's limit
        assert set(column.value_labels_cy) == set(column.value_labels), (table, column.name)
        assert all(column.value_labels_cy.values()), (table, column.name)
        assert column.description_cy.strip(), (table, column.name)
        assert column.description_cy != column.description, (table, column.name)
        welsh = column.in_language("cy")
        assert (welsh.label, dict(welsh.value_labels), welsh.description) == (
            column.label_cy,
            dict(column.value_labels_cy),
            column.description_cy,
        )
    for table in every:  # and every table's description
        assert codebook.table_description(table, "cy") not in (
            "",
            codebook.table_description(table),
        )
    scores = {c.name: c for c in codebook.columns("scores")}
    assert (scores["sd"].label, scores["sd"].label_cy) == ("Standard deviation", "Gwyriad safonol")
    assert scores["status"].value_labels_cy["deteriorating"] == "Yn gwaethygu, gyda thystiolaeth"


def test_the_welsh_codebook_quotes_the_reasons_as_a_welsh_download_gives_them(app):
    """A Welsh download says why a row is hidden in Welsh (``wording.said``): its codebook
    quotes those words, not the English ones."""
    described = {c.name: c for c in codebook.columns("scores")}["suppressed"].description_cy
    with app.test_request_context("/?lang=cy"), force_locale("cy"):
        for reason in (PRIMARY, SECONDARY):
            assert gettext(reason) != reason
            assert gettext(reason) in described
            assert reason not in described


def test_the_codebook_download_gives_the_results_columns_in_both_languages(history):
    head, *rows = read_csv(download_bytes("codebook", "csv", history))
    sd = dict(zip(head, next(r for r in rows if r[:2] == ["scores", "sd"]), strict=True))
    assert (sd["label"], sd["label_cy"]) == ("Standard deviation", "Gwyriad safonol")
    side = dict(zip(head, next(r for r in rows if r[:2] == ["gaps", "wave"]), strict=True))
    assert side["label_cy"] == "Cylch"
    assert all(dict(zip(head, r, strict=True))["label_cy"] for r in rows if r[0] != "responses")
    assert sd["description_cy"] == "Gwyriad safonol sampl y sgoriau (enwadur n − 1)."
    assert sd["description"] == "Sample standard deviation of the scores (n − 1 denominator)."
    assert all(dict(zip(head, r, strict=True))["description_cy"] for r in rows)
