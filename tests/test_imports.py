"""Importing historical responses: good files round-trip; every kind of bad row or bad file
gets a report naming it and changes nothing; an exported history imported into an empty
database reproduces identical results."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Comment,
    Job,
    Relationship,
    Response,
    ResultTable,
    Wave,
)
from survey_app.services import exports, results
from survey_app.services.imports import (
    FileRefused,
    ImportRejected,
    StaffListRejected,
    import_responses,
    period_of,
)
from survey_app.services.imports.spreadsheets import column_letter
from survey_app.services.imports.uploads import uploads_dir
from survey_app.services.results import closed_waves
from tests.conftest import empty_tables
from tests.demo_site import closed_demo
from tests.exchange import (
    HYPERLINK,
    as_stored,
    csv_bytes,
    database_digest,
    download_bytes,
    fresh_rows,
    history_fixture,  # noqa: F401 (the history fixture)
    read_csv,
    signed_in_client,
    upload,
)


def run_import(data: bytes, relationship, *, name: str = "responses.csv", wave: str | None = None):
    rel = db.session.get(
        Relationship, relationship if isinstance(relationship, int) else relationship.id
    )
    try:
        report = import_responses(
            io.BytesIO(data), rel, filename=name, wave_label=wave, actor="test"
        )
    except ImportRejected:
        db.session.rollback()
        raise
    db.session.commit()
    return report


# ----------------------------------------------------------------------------- good files


def test_a_good_csv_is_stored_exactly_and_exports_back_the_same(history):
    rel_id = history.id
    rows = fresh_rows(history)
    report = run_import(csv_bytes(rows), rel_id)
    assert report.responses == {"2023-Q1": 26, "2023-Q2": 26}
    assert report.waves_created == ["2023-Q1", "2023-Q2"]
    header, *back = as_stored(read_csv(download_bytes("responses", "csv", rel_id, "2023-Q1")))
    assert header == rows[0]
    mine = sorted(r for r in rows[1:] if r[1] == "2023-Q1")
    assert sorted(back) == mine, "every cell, don't-knows and blanks included, comes back"
    # The export's CSV-injection guard is removed on the way in: the text round-trips.
    stored = set(db.session.scalars(select(Comment.text)))
    assert HYPERLINK in stored and "'" + HYPERLINK not in stored
    waves = {
        w.label: w for w in db.session.scalars(select(Wave).where(Wave.relationship_id == rel_id))
    }
    assert waves["2023-Q1"].state == "closed" and waves["2023-Q2"].state == "closed"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "responses.import"))
    assert event.detail["responses"] == 52 and event.detail["waves_created"] == [
        "2023-Q1",
        "2023-Q2",
    ]


def test_imported_waves_take_their_place_in_time_and_get_their_results(history):
    rel_id = history.id
    run_import(csv_bytes(fresh_rows(history)), rel_id)
    rel = db.session.get(Relationship, rel_id)
    assert [w.label for w in closed_waves(rel)] == [
        "2023-Q1",
        "2023-Q2",
        "2024-Q1",
        "2024-Q2",
    ]
    stored = db.session.execute(
        select(Wave.label, func.count()).join(ResultTable, ResultTable.wave_id == Wave.id)
        .where(Wave.relationship_id == rel_id).group_by(Wave.label)
    ).all()  # fmt: skip
    assert {label for label, n in stored if n >= 5} >= {"2023-Q1", "2023-Q2", "2024-Q1", "2024-Q2"}
    # Same answers as 2024-Q1 (under other keys, so summed in another order): the same means.
    names, q1_2023 = results.output_table(
        "scores", rel, [w for w in closed_waves(rel) if w.label == "2023-Q1"]
    )
    names, q1_2024 = results.output_table(
        "scores", rel, [w for w in closed_waves(rel) if w.label == "2024-Q1"]
    )
    mean = names.index("mean")
    assert [r[mean] is None for r in q1_2023] == [r[mean] is None for r in q1_2024]
    assert [r[mean] for r in q1_2023 if r[mean] is not None] == pytest.approx(
        [r[mean] for r in q1_2024 if r[mean] is not None], rel=1e-12
    )


def test_an_xlsx_file_in_the_responses_layout_imports(history):
    from openpyxl import Workbook

    rel_id = history.id
    rows = fresh_rows(history)
    book = Workbook()
    book.active.title = "codebook"  # the responses sheet is found by name, not position
    sheet = book.create_sheet("responses")
    for row in rows:
        sheet.append([int(v) if v.isdigit() else (v or None) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run_import(buffer.getvalue(), rel_id, name="old-waves.xlsx")
    assert report.file_format == "xlsx" and report.total == 52


def test_a_downloaded_workbook_imports_as_it_is(history):
    from openpyxl import load_workbook

    rel_id = history.id
    data = download_bytes("responses", "xlsx", rel_id)
    book = load_workbook(io.BytesIO(data))
    sheet = book["responses"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    original = as_stored(rows)  # the download generalises small groups (tests/disclosure)
    for cells, values in zip(sheet.iter_rows(min_row=2), original[1:], strict=True):
        for cell, value in zip(cells[2:5], values[2:5], strict=True):
            cell.value = value or None
        cells[0].value = str(uuid.uuid4())
        cells[1].value = cells[1].value.replace("2024", "2022")
    buffer = io.BytesIO()
    book.save(buffer)
    assert run_import(buffer.getvalue(), rel_id, name="r.xlsx").total == 52


def test_generalised_rows_of_a_k_anonymous_download_are_refused_clearly(history):
    rel_id = history.id
    header, *rows = read_csv(download_bytes("responses", "csv", rel_id))
    for row in rows:
        row[0] = str(uuid.uuid4())
    before = database_digest()
    with pytest.raises(ImportRejected) as refused:
        run_import(csv_bytes([header, *rows]), rel_id)
    assert "is _other: a group of fewer than k responses combined" in " ".join(
        refused.value.problems
    )
    assert database_digest() == before


def test_the_wave_option_imports_only_that_waves_rows(history):
    rel_id = history.id
    report = run_import(csv_bytes(fresh_rows(history)), rel_id, wave="2023-Q2")
    assert report.responses == {"2023-Q2": 26} and report.rows_skipped == 26
    assert "Skipped 26 rows of other waves." in report.lines()


def test_wave_labels_that_name_a_period_give_the_wave_its_time():
    start, end = period_of("2011-Q3")
    assert (start.isoformat(), end.isoformat()) == ("2011-07-01T00:00:00", "2011-09-30T23:59:59")
    assert period_of("2011-12")[1].isoformat() == "2011-12-31T23:59:59"
    assert period_of("2011")[0].isoformat() == "2011-01-01T00:00:00"
    assert period_of("Spring survey") is None


# ----------------------------------------------------------------------------- bad rows


def _set(column: str, value: str, row: int = 14):
    def change(rows):
        rows[row - 1][rows[0].index(column)] = value

    return change


def _duplicate(rows):
    rows[5][0] = rows[4][0]


def _first_of(wave: str):
    def change(rows):
        rows[1][1] = wave

    return change


BAD_ROWS = [
    ("off the scale", _set("tr3", "7"), "row 14, column tr3: 7 is not on the 1–5 scale"),
    ("zero", _set("tr3", "0"), "row 14, column tr3: 0 is not on the 1–5 scale"),
    ("a fraction", _set("tr3", "3.5"), "row 14, column tr3: 3.5 is not on the 1–5 scale"),
    ("words", _set("sp2", "agree"), "row 14, column sp2: 'agree' is not an answer"),
    ("don't know where not allowed", _set("sp1", "dk"), "row 14, column sp1: “don't know” is not an answer this item allows"),
    ("an unknown side", _set("side", "council"), "row 14, column side: 'council' is not a side"),
    ("an unknown area", _set("service_area", "parks"), "row 14, column service_area: 'parks' is not a service area"),
    ("an unknown role", _set("role_level", "boss"), "row 14, column role_level: 'boss' is not a role level"),
    ("a malformed key", _set("response_id", "abc"), "row 14, column response_id: 'abc' is not a response key"),
    ("a key twice", _duplicate, "row 6, column response_id:"),
    ("an unknown instrument", _set("instrument", "no-such"), "row 14, column instrument: no instrument 'no-such'"),
    ("a bad version", _set("instrument_version", "one"), "row 14, column instrument_version: 'one' is not a version number"),
    ("an open wave", _first_of("2099-Q1"), "row 2, column wave: wave 2099-Q1 is open"),
    ("a wave with responses", _first_of("2024-Q1"), "row 2, column wave: wave 2024-Q1 already has 26 responses"),
    ("a blank wave", _set("wave", ""), "row 14, column wave: is blank"),
    ("a bad wave label", _set("wave", "2023/Q1"), "row 14, column wave: '2023/Q1' is not a wave label"),
    ("a blank side", _set("side", ""), "row 14, column side: is blank"),
    ("a comment too long", _set("comment_keep", "x" * 2001), "row 14, column comment_keep: the comment has 2,001 characters: at most 2,000"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "message"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_stored(
    history, case, change, message
):
    rel_id = history.id
    rows = fresh_rows(history)
    change(rows)
    before = database_digest()
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_bytes(rows), rel_id)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
    assert caught.value.rows_checked == 52
    assert database_digest() == before


def test_every_bad_row_is_listed_not_just_the_first(history):
    rel_id = history.id
    rows = fresh_rows(history)
    for n in (3, 9, 40):
        rows[n - 1][rows[0].index("tr1")] = "6"
    rows[20][rows[0].index("side")] = "vendor"
    before = database_digest()
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_bytes(rows), rel_id)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "row 3, column tr1", "row 9, column tr1", "row 21, column side", "row 40, column tr1",
    ]  # fmt: skip
    assert str(caught.value).splitlines()[0] == "Nothing was imported: 4 problems in 52 rows:"
    assert database_digest() == before


def test_responses_already_stored_are_refused(history):
    rel_id = history.id
    data = download_bytes("responses", "csv", rel_id)
    header, *rows = as_stored(read_csv(data))
    for row in rows:
        row[1] = row[1].replace("2024", "2021")  # new waves, but the same response keys
    before = database_digest()
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_bytes([header, *rows]), rel_id)
    assert "is already stored: was this file imported before?" in caught.value.problems[0]
    assert database_digest() == before


def test_a_value_in_a_column_the_instrument_lacks_is_refused(history):
    rel_id = history.id
    rows = fresh_rows(history)
    rows[0].append("xx9")
    for row in rows[1:]:
        row.append("")
    rows[7][-1] = "3"
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_bytes(rows), rel_id)
    assert caught.value.problems == [
        "row 8, column xx9: is not an item of partnership-health v1, so it must be blank"
    ]


def test_problems_past_the_limit_are_counted(history):
    rel_id = history.id
    rows = fresh_rows(history)
    for row in rows[1:]:
        for key in ("sp1", "sp2", "tr1", "tr2"):
            row[rows[0].index(key)] = "9"
    with pytest.raises(ImportRejected) as caught:
        run_import(csv_bytes(rows), rel_id)
    assert len(caught.value.problems) == 100 and caught.value.more == 52 * 4 - 100
    assert str(caught.value).endswith("... and 108 more")


# ----------------------------------------------------------------------------- bad files


def _zip_of(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "hello")
    return buffer.getvalue()


BAD_FILES = [
    ("empty", b"", "data.csv", "The file is empty"),
    ("a picture", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "data.csv", "The file is not a CSV file (it holds binary data)"),
    ("latin-1 text", "wave,side\n2023-Q1,caf\xe9\n".encode("latin-1"), "data.csv", "The file is not UTF-8 text"),
    ("an old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "data.xls", "The file is an old Excel 97–2003 workbook"),
    ("a broken xlsx", b"PK\x03\x04" + bytes(100), "data.xlsx", "The file is not a readable Excel workbook (.xlsx)"),
    ("a zip that is no workbook", _zip_of("notes.txt"), "data.xlsx", "The file is a zip archive but not an Excel workbook"),
    ("text named xlsx", b"wave,side\n", "data.xlsx", "The file is named .xlsx but is not an Excel workbook"),
    ("the wrong header", b"name,email,score\nAna,a@example.org,3\n", "data.csv", "the header row has no side, instrument, instrument_version, wave columns"),
    ("a column named twice", b"wave,side,instrument,instrument_version,sp1,sp1\n", "data.csv", "the header names column 'sp1' twice"),
    ("a header only", b"wave,side,instrument,instrument_version,sp1\r\n", "data.csv", "The file has no responses to import"),
    ("an oversized field", b"wave,side,instrument,instrument_version\r\n\"" + b"x" * 200_000 + b"\",client,partnership-health,1\r\n", "data.csv", "Row 2 is not valid CSV"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "data", "name", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES]
)
def test_a_file_that_is_not_a_responses_file_is_refused_clearly(history, case, data, name, message):
    rel_id = history.id
    before = database_digest()
    with pytest.raises(ImportRejected) as caught:
        run_import(data, rel_id, name=name)
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert database_digest() == before


def test_column_letters_are_those_a_spreadsheet_shows():
    from openpyxl.utils import get_column_letter  # the spreadsheet library's own numbering

    assert [column_letter(i) for i in range(18_278)] == [
        get_column_letter(i + 1) for i in range(18_278)
    ]


def test_a_refusal_says_what_was_not_done_in_each_uploads_words():
    rows = ImportRejected(["row 2, column side: is blank"], more=3, rows_checked=9)
    assert str(rows).splitlines() == [
        "Nothing was imported: 4 problems in 9 rows:",
        "  row 2, column side: is blank",
        "  ... and 3 more",
    ]
    assert rows.field_message == (
        "The selected file has 4 problems: nothing was imported. Correct them and upload the "
        "file again"
    )
    assert str(FileRefused("The file is empty")) == "Nothing was imported: The file is empty"
    assert FileRefused("The file is empty").field_message == "The file is empty"
    staff = StaffListRejected(["Row 2, column A (email): enter an email address"], rows_checked=1)
    assert str(staff) == "Nobody was added: 1 problem in 1 row"
    assert staff.field_message.startswith("The selected file has 1 problem: nobody was added.")


def test_size_and_row_limits_are_enforced(app, history):
    rel_id = history.id
    data = csv_bytes(fresh_rows(history))
    app.config["IMPORT_MAX_BYTES"] = 1000
    with pytest.raises(FileRefused, match="files must be smaller than"):
        run_import(data, rel_id)
    app.config["IMPORT_MAX_BYTES"] = 10**8
    app.config["IMPORT_MAX_ROWS"] = 10
    with pytest.raises(FileRefused, match="more than 10 rows"):
        run_import(data, rel_id)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 52


def test_a_bad_row_in_a_late_batch_still_leaves_nothing_stored(monkeypatch, history):
    from survey_app.services import imports

    monkeypatch.setattr(imports.responses, "BATCH", 5)  # several batches are inserted before row 50
    rel_id = history.id
    rows = fresh_rows(history)
    rows[49][rows[0].index("tr1")] = "8"
    before = database_digest()
    with pytest.raises(ImportRejected, match="row 50, column tr1"):
        run_import(csv_bytes(rows), rel_id)
    assert database_digest() == before


# ----------------------------------------------------------------------------- round trip


@pytest.mark.slow
def test_an_exported_history_imported_into_an_empty_database_gives_identical_results(app):
    from survey_app.services import demo
    from survey_app.services.relationships import create_relationship

    closed_demo()  # load_demo's closed waves, copied when loaded earlier this run
    rel = db.session.scalar(select(Relationship).where(Relationship.name == demo.NAME))
    if not db.session.scalar(select(func.count()).select_from(ResultTable)):
        results.recompute(rel)  # in case the demo loader leaves results to closing
        db.session.commit()
    rel_id = rel.id
    responses = download_bytes("responses", "csv", rel_id)
    original = csv_bytes(as_stored(read_csv(responses)))
    # Every results table but the margins, whose finite-population correction needs the
    # number invited to each group: invitations are not part of the exported history, so an
    # imported wave's margins are (rightly) the ordinary ones.
    before = {t: download_bytes(t, "csv", rel_id) for t in exports.RESULT_TABLES if t != "margins"}

    db.session.remove()
    empty_tables(db)
    rel = create_relationship(
        demo.NAME, client=demo.CLIENT, supplier=demo.SUPPLIER, service_areas=demo.AREAS
    )
    db.session.commit()
    report = run_import(original, rel.id)
    assert report.total == len(read_csv(responses)) - 1

    assert download_bytes("responses", "csv", rel.id) == responses
    for table, data in before.items():
        assert download_bytes(table, "csv", rel.id) == data, f"{table} differs after the round trip"


# ----------------------------------------------------------------------------- CLI and web


def test_the_cli_imports_a_file_and_reports_per_wave(runner, history, tmp_path):
    name = history.name
    path = tmp_path / "old.csv"
    path.write_bytes(csv_bytes(fresh_rows(history)))
    result = runner.invoke(args=["import", str(path), "--relationship", name])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Imported 52 responses into 2 waves of {name}:",
        "  2023-Q1: 26 responses (new wave, closed)",
        "  2023-Q2: 26 responses (new wave, closed)",
    ]
    job = db.session.scalars(select(Job)).one()  # the import page's job
    assert (job.kind, job.state) == ("responses.import", "succeeded")
    assert list(uploads_dir().iterdir()) == []  # its kept copy deleted once imported


def test_a_cli_import_of_a_bad_file_lists_the_problems_exits_1_and_changes_nothing(
    runner, history, tmp_path
):
    rows = fresh_rows(history)
    rows[13][rows[0].index("tr3")] = "7"
    path = tmp_path / "old.csv"
    path.write_bytes(csv_bytes(rows))
    before = database_digest()
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: Nothing was imported: 1 problem in 52 rows:",
        "  row 14, column tr3: 7 is not on the 1–5 scale (use a whole number 1–5 or leave it blank)",
    ]
    assert database_digest() == before
    missing = runner.invoke(args=["import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_an_admin_uploads_a_file_and_sees_what_was_imported(app, history):
    rel_id, rows = history.id, fresh_rows(history)
    client = signed_in_client(app, "admin")
    response = upload(client, rel_id, csv_bytes(rows))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.startswith("/jobs/")  # the import job's progress page
    html = client.get(response.location).get_data(as_text=True)  # the job ran (tests: at once)
    assert "Done" in html and "Imported 52 responses into 2 waves of" in html
    assert "2023-Q1: 26 responses (new wave, closed)" in html
    assert db.session.scalar(select(func.count()).select_from(Response)) == 104
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "responses.import"))
    assert event.actor == "admin@exchange.example" and event.detail["file"] == "old.csv"


def test_an_upload_with_bad_rows_lists_them_answers_400_and_stores_nothing(app, history):
    rel_id, rows = history.id, fresh_rows(history)
    rows[13][rows[0].index("tr3")] = "7"
    rows[2][rows[0].index("side")] = "council"
    client = signed_in_client(app, "admin")
    before = database_digest()
    response = upload(client, rel_id, csv_bytes(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in html and "<title>Error:" in html
    assert "The selected file has 2 problems: nothing was imported" in html
    assert "Row 14, column tr3: 7 is not on the 1–5 scale" in html
    assert "Row 3, column side: &#39;council&#39; is not a side" in html
    assert database_digest() == before


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (None, "", "Select a CSV or Excel file"),
        (b"", "empty.csv", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "picture.csv", "The file is not a CSV file"),
    ],
)
def test_an_upload_without_a_usable_file_gets_a_govuk_error(app, history, data, name, message):
    rel_id = history.id
    client = signed_in_client(app, "admin")
    before = database_digest()
    response = upload(client, rel_id, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert database_digest() == before


def test_only_admins_may_import(app, history):
    assert app.test_client().get("/admin/import/").status_code == 302
    assert signed_in_client(app, "reviewer").get("/admin/import/").status_code == 403
    assert signed_in_client(app, "manager").get("/admin/import/").status_code == 403
    assert signed_in_client(app, "admin").get("/admin/import/").status_code == 200
