from __future__ import annotations

import pytest

from mapping.services.tracking import location_pushes


@pytest.fixture(autouse=True)
def fresh_location_pushes():
    """Each test starts with an idle position buffer: nothing pending from another test, and its
    first position sent at once (the buffer sends immediately after an idle interval)."""
    location_pushes.reset()
    yield
    location_pushes.reset()
