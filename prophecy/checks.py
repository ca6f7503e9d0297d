from __future__ import annotations

from hvaccrm.checks import register_check
from prophecy import conf, selectors


@register_check("vector_store")
def check_vector_store() -> str:
    if not selectors.vector_store_healthy():
        raise RuntimeError(f"{conf.vector_store_backend()} vector store unavailable")
    return conf.vector_store_backend()
