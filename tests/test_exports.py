"""Downloads: every table in every format, read back and checked against the database and the
persisted (suppressed) results; CSV injection; streaming; the audit log; who may download."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Response, Wave
from survey_app.services import ServiceError, exports, formula_guard, mailing, results
from survey_app.services.instruments import frozen_instrument
from tests.exchange import (
    HYPERLINK,
    SMALL_CELL_COMMENT,
    download_bytes,
    history_fixture,  # noqa: F401 (the history fixture)
    padded,
    read_csv,
    signed_in_client,
)

# ----------------------------------------------------------------------------- a history


def finite_or_none(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def stored_responses(relationship) -> dict[str, dict[str, object]]:
    """What the database holds, keyed by response id: the row a download must show."""
    wave_ids = [w.id for w in results.closed_waves(relationship)]
    out = {}
    items_of = {}
    for response in db.session.scalars(select(Response).where(Response.wave_id.in_(wave_ids))):
        version = response.answers and None
        inst = items_of.setdefault(
            response.instrument_version_id,
            frozen_instrument(db.session.get(Wave, response.wave_id).instrument_version),
        )
        row = {item.key: "" for item in inst.items}
        for answer in response.answers:
            key = inst.items[answer.item_no].key
            row[key] = "dk" if answer.value is None else str(answer.value)
        row["wave"] = db.session.get(Wave, response.wave_id).label
        row["side"] = response.side
        row["role_level"] = response.role_level or ""
        del version
        out[str(response.id)] = row
    return out


# ----------------------------------------------------------------------------- responses


def test_the_responses_csv_holds_every_response_and_answer_as_stored(history):
    data = download_bytes("responses", "csv", history)
    assert b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n")
    header, *rows = read_csv(data)
    assert header[:7] == [
        "response_id", "wave", "side", "service_area", "role_level", "instrument", "instrument_version",
    ]  # fmt: skip
    instrument = frozen_instrument(results.closed_waves(history)[0].instrument_version)
    assert header[7 : 7 + len(instrument.items)] == [item.key for item in instrument.items]
    assert header[7 + len(instrument.items) :] == ["comment_improve", "comment_keep"]
    stored = stored_responses(history)
    assert len(rows) == len(stored) == 52
    for row in rows:
        record = dict(zip(header, row, strict=True))
        expected = stored[record["response_id"]]
        for key, value in expected.items():
            if key in ("side", "role_level") and record[key] == exports.OTHER:
                continue  # generalised: a group of fewer than k (tests/disclosure)
            assert record[key] == value, (record["response_id"], key)
        assert record["instrument"] == "partnership-health" and record["instrument_version"] == "1"
    assert [r[1] for r in rows] == sorted(r[1] for r in rows), "rows come wave by wave"
    cells = [c for r in rows for c in r[7 : 7 + len(instrument.items)]]
    assert "dk" in cells and "" in cells, "the history has don't-knows and skipped items"


def test_comments_are_given_only_for_groups_the_comment_rule_publishes(history, app):
    app.config["MIN_COMMENT_CELL_SIZE"] = 5
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    improve = header.index("comment_improve")
    comments = [row[improve] for row in rows if row[improve]]
    assert SMALL_CELL_COMMENT not in "".join(comments)  # its group holds 2 responses
    assert len(comments) == 1 and comments[0].endswith(HYPERLINK)
    # At 10 the 12 client core-ICT staff are large enough, but both sides' 18 core-ICT staff
    # minus them would leave the supplier's 6: complementary suppression hides them too.
    app.config["MIN_COMMENT_CELL_SIZE"] = 10
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    assert not any(row[header.index("comment_improve")] for row in rows)
    app.config["MIN_COMMENT_CELL_SIZE"] = 13  # now the 12-person group is too small itself
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    assert not any(row[header.index("comment_improve")] for row in rows)


def test_formula_like_text_is_neutralised_in_csv_and_xlsx_but_numbers_stay_numbers(history, app):
    app.config["MIN_COMMENT_CELL_SIZE"] = 5  # the comments' groups are published
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    improve, keep = header.index("comment_improve"), header.index("comment_keep")
    assert [r[improve] for r in rows if r[improve]] == ["'" + HYPERLINK]
    assert [r[keep] for r in rows if r[keep]] == ["'-2 meetings a week"]

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(download_bytes("responses", "xlsx", history)))
    sheet = book["responses"]
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row if c.value]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert "'" + HYPERLINK in values
    assert all(c.data_type != "f" for c in cells), "no cell is a formula"

    # A negative number in a results table is a number, not neutralised text.
    names, shown = results.output_table("gaps", history)
    diff = names.index("difference")
    negative = next(r for r in shown if r[diff] is not None and r[diff] < 0)
    header, *rows = read_csv(download_bytes("gaps", "csv", history))
    as_text = [r[header.index("difference")] for r in rows]
    assert repr(negative[diff]) in as_text and not any(v.startswith("'") for v in as_text)
    gaps = load_workbook(io.BytesIO(download_bytes("gaps", "xlsx", history)))["gaps"]
    column = [c.value for c in next(gaps.iter_cols(min_col=diff + 1, max_col=diff + 1, min_row=2))]
    # openpyxl writes 16 significant digits (Excel itself keeps 15).
    assert any(v is not None and v == pytest.approx(negative[diff], rel=1e-15) for v in column)
    assert all(v is None or isinstance(v, float) for v in column)


def test_the_responses_workbook_matches_the_csv_with_numbers_as_numbers_and_a_codebook(history):
    from openpyxl import load_workbook

    header, *rows = read_csv(download_bytes("responses", "csv", history))
    book = load_workbook(io.BytesIO(download_bytes("responses", "xlsx", history)), read_only=True)
    assert book.sheetnames == ["responses", "codebook"]
    sheet = [padded(r, len(header)) for r in book["responses"].iter_rows(values_only=True)]
    assert sheet[0] == header
    for csv_row, xlsx_row in zip(rows, sheet[1:], strict=True):
        for value, cell in zip(csv_row, xlsx_row, strict=True):
            if value in ("", None):
                assert cell is None
            elif value.isdigit():
                assert cell == int(value) and isinstance(cell, int)
            else:
                assert cell == value
    codebook = [list(r) for r in book["codebook"].iter_rows(values_only=True)]
    assert codebook[0] == [
        "table", "column", "type", "label", "label_cy", "supplier_label", "description",
        "description_cy", "value_labels", "value_labels_cy",
    ]  # fmt: skip
    assert [r[1] for r in codebook[1:]] == header
    sp3 = next(r for r in codebook if r[1] == "sp3")
    assert sp3[2] == "answer" and "dk = Don't know" in sp3[8] and "1 = Strongly disagree" in sp3[8]
    assert "Geiriad y cleient: “" in sp3[7] and sp3[7] != sp3[6]  # description_cy


def test_the_responses_json_is_one_object_with_described_columns_and_rows(history):
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    doc = json.loads(download_bytes("responses", "json", history))
    assert doc["table"] == "responses" and doc["waves"] == ["2024-Q1", "2024-Q2"]
    assert [c["name"] for c in doc["columns"]] == header
    assert all(c["description"] for c in doc["columns"])
    for csv_row, json_row in zip(rows, doc["rows"], strict=True):
        assert [("" if v is None else str(v)) for v in json_row] == [
            v[1:] if v.startswith("'") else v for v in csv_row
        ]  # JSON carries text unchanged (no spreadsheet runs it)


def test_the_spss_file_has_variable_and_value_labels_and_declares_dont_know_missing(
    history, tmp_path
):
    import pyreadstat

    path = tmp_path / "responses.sav"
    path.write_bytes(download_bytes("responses", "sav", history))
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    header, *rows = read_csv(download_bytes("responses", "csv", history))
    assert list(frame.columns) == header
    labels = meta.column_names_to_labels
    # The client's wording, with the supplier's name where the statement names the partner.
    sp1 = frozen_instrument(results.closed_waves(history)[0].instrument_version).item("sp1")
    assert labels["sp1"] == sp1.wording.client.replace("{partner}", "Test Supplier")
    assert "Test Supplier" in labels["sp1"]
    assert labels["response_id"] == "Response key"
    # The supplier's staff read the mirrored statement, naming the council: in the file's
    # document (one entry per item whose wording differs), as in the codebook.
    supplier = sp1.wording.supplier.replace("{partner}", "Test Council")
    assert supplier != labels["sp1"]
    document = " ".join(line.strip() for line in meta.notes)
    assert f"sp1: {' '.join(supplier.split())}" in document
    assert all(len(line.encode("utf-8")) <= 80 for line in meta.notes)
    codebook_rows = read_csv(download_bytes("codebook", "csv", history))
    sp1_entry = next(r for r in codebook_rows if r[:2] == ["responses", "sp1"])
    assert [sp1_entry[3], sp1_entry[5]] == [labels["sp1"], supplier]
    items = frozen_instrument(results.closed_waves(history)[0].instrument_version).items
    differ = {
        item.key
        for item in items
        if item.wording.client.replace("{partner}", "Test Supplier")
        != item.wording.supplier.replace("{partner}", "Test Council")
    }
    assert meta.notes[0] == exports.spss.DOCUMENT_HEADING
    assert {line.split(":")[0] for line in meta.notes[1:] if line[0] != " "} == differ
    for item in items:  # the codebook gives the supplier's wording exactly where it differs
        entry = next(r for r in codebook_rows if r[:2] == ["responses", item.key])
        assert bool(entry[5]) == (item.key in differ), item.key
    # Each service area's key is labelled with its name.
    assert meta.variable_value_labels["service_area"] == {
        "core-ict": "Core ICT",
        "contact-centre": "Contact centre",
        exports.OTHER: exports.OTHER_LABEL,
    }
    assert meta.variable_value_labels["sp3"][9.0] == "Don't know"
    assert meta.variable_value_labels["sp3"][1.0] == "Strongly disagree"
    assert meta.missing_ranges["sp3"] == [{"lo": 9.0, "hi": 9.0}]
    assert "sp1" not in meta.missing_ranges  # sp1 offers no "don't know"
    assert meta.variable_measure["sp1"] == "ordinal"
    column = header.index("sp3")
    for row, value in zip(rows, frame["sp3"], strict=True):
        if row[column] == "":
            assert value != value  # system-missing (NaN)
        else:
            assert value == (9.0 if row[column] == "dk" else float(row[column]))
    # Read as SPSS would analyse it: "don't know" is missing, not a 9 on the scale.
    plain, _ = pyreadstat.read_sav(str(path))
    assert plain["sp3"].max() <= 5


def test_the_spss_file_in_welsh_is_labelled_in_welsh_and_the_codebook_gives_both(
    history, app, tmp_path
):
    import pyreadstat

    from survey_app.services.instruments import wave_instrument

    wave = results.closed_waves(history)[0]
    welsh = wave_instrument(wave)
    assert "cy" in welsh.languages  # the wave froze the instrument's Welsh when it opened
    sp1 = welsh.item("sp1")
    wording = sp1.text_in("client", "cy", partner="Test Supplier", partner_side="supplier")
    english = sp1.wording.client.replace("{partner}", "Test Supplier")
    scope = exports.export_scope(history)
    path = tmp_path / "ymatebion.sav"
    path.write_bytes(
        b"".join(exports.prepare_download("responses", "sav", scope, language="cy").chunks)
    )
    _, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["sp1"] == wording != english
    assert labels["response_id"] == "Allwedd yr ymateb" and labels["side"] == "Ochr"
    assert meta.variable_value_labels["sp3"][1.0] == welsh.scale.labels_in("cy")[0]
    assert meta.variable_value_labels["sp3"][9.0] == welsh.scale.dont_know_label_in("cy")
    assert meta.variable_value_labels["side"]["client"] == "Cleient (y cyngor)"
    assert meta.variable_value_labels["service_area"]["core-ict"] == "Core ICT"  # a name
    # The codebook gives both languages, whichever the file's.
    codebook = read_csv(download_bytes("codebook", "csv", history))
    head = codebook[0]
    entry = dict(zip(head, next(r for r in codebook if r[:2] == ["responses", "sp1"]), strict=True))
    assert (entry["label"], entry["label_cy"]) == (english, wording)
    assert welsh.scale.labels_in("cy")[0] in entry["value_labels_cy"]
    side = dict(zip(head, next(r for r in codebook if r[:2] == ["responses", "side"]), strict=True))
    assert (side["label"], side["label_cy"]) == ("Side", "Ochr")
    # Over the web, the file is in the reader's language.
    rel_id = history.id
    client = signed_in_client(app, "admin")
    client.get("/downloads/?lang=cy")
    body = client.get(f"/downloads/{rel_id}/responses.sav").get_data()
    (tmp_path / "web.sav").write_bytes(body)
    _, web = pyreadstat.read_sav(str(tmp_path / "web.sav"))
    assert web.column_names_to_labels["sp1"] == wording


# ----------------------------------------------------------------------------- results tables


@pytest.mark.parametrize("table", exports.RESULT_TABLES)
def test_each_results_table_downloads_as_persisted_with_suppression(history, table):
    from openpyxl import load_workbook

    names, shown = results.output_table(
        table, history, None if table == "trends" else results.closed_waves(history)
    )
    assert shown, f"the history has {table}"

    header, *rows = read_csv(download_bytes(table, "csv", history))
    assert header == names
    assert len(rows) == len(shown)
    for row, expected in zip(rows, shown, strict=True):
        for value, want in zip(row, expected, strict=True):
            if want is None or (isinstance(want, float) and not math.isfinite(want)):
                assert value == ""  # blank; so are ±inf and NaN (no spreadsheet reads them)
            elif isinstance(want, bool):
                assert value == ("true" if want else "false")
            elif isinstance(want, float):
                assert float(value) == want
            else:
                assert value.lstrip("'") == str(want)

    doc = json.loads(download_bytes(table, "json", history))
    assert [c["name"] for c in doc["columns"]] == names
    assert doc["rows"] == [[finite_or_none(v) for v in r] for r in shown]

    book = load_workbook(io.BytesIO(download_bytes(table, "xlsx", history)), read_only=True)
    assert book.sheetnames == [table, "codebook"]
    sheet = [padded(r, len(names)) for r in book[table].iter_rows(values_only=True)]
    assert sheet[0] == names
    for row, expected in zip(sheet[1:], shown, strict=True):
        for value, want in zip(row, expected, strict=True):
            if isinstance(want, str):
                assert value.lstrip("'") == want
            elif isinstance(want, float) and not math.isfinite(want):
                assert value is None
            elif isinstance(want, float) and not isinstance(want, bool):
                assert value == pytest.approx(want, rel=1e-15)  # 16 significant digits
            else:
                assert value == want


#: How a workbook shows some columns, as a reader expects them: 2 decimals for a mean, 3 for a
#: p-value, 1 for a percentage or a 0–100 value; counts are whole numbers in General format.
SHOWN_AS = {
    ("scores", "mean"): "0.00",
    ("scores", "sd"): "0.00",
    ("scores", "score100"): "0.0",
    ("scores", "favourable_pct"): "0.0",
    ("scores", "change_p_adjusted"): "0.000",
    ("scores", "n"): "General",
    ("gaps", "mean_client"): "0.00",
    ("gaps", "difference"): "0.00",
    ("gaps", "welch_p"): "0.000",
    ("gaps", "p_adjusted"): "0.000",
    ("gaps", "g"): "0.00",
    ("gaps", "n_client"): "General",
}


@pytest.mark.parametrize("table", ["scores", "gaps"])
def test_workbook_numbers_show_a_few_decimals_and_keep_every_digit(history, table):
    from openpyxl import load_workbook

    names, shown = results.output_table(table, history, results.closed_waves(history))
    sheet = load_workbook(io.BytesIO(download_bytes(table, "xlsx", history)))[table]
    assert [c.value for c in sheet[1]] == names
    checked = set()
    for row, expected in zip(sheet.iter_rows(min_row=2), shown, strict=True):
        for cell, want, name in zip(row, expected, names, strict=False):
            if isinstance(want, bool) or want is None:
                continue
            if isinstance(want, float) and math.isfinite(want):
                assert cell.value == pytest.approx(want, rel=1e-15)  # the value is whole
                assert cell.number_format.startswith("0"), (name, cell.number_format)
            elif isinstance(want, int):
                assert cell.value == want and isinstance(cell.value, int)
                assert cell.number_format == "General", name
            else:
                continue
            if (table, name) in SHOWN_AS:
                assert cell.number_format == SHOWN_AS[(table, name)], name
                checked.add(name)
    assert checked == {name for t, name in SHOWN_AS if t == table}


def test_suppressed_cells_are_blank_and_say_why(history):
    names, shown = results.output_table("scores", history, results.closed_waves(history))
    header, *rows = read_csv(download_bytes("scores", "csv", history))
    suppressed = [r for r in rows if r[header.index("suppressed")]]
    assert suppressed, "the 2-person supplier cell is suppressed"
    for row in suppressed:
        assert row[header.index("mean")] == "" and row[header.index("n")] == ""
    assert not any(
        r[header.index("side")] == "supplier" and r[header.index("area")] == "contact-centre"
        and r[header.index("mean")] for r in rows
    )  # fmt: skip


def test_one_wave_downloads_only_that_waves_rows(history):
    header, *rows = read_csv(download_bytes("scores", "csv", history, "2024-Q2"))
    assert {r[0] for r in rows} == {"2024-Q2"}
    header, *rows = read_csv(download_bytes("responses", "csv", history, "2024-Q1"))
    assert {r[1] for r in rows} == {"2024-Q1"} and len(rows) == 26


def test_the_trends_of_one_wave_are_as_they_stood_when_it_closed(history):
    prepared = exports.prepare_download("trends", "csv", exports.export_scope(history, "2024-Q1"))
    assert prepared.filename == "relhealth-trends-2024-Q1.csv"
    header, *rows = read_csv(b"".join(prepared.chunks))
    first = [dict(zip(header, row, strict=True)) for row in rows]
    header, *rows = read_csv(download_bytes("trends", "csv", history))
    latest = [dict(zip(header, row, strict=True)) for row in rows]
    assert {r["latest_wave"] for r in first} == {"2024-Q1"}
    assert {r["latest_wave"] for r in latest} == {"2024-Q2"}
    assert {r["n_waves"] for r in first if r["n_waves"]} == {"1"}  # one wave closed by then
    assert {r["n_waves"] for r in latest if r["n_waves"]} == {"2"}
    # As of 2024-Q1, each cell's status, mean and count are those 2024-Q1's scores carry:
    # the download and the scores never disagree about a cell.
    header, *rows = read_csv(download_bytes("scores", "csv", history, "2024-Q1"))
    scores = {(r[1], r[2], r[4]): dict(zip(header, r, strict=True)) for r in rows}
    assert len(first) == len(scores)
    for row in first:
        cell = scores[(row["side"], row["area"], row["dimension"])]
        assert (row["status"], row["status_summary"], row["suppressed"]) == (
            cell["status"], cell["status_summary"], cell["suppressed"],
        )  # fmt: skip
        assert (row["latest_mean"], row["n_latest"]) == (cell["mean"], cell["n"])
    assert [r["latest_mean"] for r in first] != [r["latest_mean"] for r in latest]
    # In the workbook of every results table of one wave, the trends are that wave's too.
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(download_bytes("all", "xlsx", history, "2024-Q1")))
    sheet = list(book["trends"].iter_rows(values_only=True))
    column = sheet[0].index("latest_wave")
    assert {r[column] for r in sheet[1:]} == {"2024-Q1"}


def test_the_all_workbook_has_a_sheet_per_results_table_and_the_codebook(history):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(download_bytes("all", "xlsx", history)), read_only=True)
    tables = [*exports.RESULT_TABLES, *exports.DERIVED_TABLES]
    assert book.sheetnames == [*tables, "codebook"]
    described = {(r[0], r[1]) for r in book["codebook"].iter_rows(min_row=2, values_only=True)}
    for table in tables:
        header = next(book[table].iter_rows(values_only=True))
        assert {(table, name) for name in header} <= described


def test_a_table_longer_than_a_sheet_continues_on_another_sheet(monkeypatch, tmp_path):
    from openpyxl import load_workbook

    monkeypatch.setattr(exports.writers, "XLSX_MAX_ROWS", 4)
    table = exports.Table(
        "scores", (exports.Column("n", "integer", "a count"),), [[i] for i in range(7)]
    )
    exports.write_xlsx([table], tmp_path / "long.xlsx")
    book = load_workbook(tmp_path / "long.xlsx", read_only=True)
    assert book.sheetnames == ["scores", "scores_2", "scores_3", "codebook"]
    values = [
        r[0]
        for name in book.sheetnames[:3]
        for r in book[name].iter_rows(min_row=2, values_only=True)
    ]
    assert values == list(range(7))


def test_only_closed_waves_can_be_downloaded(history):
    from survey_app.services import ServiceError

    with pytest.raises(ServiceError, match="2099-Q1.*open: only closed waves"):
        exports.export_scope(history, "2099-Q1")
    with pytest.raises(ServiceError, match="no wave"):
        exports.export_scope(history, "1999-Q1")
    with pytest.raises(ServiceError, match="not offered as sav"):
        exports.prepare_download("scores", "sav", exports.export_scope(history))


FORMULA_TEXTS = ["=1+1", "+44 121", "-2 meetings", "@SUM(A1)", "\tindent", "\rreturn", HYPERLINK]


@pytest.mark.parametrize("text", FORMULA_TEXTS)
def test_formula_like_text_is_guarded_and_the_guard_comes_off_on_reading(text):
    guarded = formula_guard.neutralise(text)
    assert guarded == "'" + text
    assert formula_guard.restore(guarded) == text


@given(st.text(max_size=12))
@settings(max_examples=300, derandomize=True)
def test_the_formula_guard_round_trips_any_text_it_can_tell_from_its_own_output(text):
    guarded = formula_guard.neutralise(text)
    assert not guarded.startswith(formula_guard.FORMULA_START)  # nothing a spreadsheet runs
    if text.startswith("'") and text[1:].startswith(formula_guard.FORMULA_START):
        # "'=x" as written by a person reads back as "=x": the one text the guard cannot tell
        # from its own output (a spreadsheet shows both as =x).
        assert formula_guard.restore(guarded) == text[1:]
    else:
        assert formula_guard.restore(guarded) == text


def test_the_mail_merge_file_and_the_downloads_guard_cells_the_same_way():
    rows = list(
        csv.reader(
            io.StringIO(mailing.mail_merge._csv(iter([[t, "x", "y", "z"] for t in FORMULA_TEXTS])))
        )
    )
    assert [r[0] for r in rows[1:]] == [formula_guard.neutralise(t) for t in FORMULA_TEXTS]


def test_the_downloads_index_counts_each_relationships_closed_waves(factory, history):
    empty = factory.relationship("A council — A supplier")
    factory.wave(empty, "2024-Q1", state="open")
    listed = {rel.name: closed for rel, closed in exports.downloadable_relationships()}
    assert listed == {history.name: 2, empty.name: 0}
    assert list(listed) == sorted(listed)


def test_spss_names_are_valid_and_unique():
    assert exports.spss_names(["sp1", "1st", "with space", "AND", "a-b", "sp1"]) == [
        "sp1", "v1st", "with_space", "AND_", "a_b", "sp1_2",
    ]  # fmt: skip
    assert exports.dont_know_code(5) == 9 and exports.dont_know_code(10) == 99


# ----------------------------------------------------------------------------- the web


def test_the_downloads_page_lists_each_table_and_format_for_closed_waves(app, history):
    rel_id, rel_name = history.id, history.name
    client = signed_in_client(app, "reviewer")
    index = client.get("/downloads/")
    assert index.status_code == 200 and rel_name in index.get_data(as_text=True)
    page = client.get(f"/downloads/{rel_id}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for table in exports.TABLES:
        assert f"/downloads/{rel_id}/{table}.csv" in html
    assert f"/downloads/{rel_id}/responses.sav" in html
    assert f"/downloads/{rel_id}/all.xlsx" in html
    assert "2099-Q1" not in html, "an open wave is not offered"
    one = client.get(f"/downloads/{rel_id}/?wave=2024-Q1").get_data(as_text=True)
    assert f"/downloads/{rel_id}/scores.csv?wave=2024-Q1" in one
    bad = client.get(f"/downloads/{rel_id}/?wave=2099-Q1")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "govuk-error-summary" in html
    assert "Select a closed wave, or all closed waves" in html  # GOV.UK's style of message
    assert "Not a valid choice" not in html


def test_a_csv_download_streams_as_an_attachment_and_is_audited(app, history):
    rel_id = history.id
    client = signed_in_client(app, "reviewer")
    response = client.get(f"/downloads/{rel_id}/scores.csv?wave=2024-Q1")
    assert response.status_code == 200
    assert response.is_streamed
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="relhealth-scores-2024-Q1.csv"'
    )
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    assert response.get_data() == download_bytes("scores", "csv", rel_id, "2024-Q1")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "download"))
    assert event.actor == "reviewer@exchange.example" and event.user_id is not None
    assert event.detail == {
        "relationship": rel_id, "table": "scores", "format": "csv", "wave": "2024-Q1",
    }  # fmt: skip


@pytest.mark.parametrize("fmt", ["xlsx", "json", "sav"])
def test_every_format_downloads_over_the_web(app, history, fmt):
    rel_id = history.id
    client = signed_in_client(app, "admin")
    response = client.get(f"/downloads/{rel_id}/responses.{fmt}")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="relhealth-responses-all-waves.{fmt}"'
    )
    assert response.headers["Content-Type"] == exports.MEDIA_TYPES[fmt]
    body = response.get_data()
    assert len(body) > 1000
    if fmt == "json":
        assert len(json.loads(body)["rows"]) == 52


def test_a_download_of_an_open_wave_or_an_unknown_table_is_not_found(app, history):
    rel_id = history.id
    client = signed_in_client(app, "reviewer")
    assert client.get(f"/downloads/{rel_id}/scores.csv?wave=2099-Q1").status_code == 404
    from flask_babel import force_locale

    with pytest.raises(ServiceError) as refused:
        exports.export_scope(rel_id, "2099-Q1")
    with force_locale("cy"):  # the refusal is said in its reader's language
        assert str(refused.value).startswith("mae cylch '2099-Q1' ar agor")
    assert client.get(f"/downloads/{rel_id}/secrets.csv").status_code == 404
    assert client.get(f"/downloads/{rel_id}/scores.sav").status_code == 404
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "download")
        )
        == 0
    )


def test_anonymous_visitors_are_sent_to_sign_in_and_managers_may_not_download(app, history):
    rel_id = history.id
    url = f"/downloads/{rel_id}/responses.csv"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert signed_in_client(app, "manager").get(url).status_code == 403
    assert signed_in_client(app, "manager").get("/downloads/").status_code == 403
    assert signed_in_client(app, "reviewer").get(url).status_code == 200
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "download")
        )
        == 1
    )


# ----------------------------------------------------------------------------- the CLI


def test_the_cli_exports_to_stdout_and_to_a_file_and_audits(runner, history, tmp_path):
    rel_name = history.name
    result = runner.invoke(
        args=["export", "--table", "scores", "--format", "csv", "--wave", "2024-Q2"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == download_bytes("scores", "csv", history, "2024-Q2")
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=["export", "--table", "responses", "--format", "xlsx", "-r", rel_name, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"PK")
    actions = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "download")).all()
    assert [(e.actor, e.detail["table"], e.detail["format"]) for e in actions] == [
        ("cli", "scores", "csv"), ("cli", "responses", "xlsx"),
    ]  # fmt: skip


def test_a_cli_export_of_an_open_wave_fails_in_one_line_and_writes_nothing(
    runner, history, tmp_path
):
    out = tmp_path / "x.csv"
    result = runner.invoke(
        args=["export", "--table", "scores", "--wave", "2099-Q1", "-o", str(out)]
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "Error: wave '2099-Q1' is open: only closed waves can be downloaded"
    )
    assert not out.exists() and not list(tmp_path.glob("*x.csv*"))
    result = runner.invoke(args=["export", "--table", "scores", "--format", "sav"])
    assert result.exit_code == 1 and "not offered as sav" in result.output


def write_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_welsh_download_gives_the_heat_maps_reasons_in_welsh_and_an_english_one_as_stored(
    history, monkeypatch
):
    """A heat map's ``reason`` is stored as the English analysis.heatmap marks (N_) and worded
    in the language the download is asked in; the English download shows it as stored."""
    from openpyxl import load_workbook

    from survey_app.services.results import store

    # The history's cells that were not compared are all too small to publish: show every
    # row, as if published, to see the reasons through the download.
    monkeypatch.setattr(
        store, "suppress_rows", lambda name, rows, k, scores=None: [
            {**r, results.SUPPRESSED: None} for r in rows
        ],
    )  # fmt: skip
    _, stored = results.stored_rows("heat_map", history, results.closed_waves(history))
    reasons = {r["reason"] for r in stored if r.get("reason")}
    assert reasons, "the history has a heat-map cell that was not compared"
    welsh = {english: gettext_in("cy", english) for english in reasons}
    assert all(welsh[r] != r for r in reasons), "every reason has its Welsh"

    def reason_column(fmt: str, language: str) -> set[str]:
        with force_locale(language):
            data = download_bytes("heat_map", fmt, history)
        if fmt == "csv":
            header, *rows = read_csv(data)
        else:
            book = load_workbook(io.BytesIO(data), read_only=True)
            header, *rows = book["heat_map"].iter_rows(values_only=True)
        column = list(header).index("reason")
        return {row[column] for row in rows if column < len(row) and row[column]}

    for fmt in ("csv", "xlsx"):
        assert reason_column(fmt, "en") == reasons
        assert reason_column(fmt, "cy") == set(welsh.values())


def gettext_in(language: str, text: str) -> str:
    with force_locale(language):
        return gettext(text)


def test_a_welsh_download_gives_every_tables_reasons_in_welsh(history):
    """The ``reason`` (why a figure is not computed) and ``suppressed`` (why it is hidden)
    columns are stored as the English analysis marks (N_) and worded in the download's language:
    the Welsh download has none of the English one's."""
    seen: dict[str, set[str]] = {}
    for table in ("scores", "items", "gaps", "trends", "drivers", *results.DEEPER_TABLES):
        downloads = {}
        for language in ("en", "cy"):
            with force_locale(language):
                downloads[language] = read_csv(download_bytes(table, "csv", history))
        (en_header, *en_rows), (cy_header, *cy_rows) = downloads["en"], downloads["cy"]
        assert en_header == cy_header and len(en_rows) == len(cy_rows)
        for column in ("reason", results.SUPPRESSED):
            if column not in en_header:
                continue
            i = en_header.index(column)
            for en, cy in zip(en_rows, cy_rows, strict=True):
                if en[i]:
                    seen.setdefault(column, set()).add(en[i])
                    assert cy[i] != en[i], (table, column, en[i])
    assert results.PRIMARY in seen[results.SUPPRESSED], seen
    assert seen.get("reason"), "the history has a figure not computed"


def test_a_stored_reason_is_said_in_the_readers_language_numbers_and_all(app):
    from survey_app.services.results import wording

    stored = "needs at least 5 waves; EWMA and CUSUM need 3 waves"
    with force_locale("cy"):
        assert (
            wording.said(stored) == "mae angen o leiaf 5 cylch; mae angen 3 chylch ar EWMA a CUSUM"
        )
        assert wording.said("fewer than 25 responses") == "llai na 25 ymateb"
        assert wording.said("fewer than 100 complete responses") == "llai na 100 ymateb cyflawn"
        assert wording.said("secondary: would reveal a suppressed cell").startswith("eilaidd:")
        assert wording.said("a reason nobody marked") == "a reason nobody marked"
    assert wording.said(stored) == stored
