"""Example instrument definitions and tables of faults for the instrument tests, as YAML files in
this folder (the format under test), read by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FOLDER = Path(__file__).parent


def example_text(name: str) -> str:
    """The text of the example file ``name`` (e.g. ``small.yaml``)."""
    return (FOLDER / name).read_text(encoding="utf-8")


def example_table(name: str) -> list[dict[str, Any]]:
    """The rows of the YAML table ``name`` (e.g. ``item_faults.yaml``)."""
    return yaml.safe_load(example_text(name))
