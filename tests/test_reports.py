"""The board pack: an accessible, tagged PDF of a closed wave, checked from the outside.

The PDF is opened with pikepdf (the catalog, the XMP metadata, the structure tree, the fonts)
and with poppler (``pdftotext`` for the words and numbers it prints, ``pdftoppm`` for a
picture of its first page) — never with WeasyPrint, which wrote it. The numbers printed are
compared with the stored results as published (``results.published_rows``), and the cells
suppression hides with the stored, unsuppressed rows: they must not appear.

The history (four closed waves of a relationship with a big, a middling and a tiny service
area, an action agreed after the second wave, invitations for the last wave) is built once
for the module with its own app.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import AuditEvent, Invitation, Job, Relationship, User, Wave
from survey_app.services import ServiceError, dashboard, exports, jobs, reports
from survey_app.services.accounts.sign_in import ensure_user
from survey_app.services.actions import record_action
from survey_app.services.invitations import issue_invitations
from survey_app.services.relationships import create_relationship
from survey_app.services.results import AREA_ALL, INDEX, published_rows, stored_rows
from survey_app.services.waves import close_wave, create_wave, open_wave
from tests.conftest import running_app
from tests.factories import csrf_token, insert_responses, post_sign_in

NAME = "Report Council — Report Supplier"
WAVES = ("2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4")
#: (side, area key) -> responses in every wave: the tiny area is under k = 5 on both sides.
GROUPS = {
    ("client", "big-area"): 22,
    ("supplier", "big-area"): 19,
    ("client", "middle-area"): 12,
    ("supplier", "middle-area"): 11,
    ("client", "tiny-area"): 2,
    ("supplier", "tiny-area"): 1,
}
MANAGER = ("report.manager@council.example", "report manager passphrase")
ACTION = "Joint workshop on the contact centre's handover rules"


def poppler(tool: str) -> str:
    """The path of a poppler tool; without it the test is skipped (a failure in CI)."""
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} (poppler-utils) is missing: `make test` installs it when run as root"
        if os.environ.get("CI") or os.environ.get("REQUIRE_POPPLER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@dataclass
class Site:
    app: object
    relationship_id: int
    wave_ids: dict[str, int]
    tmp: Path

    def relationship(self) -> Relationship:
        return db.session.get(Relationship, self.relationship_id)

    def wave(self, label: str) -> Wave:
        return db.session.get(Wave, self.wave_ids[label])


def build_history() -> tuple[int, dict[str, int]]:
    """Four closed waves; the index slides a little wave on wave on the client side."""
    rel = create_relationship(
        NAME,
        client="Report Council",
        supplier="Report Supplier",
        service_areas=["Big area", "Middle area", "Tiny area"],
    )
    rng = np.random.default_rng(15)
    ids = {}
    for t, label in enumerate(WAVES):
        wave = create_wave(rel, label)
        open_wave(wave)

        def answers(instrument, side, t=t):  # type: ignore[no-untyped-def]
            centre = 3.6 - (0.15 * t if side == "client" else 0.0)
            values = np.clip(np.rint(rng.normal(centre, 0.9, len(instrument.items))), 1, 5)
            return [(j, int(v)) for j, v in enumerate(values)]

        cells = [(side, area, "staff", n) for (side, area), n in GROUPS.items()]
        insert_responses(wave, cells, answers)
        if label == WAVES[-1]:  # invitations, 60 a side, those answered marked used
            for side in ("client", "supplier"):
                issue_invitations(wave, side, 60)
                used = sum(n for (s, _), n in GROUPS.items() if s == side)
                chosen = db.session.scalars(
                    select(Invitation.id)
                    .where(Invitation.wave_id == wave.id, Invitation.party.has(side=side))
                    .limit(used)
                ).all()
                db.session.execute(
                    update(Invitation)
                    .where(Invitation.id.in_(chosen))
                    .values(used_on=date(2023, 12, 1))
                )
        close_wave(wave)
        ids[label] = wave.id
        if label == WAVES[1]:
            user = ensure_user(
                MANAGER[0], name="Report manager", role="manager", password=MANAGER[1]
            )
            record_action(
                rel,
                dimension_key=INDEX,
                what=ACTION,
                owner="Both heads of service",
                due_on=date(2023, 9, 30),
                actor=user,
            )
        db.session.commit()
    return rel.id, ids


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory):
    with running_app(migrated, tmp_path_factory.mktemp("reports-instance")) as app:
        rel_id, ids = build_history()
        yield Site(app, rel_id, ids, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module", autouse=True)
def rendered_once():
    """WeasyPrint renders each distinct pack HTML once a module (some 4 s of CPU a pack): the
    command and button tests ask again for the English and Welsh packs of the latest wave that
    the fixtures below rendered. Each call still builds the pack and its HTML from the
    database; only HTML identical to one already rendered (same stylesheet, title and
    language) gets that PDF back, so a caller passing the wrong wave or language gets its
    own, freshly rendered pack."""
    from survey_app.services.reports import building

    rendered: dict[tuple[str, str, str, str], bytes] = {}
    render = building.html_to_pdf

    def html_to_pdf(html: str, *, stylesheet: str, title: str, language: str) -> bytes:
        key = (html, stylesheet, title, language)
        if key not in rendered:
            rendered[key] = render(html, stylesheet=stylesheet, title=title, language=language)
        return rendered[key]

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(building, "html_to_pdf", html_to_pdf)
        yield rendered


@pytest.fixture(scope="module")
def latest_pdf(site) -> bytes:
    return reports.build_board_pack(site.relationship(), site.wave(WAVES[-1]))


@pytest.fixture(scope="module")
def welsh_pdf(site) -> bytes:
    return reports.build_board_pack(site.relationship(), site.wave(WAVES[-1]), language="cy")


@pytest.fixture(params=["en", "cy"])
def any_pdf(request, latest_pdf, welsh_pdf) -> bytes:
    """The latest wave's pack in English and in Welsh: the PDF checks hold in both."""
    return latest_pdf if request.param == "en" else welsh_pdf


@pytest.fixture(scope="module")
def earlier_pdf(site) -> bytes:
    return reports.build_board_pack(site.relationship(), site.wave(WAVES[1]))


def pdf_text(site: Site, pdf: bytes, *args: str, layout: bool = True) -> str:
    """What ``pdftotext`` reads from the PDF: with ``layout``, table rows stay rows; without,
    each table cell's lines stay together."""
    path = site.tmp / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [
            poppler("pdftotext"),
            *(["-layout"] if layout else []),
            "-enc",
            "UTF-8",
            *args,
            str(path),
            "-",
        ],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def one_line(text: str) -> str:
    """The text with every run of white space made one space (table cells wrap)."""
    return " ".join(text.split())


# ------------------------------------------------------------------- the structure tree


class Structure(list):
    """Structure elements with their parents; keeps the open PDF they belong to alive."""

    def __init__(self, doc: pikepdf.Pdf) -> None:
        super().__init__()
        self.doc = doc


def structure(pdf: bytes) -> Structure:
    """Every structure element of the PDF with its parent element, in reading order."""
    found = Structure(pikepdf.open(io.BytesIO(pdf)))

    def walk(node, parent) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child, parent)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            found.append((node, parent))
            if "/K" in node:
                walk(node.K, node)

    walk(found.doc.Root.StructTreeRoot.K, None)
    return found


def kinds(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(e.S) for e, _ in elements]


def scope_of(cell: pikepdf.Dictionary) -> str | None:
    attributes = cell.get("/A")
    groups = list(attributes) if isinstance(attributes, pikepdf.Array) else [attributes]
    for group in groups:
        if isinstance(group, pikepdf.Dictionary) and "/Scope" in group:
            assert group.get("/O") == pikepdf.Name("/Table")
            return str(group.Scope)
    return None


@pytest.mark.parametrize(
    ("language", "tag", "words"),
    [
        ("en", "en-GB", "Partnership health board pack"),
        ("cy", "cy-GB", "Pecyn y bwrdd ar iechyd y bartneriaeth"),
    ],
)
def test_the_catalog_says_language_title_shown_and_marked(
    site, latest_pdf, welsh_pdf, language, tag, words
):
    doc = pikepdf.open(io.BytesIO(latest_pdf if language == "en" else welsh_pdf))
    title = f"{words}: {NAME}, {WAVES[-1]}"
    assert str(doc.Root.Lang) == tag
    assert doc.Root.ViewerPreferences.DisplayDocTitle is True
    assert doc.Root.MarkInfo.Marked is True
    assert "/StructTreeRoot" in doc.Root
    assert str(doc.docinfo.Title) == title
    with doc.open_metadata() as xmp:
        assert xmp["pdfuaid:part"] == "1"
        assert xmp["dc:title"] == title


def test_the_structure_tree_has_headings_in_order_lists_and_tables(any_pdf):
    elements = structure(any_pdf)
    found = kinds(elements)
    assert found[0] == "/Document"
    assert found.count("/H1") == 1
    headings = [k for k in found if re.fullmatch(r"/H\d", k)]
    assert headings[0] == "/H1"
    for before, after in zip(headings, headings[1:], strict=False):
        assert int(after[2]) <= int(before[2]) + 1, "a heading level is skipped"
    assert found.count("/H2") == 9  # In brief and the eight parts
    for kind in ("/Table", "/THead", "/TBody", "/TR", "/TH", "/TD", "/L", "/LI", "/Caption"):
        assert kind in found


def test_every_table_header_cell_has_a_scope_column_in_the_head_row_in_the_body(any_pdf):
    tree = structure(any_pdf)  # kept: its elements live only as long as its open PDF
    cells = [(e, parent) for e, parent in tree if e.S == "/TH"]
    assert len(cells) > 50
    for cell, row in cells:
        in_head = row.get("/P").S == "/THead"
        assert scope_of(cell) == ("/Column" if in_head else "/Row")


def test_every_figure_has_the_chart_description_as_its_alt_text(site, latest_pdf):
    page = dashboard.relationship_page(
        site.relationship(), dashboard.Filters(), as_of=site.wave(WAVES[-1])
    )
    charts = [*page.index_charts, page.gap_chart, page.heat_map]
    tree = structure(latest_pdf)  # kept: its elements live only as long as its open PDF
    figures = [e for e, _ in tree if e.S == "/Figure"]
    assert [str(f.Alt) for f in figures] == [c.description for c in charts]
    assert all(len(str(f.Alt)) > 40 for f in figures)


def test_every_font_is_embedded_with_a_to_unicode_map(any_pdf):
    doc = pikepdf.open(io.BytesIO(any_pdf))
    fonts = {}
    for page in doc.pages:
        for name, font in (page.Resources.get("/Font") or {}).items():
            fonts[(font.objgen, name)] = font
    assert fonts
    for font in fonts.values():
        assert "/ToUnicode" in font, font.get("/BaseFont")
        descendant = font.DescendantFonts[0] if font.Subtype == "/Type0" else font
        descriptor = descendant.FontDescriptor
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_the_first_page_is_the_summary_in_plain_words(site, latest_pdf):
    first = one_line(pdf_text(site, latest_pdf, "-f", "1", "-l", "1"))
    rows = published_rows("scores", site.relationship(), [site.wave(WAVES[-1])])
    both = next(
        r for r in rows if r["side"] == "all" and r["area"] == AREA_ALL and r["dimension"] == INDEX
    )
    assert "In brief" in first and "What needs attention" in first
    assert f"Both sides: {both['mean']:.2f} out of 5 ({both['score100']:.0f} out of 100" in first
    assert f"since {both['previous_wave']}" in first
    assert "The health index over time" not in first  # the parts start on page 2


def test_the_first_page_renders_as_a_picture_that_is_not_blank(site, any_pdf):
    path = site.tmp / "first.pdf"
    path.write_bytes(any_pdf)
    stem = site.tmp / f"first-{uuid.uuid4().hex}"
    subprocess.run(
        [poppler("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(stem)],
        check=True,
    )
    png = next(site.tmp.glob(f"{stem.name}*.png"))
    pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert pixels.shape[0] > pixels.shape[1]  # A4 portrait
    ink = (pixels < 128).mean()
    assert pixels.std() > 20 and 0.01 < ink < 0.3, (pixels.std(), ink)


# ------------------------------------------------------------------- the numbers it prints


def test_the_index_figures_printed_are_the_published_ones(site, latest_pdf):
    text = one_line(pdf_text(site, latest_pdf))
    rows = published_rows("scores", site.relationship(), [site.wave(WAVES[-1])])
    for side, label in (("client", "Client staff"), ("supplier", "Supplier staff")):
        r = next(
            r
            for r in rows
            if r["side"] == side and r["area"] == AREA_ALL and r["dimension"] == INDEX
        )
        change = f"{r['change_points']:+.0f}".replace("-", "−")
        assert (
            f"{label} {r['n']:,} {r['mean']:.2f} {r['score100']:.0f} {change} since "
            f"{r['previous_wave']}"
        ) in text


def test_the_heat_map_table_prints_shown_cells_and_hides_small_groups(site, latest_pdf):
    text = one_line(pdf_text(site, latest_pdf))
    rel, wave = site.relationship(), site.wave(WAVES[-1])
    shown = [r for r in published_rows("scores", rel, [wave]) if r["side"] == "all"]
    assert any(r["suppressed"] for r in shown), "the tiny area is suppressed"
    for r in shown:
        if r["suppressed"] is None:
            assert f"{r['mean']:.2f} (n = {r['n']})" in text
    _, stored = stored_rows("scores", rel, [wave])
    hidden = {(r["area"], r["dimension"]) for r in shown if r["suppressed"]}
    for r in stored:
        if r["side"] == "all" and (r["area"], r["dimension"]) in hidden and r["n"]:
            assert f"{r['mean']:.2f} (n = {r['n']})" not in text
    assert "Fewer than 5 responses" in text


def test_the_gap_table_prints_the_published_means_of_each_side(site, latest_pdf):
    text = one_line(pdf_text(site, latest_pdf))
    gaps = published_rows("gaps", site.relationship(), [site.wave(WAVES[-1])])
    for g in (g for g in gaps if g["area"] == AREA_ALL):
        difference = f"{g['difference']:+.2f}".replace("-", "−")
        assert f"{g['mean_client']:.2f} {g['mean_supplier']:.2f} {difference}" in text


def test_response_rates_and_responses_by_area_are_published_counts(site, latest_pdf):
    text = one_line(pdf_text(site, latest_pdf))
    client = sum(n for (s, _), n in GROUPS.items() if s == "client")
    supplier = sum(n for (s, _), n in GROUPS.items() if s == "supplier")
    assert f"Report Council 60 {client} {100 * client / 60:.1f}%" in text
    assert f"Both parties 120 {client + supplier} {100 * (client + supplier) / 120:.1f}%" in text
    assert "Big area 22 19 41" in text
    assert "Tiny area Fewer than 5 responses Fewer than 5 responses" in text


# ------------------------------------------------------------------- as of its wave


def test_a_pack_of_an_earlier_wave_leaves_the_later_waves_out(site, earlier_pdf):
    text = pdf_text(site, earlier_pdf)
    assert f"Results as of wave {WAVES[1]}" in one_line(text)
    for later in WAVES[2:]:
        assert later not in text


def test_actions_show_the_change_since_each_up_to_the_packs_wave(site, latest_pdf, earlier_pdf):
    latest = one_line(pdf_text(site, latest_pdf, layout=False))
    earlier = one_line(pdf_text(site, earlier_pdf, layout=False))
    assert ACTION in latest and ACTION in earlier
    assert f"Since {WAVES[1]}, as of {WAVES[-1]}:" in latest
    assert f"No wave has closed since {WAVES[1]}" in earlier
    assert "No targets are recorded for this relationship" in latest


def test_a_wave_that_is_not_closed_or_not_the_relationships_has_no_pack(site):
    rel = site.relationship()
    draft = create_wave(rel, "2024-Q1")
    db.session.flush()
    try:
        with pytest.raises(ServiceError, match="draft: only closed waves"):
            reports.build_board_pack(rel, draft)
        with pytest.raises(ServiceError, match="written in en"):
            reports.build_board_pack(rel, site.wave(WAVES[-1]), language="fr")
    finally:
        db.session.rollback()


# ------------------------------------------------------------------- the PDF mended


def tiny_pdf(body: str) -> bytes:
    from weasyprint import HTML

    html = f'<html lang="en"><head><title>t</title></head><body>{body}</body></html>'
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")


def test_make_accessible_adds_the_scope_weasyprint_leaves_out(site):
    raw = tiny_pdf(
        "<table><thead><tr><th scope=col>Wave</th><th scope=col>Mean</th></tr></thead>"
        "<tbody><tr><th scope=row>2023-Q1</th><td>3.10</td></tr></tbody></table>"
    )
    assert [scope_of(e) for e, _ in structure(raw) if e.S == "/TH"] == [None] * 3
    mended = reports.make_accessible(raw, title="A table", language="en-GB")
    cells = [scope_of(e) for e, _ in structure(mended) if e.S == "/TH"]
    assert cells == ["/Column", "/Column", "/Row"]


def test_make_accessible_refuses_a_figure_without_alternative_text(site):
    image = (
        "data:image/svg+xml," + "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 9 9'/%3E"
    )
    with pytest.raises(reports.InaccessiblePdf, match="alternative text"):
        reports.make_accessible(tiny_pdf(f'<img src="{image}">'), title="t", language="en")


# ------------------------------------------------------------------- command line and pages


def test_the_report_command_writes_the_pack_and_audits_it(site):
    out = site.tmp / "pack.pdf"
    result = site.app.test_cli_runner().invoke(
        args=["report", "--relationship", NAME, "--wave", WAVES[0], "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.actor, event.detail["table"], event.detail["wave"]) == (
        "cli",
        "board_pack",
        WAVES[0],
    )
    bad = site.app.test_cli_runner().invoke(args=["report", "-r", NAME, "--wave", "1999-Q1"])
    assert bad.exit_code == 1 and "has no wave '1999-Q1'" in bad.output


def manager_client(site: Site):  # type: ignore[no-untyped-def]
    client = site.app.test_client()
    signed = post_sign_in(client, *MANAGER)
    assert signed.status_code == 302
    return client


def press_board_pack(client, site: Site, query: str = "") -> int:  # type: ignore[no-untyped-def]
    """Press the dashboard's board-pack button (its form as the page has it): the job's id."""
    html = client.get(f"/dashboard/{site.relationship_id}/{query}").get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]*/board-pack[^"]*)"', html)
    assert action, "the dashboard has no board-pack button"
    response = client.post(
        action.group(1).replace("&amp;", "&"), data={"csrf_token": csrf_token(html)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.fullmatch(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def last_event(action: str) -> AuditEvent:
    db.session.rollback()  # a fresh snapshot: the request and the job committed
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    return db.session.scalars(query).first()


def test_the_dashboard_button_prepares_the_pack_for_the_manager_and_the_audit_says_who(site):
    client = manager_client(site)
    rel = site.relationship_id
    html = client.get(f"/dashboard/{rel}/").get_data(as_text=True)
    assert f'action="/dashboard/{rel}/board-pack?wave={WAVES[-1]}"' in html
    assert "Prepare the board pack (PDF)" in html
    assert client.post(f"/dashboard/{rel}/board-pack").status_code == 400  # no form token
    job_id = press_board_pack(client, site)
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert (job.kind, job.state, job.relationship_id) == ("reports.board_pack", "succeeded", rel)
    assert job.parameters == {"relationship_id": rel, "wave": WAVES[-1], "language": "en"}
    progress = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    filename = f"board-pack-{rel}-{WAVES[-1]}.pdf"
    assert (
        f'href="/dashboard/board-packs/{job_id}"' in progress and f"Download {filename}" in progress
    )
    prepared = last_event("download.prepared")
    assert prepared.actor == MANAGER[0]
    assert (prepared.detail["job"], prepared.detail["table"], prepared.detail["language"]) == (
        job_id,
        "board_pack",
        "en",
    )

    response = client.get(f"/dashboard/board-packs/{job_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.data.startswith(b"%PDF-")
    fetched = last_event("download")
    assert fetched.actor == MANAGER[0] and fetched.detail == {
        "relationship": rel, "table": "board_pack", "format": "pdf", "wave": WAVES[-1],
        "job": job_id,
    }  # fmt: skip
    bad = client.post(
        f"/dashboard/{rel}/board-pack?wave=2099", data={"csrf_token": csrf_token(html)}
    )
    assert bad.status_code == 404

    # the manager role is checked again at fetch: as a reviewer only, the file is not theirs
    manager = db.session.scalars(select(User).where(User.email == MANAGER[0])).one()
    assert exports.prepared_file(job_id, manager) is not None
    manager.role = "reviewer"
    db.session.commit()
    try:
        assert client.get(f"/dashboard/board-packs/{job_id}").status_code == 403
        assert exports.prepared_file(job_id, manager) is None  # per relationship roles too
    finally:  # the request ended the session `manager` was loaded in: update by address
        db.session.execute(update(User).where(User.email == MANAGER[0]).values(role="manager"))
        db.session.commit()

    # kept for PREPARED_DOWNLOAD_HOURS, then swept like any prepared file
    stored = exports.prepared_folder() / job.result["file"]["stored"]
    assert stored.is_file() and stored.suffix == ".pdf"
    assert exports.delete_expired_files(job.finished_at + timedelta(hours=23)) == []
    assert exports.delete_expired_files(job.finished_at + timedelta(hours=25)) == [stored.name]
    assert not stored.exists()
    gone = manager_client(site).get(f"/dashboard/board-packs/{job_id}")  # signed in afresh
    assert gone.status_code == 410 and "Go back to the dashboard" in gone.get_data(as_text=True)


def test_two_clicks_start_one_pack_and_reloading_starts_nothing(site, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(jobs.job_queue(site.app), "wake", lambda ids: queued.extend(ids))
    client = manager_client(site)
    first = press_board_pack(client, site, f"?wave={WAVES[1]}")  # a wave no other test packs
    assert press_board_pack(client, site, f"?wave={WAVES[1]}") == first
    for _ in range(2):
        assert client.get(f"/jobs/{first}").status_code == 200
    db.session.rollback()
    packs = db.session.scalars(select(Job).where(Job.kind == "reports.board_pack")).all()
    assert [j.id for j in packs if j.parameters["wave"] == WAVES[1]] == [first]
    assert set(queued) == {first}
    waiting = client.get(f"/dashboard/board-packs/{first}")
    assert waiting.status_code == 409  # not ready while the job waits


def test_each_chart_downloads_as_svg_and_as_png_drawn_from_the_same_figure(site):
    client = manager_client(site)
    html = client.get(f"/dashboard/{site.relationship_id}/?side=client").get_data(as_text=True)
    links = re.findall(r'href="(/dashboard/\d+/charts/([\w-]+)\.(svg|png)[^"]*)"', html)
    keys = {key for _, key, _ in links}
    assert {"trend-client-all-index", "gaps-all", "heat-client"} <= keys
    for url, key, fmt in links:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url
        assert (
            f'filename="relationship-{site.relationship_id}-{key}.{fmt}"'
            in (response.headers["Content-Disposition"])
        )
        if fmt == "svg":
            assert response.mimetype == "image/svg+xml"
            root = ET.fromstring(response.data)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert root.get("width", "").endswith("pt") and root.get("viewBox")
            assert root.find("{http://www.w3.org/2000/svg}title").text
            _, _, width, height = map(float, root.get("viewBox").split())
        else:
            assert response.mimetype == "image/png"
            image = Image.open(io.BytesIO(response.data))
            pixels = np.asarray(image.convert("L"), dtype=float)
            assert pixels.std() > 10  # drawn, not blank
            # the same figure: its size in inches at 200 dpi, as the SVG's in points at 72
            assert image.size == (round(width / 72 * 200), round(height / 72 * 200))
            assert image.info["Title"] == root.find("{http://www.w3.org/2000/svg}title").text


def test_a_chart_the_page_does_not_show_or_a_bad_filter_is_404(site):
    client = manager_client(site)
    base = f"/dashboard/{site.relationship_id}/charts"
    assert client.get(f"{base}/gaps-all.svg").status_code == 200
    assert client.get(f"{base}/no-such-chart.svg").status_code == 404
    assert client.get(f"{base}/gaps-all.gif").status_code == 404
    assert client.get(f"{base}/gaps-all.svg?side=neither").status_code == 404
    dimension = client.get(f"{base}/trend-supplier-all-trust.png")
    assert dimension.status_code == 200 and dimension.data.startswith(b"\x89PNG")


# ------------------------------------------------------------------- the pack in Welsh


def test_the_welsh_pack_is_in_welsh_with_the_published_numbers(site, welsh_pdf):
    from flask_babel import force_locale

    first = one_line(pdf_text(site, welsh_pdf, "-f", "1", "-l", "1"))
    rows = published_rows("scores", site.relationship(), [site.wave(WAVES[-1])])
    both = next(
        r for r in rows if r["side"] == "all" and r["area"] == AREA_ALL and r["dimension"] == INDEX
    )
    assert "Yn fyr" in first and "Beth sydd angen sylw" in first and "In brief" not in first
    assert f"Y ddwy ochr: {both['mean']:.2f} allan o 5 ({both['score100']:.0f} allan o 100" in first
    everything = one_line(pdf_text(site, welsh_pdf))
    assert "Ynghylch y ffigurau hyn" in everything and "About these figures" not in everything
    with force_locale("cy"):  # each chart's alternative text is its Welsh description
        page = dashboard.relationship_page(
            site.relationship(), dashboard.Filters(), as_of=site.wave(WAVES[-1])
        )
    charts = [*page.index_charts, page.gap_chart, page.heat_map]
    figures = [e for e, _ in structure(welsh_pdf) if e.S == "/Figure"]
    assert [str(f.Alt) for f in figures] == [c.description for c in charts]
    assert "cymedr" in str(figures[0].Alt)


def test_the_report_command_and_the_button_give_the_pack_in_welsh(site):
    out = site.tmp / "pecyn.pdf"
    result = site.app.test_cli_runner().invoke(
        args=["report", "-r", NAME, "--wave", WAVES[-1], "--language", "cy", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(pikepdf.open(out).Root.Lang) == "cy-GB"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.actor, event.detail["language"]) == ("cli", "cy")
    bad = site.app.test_cli_runner().invoke(args=["report", "-r", NAME, "--language", "fr"])
    assert bad.exit_code != 0 and "fr" in bad.output

    client = manager_client(site)
    html = client.get(f"/dashboard/{site.relationship_id}/?lang=cy").get_data(as_text=True)
    assert "Paratoi pecyn y bwrdd (PDF)" in html
    welsh = press_board_pack(client, site)  # the manager's language, kept from the page
    response = client.get(f"/dashboard/board-packs/{welsh}")
    assert response.status_code == 200
    assert str(pikepdf.open(io.BytesIO(response.data)).Root.Lang) == "cy-GB"
    assert last_event("download.prepared").detail["language"] == "cy"
    english = press_board_pack(client, site, "?lang=en")
    assert english != welsh
    response = client.get(f"/dashboard/board-packs/{english}")
    assert str(pikepdf.open(io.BytesIO(response.data)).Root.Lang) == "en-GB"
