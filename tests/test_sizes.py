"""No module over 800 lines and no function over 80 lines of code, unless a reason is written
beside it here.

Read from the source with :mod:`ast` (nothing is imported). A module counts its lines; a
function counts the lines from its ``def`` to its end that hold code — blank lines, lines
holding only a comment, and the docstring are not counted (a nested function counts within
its parent as well as on its own).
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analysis", "instruments", "survey_app")
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80

#: ``module:qualified.name`` of a function allowed to be longer, with the reason.
LONG_FUNCTIONS: dict[str, str] = {}

#: Path of a module allowed to be longer, with the reason.
LONG_MODULES: dict[str, str] = {}


def code_lines(source: str) -> set[int]:
    """The numbers of the lines that hold a token of code (not only a comment or blanks)."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method, by qualified name (``Class.method``, ``outer.inner``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def function_length(node: ast.FunctionDef | ast.AsyncFunctionDef, code: set[int]) -> int:
    """Lines of code of a function, its docstring excluded."""
    lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1)) & code
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        lines -= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return len(lines)


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def measure(paths: list[Path]) -> tuple[dict[str, int], dict[str, int]]:
    """(lines of each module, lines of code of each function) by their names above."""
    modules, funcs = {}, {}
    for path in paths:
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        modules[name] = len(source.splitlines())
        code = code_lines(source)
        for qualified, node in functions(ast.parse(source, filename=str(path))):
            funcs[f"{name}:{qualified}"] = function_length(node, code)  # type: ignore[arg-type]
    return modules, funcs


@pytest.fixture(scope="module")
def sizes() -> tuple[dict[str, int], dict[str, int]]:
    return measure(sources())


def test_no_module_is_over_800_lines(sizes):
    modules, _ = sizes
    long = {n: k for n, k in modules.items() if k > MAX_MODULE_LINES and n not in LONG_MODULES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long} — split them"


def test_no_function_is_over_80_lines_of_code(sizes):
    _, funcs = sizes
    long = {n: k for n, k in funcs.items() if k > MAX_FUNCTION_LINES and n not in LONG_FUNCTIONS}
    assert not long, (
        f"functions over {MAX_FUNCTION_LINES} lines of code: {long} — split them along their "
        "sections, or add them to LONG_FUNCTIONS with the reason"
    )


def test_every_allowance_is_still_needed(sizes):
    modules, funcs = sizes
    stale = [n for n in LONG_FUNCTIONS if funcs.get(n, 0) <= MAX_FUNCTION_LINES]
    stale += [n for n in LONG_MODULES if modules.get(n, 0) <= MAX_MODULE_LINES]
    assert not stale, f"allowed to be long but no longer are (remove them): {stale}"
    assert all(reason.strip() for reason in (*LONG_FUNCTIONS.values(), *LONG_MODULES.values()))


def test_the_measure_counts_code_only(tmp_path):
    """The count would notice a long function: code counts; docstring, blanks, comments don't."""
    body = "\n".join(f"    x{i} = {i}  # note" for i in range(81))
    source = f'def long():\n    """Doc\n\n    more doc.\n    """\n\n    # a comment\n{body}\n'
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    code = code_lines(source)
    (name, node), *_ = functions(ast.parse(source))
    assert name == "long"
    assert function_length(node, code) == 82  # the def line and 81 assignments
