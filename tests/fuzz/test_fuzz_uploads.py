"""Fuzzing the uploads: the staff list of a wave and the import of historical responses.

Random bytes, truncated or corrupt XLSX (a zip), CSV with BOMs, NUL bytes, invalid UTF-8, wrong
or duplicated headers, huge cells, and rows that are almost right: each is refused on the form
(400, the GOV.UK error summary, "nobody was added" / "nothing was imported"), never a 500, and the
database is unchanged. A body beyond MAX_CONTENT_LENGTH is 413.
"""

from __future__ import annotations

import io

from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.fuzz.conftest import (
    CSRF,
    FUZZ_SLOW,
    assert_clear_refusal,
    csrf_passes,
    csrf_value,
    nothing_changes,
    page_csrf,
)
from tests.fuzz.strategies import junk


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("?", c) if isinstance(c, str) else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_XLSX = xlsx([["email", "party"], ["ann@council.example", "client"]])
BOMS = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"]


def cell() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            ["", "client", "supplier", "Core ICT", '=HYPERLINK("x")', "a,b", '"', "x\ny"]
        ),
        st.text(max_size=12),
        st.just("z" * 40_000),  # a huge cell (beyond Excel's 32,767)
    )


def csv_text(rows: list[list[str]]) -> str:
    return "\r\n".join(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in r) for r in rows)


@st.composite
def bad_staff_list(draw: st.DrawFn) -> bytes:
    """A staff list with at least one problem (so that nobody may be added)."""
    kind = draw(st.sampled_from(["bytes", "truncated_zip", "csv", "xlsx", "header_only"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "truncated_zip":
        return GOOD_XLSX[: draw(st.integers(0, len(GOOD_XLSX) - 1))]
    header = draw(
        st.sampled_from(
            [
                ["email", "party"],
                ["Email Address", "Organisation", "Service area"],
                ["email", "email", "party"],
                ["e-mail"],
                ["party", "area"],
                ["\x00email", "party"],
                [],
            ]
        )
    )
    bad_row = draw(
        st.sampled_from(
            [
                ["not an email", "client"],
                ["ann@council.example", "the moon"],
                ["ann@council.example", ""],
                ["", "client"],
                ["a" * 300 + "@council.example", "client"],
                ["ann@council.example,bob@council.example", "client"],
                ["ann@council.example", "client", "Nowhere"],
            ]
        )
    )
    rows = [header, *draw(st.lists(st.lists(cell(), max_size=4), max_size=4)), bad_row]
    if kind == "header_only":
        rows = [header]
    if kind == "xlsx":
        return xlsx(rows)
    text = csv_text(rows)
    encoded = text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), "replace")
    mangle = draw(st.sampled_from(["", "nul", "cut", "invalid"]))
    if mangle == "nul":
        encoded = encoded.replace(b",", b"\x00,", 1)
    elif mangle == "cut":
        encoded = encoded[: draw(st.integers(0, len(encoded)))]
    elif mangle == "invalid":
        encoded += b"\xff\xfe\xc0\xaf"
    return draw(st.sampled_from(BOMS)) + encoded


filenames = st.one_of(
    st.sampled_from(
        ["staff.csv", "staff.xlsx", "staff.CSV", "staff.xls", "staff", ".xlsx", "s.exe", ""]
    ),
    st.text(max_size=20),
)


def multipart(client, path, mode, valid, other, fields, files):  # type: ignore[no-untyped-def]
    data: dict[str, object] = dict(fields)
    tokens = csrf_value(mode, valid, other)
    if tokens:
        data["csrf_token"] = tokens if len(tokens) > 1 else tokens[0]
    data.update(files)
    return client.post(path, data=data, content_type="multipart/form-data")


def test_fuzz_staff_list_upload(app, admin, world, other_csrf, caplog):
    path = f"/admin/waves/{world.open_wave}/staff-list"
    valid = page_csrf(admin, path)

    @FUZZ_SLOW
    @example(mode="valid", content=GOOD_XLSX[:100], filename="staff.xlsx", field="file")
    @example(mode="valid", content=b"\xef\xbb\xbfemail,party\r\n", filename="s.csv", field="file")
    @given(
        mode=CSRF,
        content=bad_staff_list(),
        filename=filenames,
        field=st.sampled_from(["file", "file", "file", "upload", "FILE"]),
    )
    def run(mode, content, filename, field):  # type: ignore[no-untyped-def]
        files = {field: (io.BytesIO(content), filename)}
        with nothing_changes(caplog):
            response = multipart(admin, path, mode, valid, other_csrf, {}, files)
            kind = assert_clear_refusal(response, statuses=(400,))
            assert kind == ("form" if csrf_passes(mode) else "csrf"), kind

    run()


@st.composite
def bad_import(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "truncated_zip", "csv", "xlsx"]))
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=300))
    if kind == "truncated_zip":
        return GOOD_XLSX[: draw(st.integers(1, len(GOOD_XLSX) - 1))]
    header = draw(
        st.sampled_from(
            [
                ["side", "instrument", "instrument_version", "wave", "response_id"],
                ["side", "instrument"],
                ["side", "side", "instrument", "instrument_version"],
                ["email", "party"],
                ["\ufeffside", "instrument", "instrument_version"],
            ]
        )
    )
    row = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["client", "partnership-health", "1", "99", "2011-Q3", "x"]),
                cell(),
            ),
            min_size=0,
            max_size=6,
        )
    )
    rows = [header, row, ["unknown side", "no-such-instrument", "1"]]
    if kind == "xlsx":
        return xlsx(rows)
    encoded = csv_text(rows).encode("utf-8")
    if draw(st.booleans()):
        encoded += b"\x00\xff"
    return draw(st.sampled_from(BOMS)) + encoded


def sendable(value: str | bytes) -> str:
    """The test client's multipart encoder takes only valid text (lone surrogates and invalid
    UTF-8 are fuzzed through the url-encoded forms): replace what it cannot send."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def test_fuzz_import_upload(app, admin, world, other_csrf, caplog):
    path = "/admin/import/"
    valid = page_csrf(admin, path)

    @FUZZ_SLOW
    @example(mode="valid", relationship=str(world.rel.id), wave="", content=b"", filename="a.csv")
    @given(
        mode=CSRF,
        relationship=st.one_of(
            st.sampled_from(
                [str(world.rel.id), str(world.other.id), "", "0", "99999999999999999999"]
            ),
            junk.filter(lambda v: isinstance(v, str)),
        ),
        wave=st.one_of(st.sampled_from(["", "2011-Q3", "../x", "x" * 41]), junk),
        content=bad_import(),
        filename=filenames,
    )
    def run(mode, relationship, wave, content, filename):  # type: ignore[no-untyped-def]
        fields = {"relationship": sendable(relationship), "wave": sendable(wave)}
        files = {"file": (io.BytesIO(content), filename)}
        with nothing_changes(caplog):
            response = multipart(admin, path, mode, valid, other_csrf, fields, files)
            kind = assert_clear_refusal(response, statuses=(400,))
            assert kind == ("form" if csrf_passes(mode) else "csrf"), kind

    run()


def in_memory_multipart(client, path, values):  # type: ignore[no-untyped-def]
    """POST ``values`` as multipart from memory (the test client spools big bodies to files
    that it leaves open when the app refuses them early)."""
    boundary, data = encode_multipart(values)
    return client.post(path, data=data, content_type=f"multipart/form-data; boundary={boundary}")


def test_bodies_beyond_the_limits_are_413(app, admin, world, caplog):
    """An upload beyond MAX_CONTENT_LENGTH, or a form field beyond MAX_FORM_MEMORY_SIZE: 413."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    for path in (f"/admin/waves/{world.open_wave}/staff-list", "/admin/import/"):
        valid = page_csrf(admin, path)
        big = FileStorage(io.BytesIO(b"email,party\r\n" + b"x" * limit), "big.csv")
        with nothing_changes(caplog):
            response = in_memory_multipart(admin, path, {"csrf_token": valid, "file": big})
            assert_clear_refusal(response, "What you sent is too large", statuses=(413,))
    valid = page_csrf(admin, "/admin/relationships/new")
    with nothing_changes(caplog):
        response = in_memory_multipart(
            admin, "/admin/relationships/new", {"csrf_token": valid, "name": "n" * 2**21}
        )
        assert_clear_refusal(response, "What you sent is too large", statuses=(413,))
