"""axe-core in the browser tests: loaded into the page when an audit runs, then run at WCAG 2.2 AA.

axe goes in through the DevTools protocol (``page.evaluate`` of its source), which the page's
Content-Security-Policy does not govern, and only into the document being audited: not with
``add_script_tag``, which inlines the file into a ``<script>`` element that the app's CSP
rightly refuses (and lifting the CSP for the audit would hide the very failures the CSP checks
look for); nor as an init script, which would parse its half a megabyte into every document
a test passes through (a quarter of a second each), audited or not.
"""

from __future__ import annotations

import functools
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@functools.cache
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """What axe finds wrong with the page as it is now, against WCAG 2.2 A and AA."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_22_AA,
    )
    return results["violations"]


def describe(violations: list[dict]) -> list[str]:
    lines = []
    for violation in violations:
        lines.append(
            f"axe {violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return lines
