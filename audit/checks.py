"""Health checks audit adds to /healthz (hvaccrm.checks registry)."""

from __future__ import annotations

from hvaccrm.checks import register_check


def register() -> None:
    """The vector store's probe, when prophecy offers one."""
    try:
        from prophecy.selectors import vector_store_healthy
    except ImportError:
        return

    @register_check("vector_store")
    def check_vector_store() -> str:
        if not vector_store_healthy():
            raise RuntimeError("vector store not answering")
        return "ok"
