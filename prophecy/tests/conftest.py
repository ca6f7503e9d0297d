from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_store(settings):
    """Each test starts with the embedded backend and a process index that knows nothing."""
    from prophecy.stores import store_reset

    settings.VECTOR_STORE_BACKEND = "embedded"
    store_reset()
    yield
    store_reset()
