"""Questionnaire definitions: the YAML files under this folder, their loader and their schema.

Stdlib and PyYAML only; nothing here imports Flask or SQLAlchemy. An instrument is written in
English and may carry other languages from translation files beside it (``v1.cy.yaml``); see
`instruments.translations` for the format, the hashing decision and the fallback rule.

    >>> from instruments import find_instrument
    >>> survey = find_instrument("partnership-health", 1)
    >>> survey.item("sp1").text("client", partner="Service Birmingham")  # doctest: +SKIP
    >>> language = survey.resolve_language("cy", offered=("en", "cy"))
    >>> survey.item("sp1").text_in("client", language, partner="Service Birmingham")  # doctest: +SKIP
"""

from instruments.loader import (
    INSTRUMENTS_DIR,
    available_instruments,
    find_instrument,
    instrument_from_dict,
    load_instrument,
    load_instrument_text,
    translation_files,
)
from instruments.schema import (
    LANGUAGES,
    SIDES,
    SOURCE_LANGUAGE,
    Bands,
    CommentQuestion,
    Dimension,
    Heading,
    Instrument,
    InstrumentError,
    Item,
    Scale,
    ScaleLabels,
    Wording,
    changed_dimensions,
    comparable_items,
)
from instruments.translations import with_translations

__all__ = [
    "INSTRUMENTS_DIR",
    "LANGUAGES",
    "SIDES",
    "SOURCE_LANGUAGE",
    "Bands",
    "CommentQuestion",
    "Dimension",
    "Heading",
    "Instrument",
    "InstrumentError",
    "Item",
    "Scale",
    "ScaleLabels",
    "Wording",
    "available_instruments",
    "changed_dimensions",
    "comparable_items",
    "find_instrument",
    "instrument_from_dict",
    "load_instrument",
    "load_instrument_text",
    "translation_files",
    "with_translations",
]
