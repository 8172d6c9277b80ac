"""Server-rendered SVG charts: valid inline SVG with a title and a description, CSP-safe,
deterministic, accessible colours, a table with the numbers drawn, and the cache."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import xml.etree.ElementTree as ET

import pytest

from survey_app.services.dashboard import charts
from survey_app.services.dashboard.charts import style
from survey_app.services.results import PRIMARY, SECONDARY
from tests.factories import heat_map_chart
from tests.factories import index_chart as index

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def svg_root(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(chart.svg)


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_a_chart_is_valid_svg_labelled_by_its_title_and_description():
    chart = index()
    root = svg_root(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox")
    assert root.get("width") is None and root.get("height") is None  # the stylesheet sizes it
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title" and title.text == chart.title
    assert desc.tag == f"{SVG}desc" and desc.text == chart.description
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "2010-Q1 to 2011-Q2" in chart.description


def test_a_chart_is_plain_svg_after_another_library_changed_elementtrees_prefixes():
    # WeasyPrint (the board pack) registers the empty namespace process-wide when imported;
    # the dashboard's charts drawn after a board pack came out as <ns0:svg>.
    ET.register_namespace("", "")
    ET.register_namespace("svg", "http://www.w3.org/2000/svg")
    markup = index().svg
    assert markup.startswith("<svg ") and "<ns0:" not in markup and "<svg:" not in markup
    assert "xlink:href" in markup


def test_a_chart_keeps_to_the_content_security_policy_and_its_own_ids():
    root = svg_root(index())
    elements = list(root.iter())
    assert not [e for e in elements if "style" in e.attrib]
    assert not [e for e in elements if e.tag in (f"{SVG}style", f"{SVG}script", f"{SVG}metadata")]
    ids = {e.get("id") for e in elements if e.get("id")}
    assert ids and all(i.startswith("trend-client-all-index-") for i in ids)
    references = [e.get(XLINK_HREF)[1:] for e in elements if e.get(XLINK_HREF)]
    references += [
        m for e in elements for v in e.attrib.values() for m in re.findall(r"url\(#([^)]+)\)", v)
    ]
    assert references and set(references) <= ids


def test_charts_are_deterministic():
    assert index().svg == index().svg


def test_series_colours_and_heat_map_text_have_enough_contrast():
    for colour, _marker, _style in style.SIDE_STYLE.values():
        assert contrast(colour, "#ffffff") >= 3.0  # WCAG 1.4.11, graphical objects
    for mean in (1.0, 2.5, 3.0, 3.4, 3.9, 4.2, 5.0):
        assert contrast(charts.heat_colour(mean, charts.Scale()), style.BLACK) >= 7.0
    assert charts.heat_colour(2.0, charts.Scale()) == style.TINT_CONCERN
    assert charts.heat_colour(4.8, charts.Scale()) == style.TINT_STRENGTH


def test_the_table_alternative_holds_the_numbers_drawn_and_a_suppressed_wave_says_why():
    chart = index(means=(3.6, 3.7, 3.5, 3.4), suppressed=(2,))
    rows = chart.table.rows
    assert [r[0] for r in rows] == ["2010-Q1", "2010-Q2", "2010-Q3", "2010-Q4"]
    assert rows[0][1:4] == ("40", "3.60", "65")
    assert rows[0][4] == "3.40 to 3.80"
    assert rows[2][1] == "Fewer than 5 responses" and rows[2][2] == ""
    assert "Not shown for confidentiality: 2010-Q3" in chart.description
    assert len(chart.table.head) == len(rows[0]) == len(chart.table.numeric)


def test_agreed_actions_are_marked_on_the_chart_and_listed():
    marker = charts.ActionMarker("2010-Q3", "Joint innovation board (owner A. Smith)")
    chart = index(markers=[marker])
    texts = [t.text for t in svg_root(chart).iter(f"{SVG}text")]
    assert "Action 1" in texts
    assert chart.notes == (
        "Action 1, agreed after 2010-Q3: Joint innovation board (owner A. Smith)",
    )


def test_a_heat_map_prints_every_value_and_never_relies_on_colour():
    dims = [("trust", "Trust"), ("index", "Relationship health index")]
    areas = [("core", "Core ICT"), ("cc", "Contact centre"), ("_all", "All service areas")]
    cells = {
        ("trust", "core"): charts.HeatCell(4.12, 30, "strength", None),
        ("trust", "cc"): charts.HeatCell(None, None, None, PRIMARY),
        ("trust", "_all"): charts.HeatCell(3.71, 33, "borderline", None),
        ("index", "core"): charts.HeatCell(3.95, 30, "borderline", None),
        ("index", "cc"): charts.HeatCell(None, None, None, SECONDARY),
        ("index", "_all"): charts.HeatCell(2.95, 33, "concern", None),
    }
    chart = heat_map_chart(dims, areas, cells)
    texts = [t.text for t in svg_root(chart).iter(f"{SVG}text")]
    for value in ("4.12", "3.71", "3.95", "2.95", "n < 5", "hidden"):
        assert value in texts
    assert chart.table.rows[0] == (
        "Trust",
        "4.12 (n = 30)",
        "Fewer than 5 responses",
        "3.71 (n = 33)",
    )
    assert chart.table.rows[1][2] == "Hidden so that a smaller group cannot be worked out"


def test_a_gap_chart_marks_material_gaps_in_words():
    gaps = [
        charts.GapPoint(
            "value_for_money", "Value for money", 2.9, 3.9, 30, 30, -1.0, -1.1, 0.0001, True, None
        ),
        charts.GapPoint("trust", "Trust", 3.6, 3.7, 30, 30, -0.1, -0.1, 0.6, False, None),
        charts.GapPoint(
            "innovation", "Innovation", None, None, None, None, None, None, None, None, PRIMARY
        ),
    ]
    chart = charts.gap_chart(
        "gaps-all",
        title="Gaps",
        subject="2024-Q1",
        gaps=gaps,
        client_name="Council",
        supplier_name="Supplier",
        scale=charts.Scale(),
        k=5,
    )
    texts = [t.text for t in svg_root(chart).iter(f"{SVG}text")]
    assert "Material gap" in texts and "Fewer than 5 responses" in texts
    assert "Material gaps: Value for money." in chart.description
    assert chart.table.rows[0] == (
        "Value for money",
        "2.90",
        "3.90",
        "−1.00",
        "−1.10",
        "< 0.001",
        "Material gap",
    )
    assert chart.table.rows[1][-1] == "No"
    assert chart.table.rows[2][1] == "Fewer than 5 responses"


def test_the_cache_builds_once_per_key_and_a_new_results_version_replaces_the_old(app, tmp_path):
    built = []

    def build():
        built.append(1)
        return {"n": len(built)}

    cache = charts.ChartCache(7, "version-a", root=tmp_path)
    assert cache.payload(1, "heat", {"side": "all"}, build) == {"n": 1}
    assert cache.payload(1, "heat", {"side": "all"}, build) == {"n": 1}
    assert cache.payload(1, "heat", {"side": "client"}, build) == {"n": 2}
    assert cache.payload(2, "heat", {"side": "all"}, build) == {"n": 3}
    assert len(built) == 3
    newer = charts.ChartCache(7, "version-b", root=tmp_path)
    assert newer.payload(1, "heat", {"side": "all"}, build) == {"n": 4}
    assert [p.name for p in (tmp_path / "7").iterdir()] == ["version-b"]


def test_the_cache_key_holds_the_confidentiality_threshold(app, tmp_path):
    cache = charts.ChartCache(1, "v", root=tmp_path)
    five = cache.path(1, "heat", {})
    app.config["MIN_CELL_SIZE"] = 10
    assert cache.path(1, "heat", {}) != five


def test_a_chart_survives_the_round_trip_through_the_cache(app, tmp_path):
    cache = charts.ChartCache(1, "v", root=tmp_path)
    first = cache.chart(1, "trend", {}, index)
    again = cache.chart(1, "trend", {}, lambda: pytest.fail("rendered twice"))
    assert again == first


def test_charts_never_touch_pyplot():
    rooms = [m.name for m in pkgutil.iter_modules(charts.__path__)]
    assert {"svg", "index_chart", "heat_map"} <= set(rooms)
    for room in [charts, *(importlib.import_module(f"{charts.__name__}.{r}") for r in rooms)]:
        assert "pyplot" not in inspect.getsource(room).replace("no pyplot", ""), room
