"""Reading what the service answers, for tests: a page's tables and SVG charts, and an API
answer checked against the OpenAPI document."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from jsonschema import Draft202012Validator

from survey_app.web.api.openapi import document

DOC = document()


class Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts, keyed by the nearest figure id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str | None, list[list[str]]]] = []
        self.figure: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        attrs = dict(attrs)
        if tag == "figure":
            self.figure = attrs.get("id")
        elif tag == "table":
            self.tables.append((attrs.get("id") or self.figure, []))
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1][1].append(self.row)
            self.row = None
        elif tag == "figure":
            self.figure = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self.cell is not None:
            self.cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return {key: rows for key, rows in parser.tables if key}


def svgs_of(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def conforms(response, template: str | None, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    """The response's status and body as the OpenAPI document says for ``template``
    (``None``: an address the API does not have, answered with its Error schema)."""
    assert response.status_code == status, (
        template,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert response.mimetype == "application/json"
    if template is None:
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        described = DOC["paths"][template]["get"]["responses"][str(status)]
        if "$ref" in described:
            described = DOC["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
        schema = described["content"]["application/json"]["schema"]
    body = response.get_json()
    Draft202012Validator({**schema, "components": DOC["components"]}).validate(body)
    return body
