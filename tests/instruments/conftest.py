"""Fixtures of the instrument tests."""

import pytest

from instruments import find_instrument


@pytest.fixture(scope="module")
def v1():
    """partnership-health v1, the questionnaire the published waves use."""
    return find_instrument("partnership-health", 1)
