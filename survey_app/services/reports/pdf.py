"""HTML → a tagged, accessible PDF (PDF/UA-1): WeasyPrint writes it, pikepdf checks and mends it.

WeasyPrint's ``pdf_variant="pdf/ua-1"`` tags the document (a structure tree of headings,
paragraphs, lists, tables and figures), embeds subset fonts with ``ToUnicode`` maps, writes the
language, the title and ``pdfuaid:part=1`` in the XMP metadata, and marks the content. Its
documentation calls the variant experimental, so :func:`make_accessible` reads the result
back with pikepdf and mends what falls short of PDF/UA (ISO 14289-1) — each property is also
checked by the tests:

* ``/Lang`` on the catalog, ``/ViewerPreferences /DisplayDocTitle true`` (a viewer shows the
  title, not the file name), ``/MarkInfo /Marked true`` and the document information's
  ``/Title`` — set if missing;
* ``/Scope`` on every table header cell (``TH``): WeasyPrint 70 writes ``/Headers`` on data
  cells but no scope on headers. A header in a ``THead`` row heads its column, any other
  heads its row — which is how every table of our templates is written (``scope="col"`` in
  the head, ``scope="row"`` on the first cell of a body row);
* ``/Alt`` on every ``Figure``: WeasyPrint takes it from an ``<img>``'s ``alt``. A figure
  without one cannot be mended (only the template knows what it shows), so it is an error.

WeasyPrint's fetcher is allowed ``data:`` URIs alone (charts are ``data:`` URIs and the
stylesheet is passed as text), and fails on any error: nothing is loaded from outside, and a
chart that cannot be read stops the pack rather than leaving a hole in it.
"""

from __future__ import annotations

import io

import pikepdf

#: Structure types of a table header cell and its row group.
_TH, _THEAD = pikepdf.Name("/TH"), pikepdf.Name("/THead")


class InaccessiblePdf(RuntimeError):
    """The PDF lacks something PDF/UA needs that cannot be mended after the fact."""


def html_to_pdf(html: str, *, stylesheet: str, title: str, language: str) -> bytes:
    """The tagged PDF of ``html`` styled by ``stylesheet``, mended by :func:`make_accessible`."""
    # WeasyPrint here, not at start-up: ~2 s and ~10 MB for each worker that never prints.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    document = HTML(string=html, url_fetcher=fetcher)
    pdf = document.write_pdf(
        stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)],
        pdf_variant="pdf/ua-1",
        pdf_identifier=False,
        uncompressed_pdf=False,
    )
    return make_accessible(pdf, title=title, language=language)


def make_accessible(pdf: bytes, *, title: str, language: str) -> bytes:
    """``pdf`` with the PDF/UA properties WeasyPrint may leave out set (see the module).

    Raises :class:`InaccessiblePdf` when there is no structure tree, or a figure has no
    alternative text.
    """
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        root = doc.Root
        if "/StructTreeRoot" not in root:
            raise InaccessiblePdf("the PDF has no structure tree: it is not tagged")
        root.Lang = pikepdf.String(language)
        preferences = root.get("/ViewerPreferences") or pikepdf.Dictionary()
        preferences.DisplayDocTitle = True
        root.ViewerPreferences = preferences
        mark_info = root.get("/MarkInfo") or pikepdf.Dictionary()
        mark_info.Marked = True
        root.MarkInfo = mark_info
        doc.docinfo.Title = pikepdf.String(title)
        with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["pdfuaid:part"] = "1"
        for element, parent in _structure(root.StructTreeRoot):
            kind = element.get("/S")
            if kind == _TH:
                _set_scope(element, "/Column" if _in_head(parent) else "/Row")
            elif kind == pikepdf.Name("/Figure") and not str(element.get("/Alt", "")).strip():
                raise InaccessiblePdf("a figure has no alternative text")
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def _structure(node: pikepdf.Object, parent: pikepdf.Object | None = None):  # type: ignore[no-untyped-def]
    """Every structure element under ``node`` with its parent element, depth first."""
    stack = [(node, parent)]
    while stack:
        current, above = stack.pop()
        if isinstance(current, pikepdf.Array):
            stack.extend((child, above) for child in reversed(list(current)))
            continue
        if (
            not isinstance(current, pikepdf.Dictionary)
            or "/K" not in current
            and "/S" not in current
        ):
            continue
        if "/S" in current:
            yield current, above
        kids = current.get("/K")
        if kids is not None:
            stack.append((kids, current if "/S" in current else above))


def _in_head(row: pikepdf.Object | None) -> bool:
    """Whether a header cell's row (``TR``) sits in the table's head (``THead``)."""
    group = row.get("/P") if row is not None else None
    return group is not None and group.get("/S") == _THEAD


def _set_scope(cell: pikepdf.Dictionary, scope: str) -> None:
    """``/Scope`` in the cell's Table attributes (``/O /Table``), added where missing."""
    attributes = cell.get("/A")
    if isinstance(attributes, pikepdf.Array):
        table = next((a for a in attributes if a.get("/O") == pikepdf.Name("/Table")), None)
        if table is None:
            table = pikepdf.Dictionary(O=pikepdf.Name("/Table"))
            attributes.append(table)
    elif isinstance(attributes, pikepdf.Dictionary) and attributes.get("/O") == pikepdf.Name(
        "/Table"
    ):
        table = attributes
    else:
        table = pikepdf.Dictionary(O=pikepdf.Name("/Table"))
        cell.A = pikepdf.Array([attributes, table]) if attributes is not None else table
    if "/Scope" not in table:
        table.Scope = pikepdf.Name(scope)
