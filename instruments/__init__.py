"""Questionnaire definitions: the YAML files under this folder, their loader and their schema.

Stdlib and PyYAML only; nothing here imports Flask or SQLAlchemy.

    >>> from instruments import find_instrument
    >>> survey = find_instrument("partnership-health", 1)
    >>> survey.item("sp1").text("client", partner="Service Birmingham")  # doctest: +SKIP
"""

from instruments.loader import (
    INSTRUMENTS_DIR,
    available_instruments,
    find_instrument,
    instrument_from_dict,
    load_instrument,
    load_instrument_text,
)
from instruments.schema import (
    SIDES,
    Bands,
    CommentQuestion,
    Dimension,
    Instrument,
    InstrumentError,
    Item,
    Scale,
    Wording,
    changed_dimensions,
    comparable_items,
)

__all__ = [
    "INSTRUMENTS_DIR",
    "SIDES",
    "Bands",
    "CommentQuestion",
    "Dimension",
    "Instrument",
    "InstrumentError",
    "Item",
    "Scale",
    "Wording",
    "available_instruments",
    "changed_dimensions",
    "comparable_items",
    "find_instrument",
    "instrument_from_dict",
    "load_instrument",
    "load_instrument_text",
]
