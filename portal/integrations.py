"""The portal's calls into the other subsystems (it is the only app allowed to make them).

Each call goes through the contract names in docs; a subsystem that is not installed yet (or lacks
the function) is skipped with a safe default, so the portal keeps working while the others land.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

logger = logging.getLogger(__name__)


def _function(module: str, name: str):
    try:
        return getattr(import_module(module), name, None)
    except ImportError:
        return None


def communications_export(*, client_id: int) -> dict[str, Any]:
    fn = _function("communications.selectors", "client_data_export")
    return fn(client_id=client_id) if fn else {}


def communications_anonymise(*, client_id: int) -> int | None:
    fn = _function("communications.services", "client_data_anonymise")
    return fn(client_id=client_id) if fn else None


def vectors_erase(*, client_id: int) -> int | None:
    fn = _function("prophecy.services", "vectors_erase_for_client")
    return fn(client_id=client_id) if fn else None


def emergency_dispatch(*, job_id: int, district_slug: str | None, text: str) -> dict | None:
    """Route an emergency booking to on-shift technicians at once (communications' alert engine)."""
    fn = _function("communications.services", "emergency_dispatch")
    if fn is None:
        return None
    return fn(message_id=None, job_id=job_id, district_slug=district_slug, text=text,
              dedupe_key=f"portal:booking:{job_id}:emergency")


def classify(text: str) -> dict[str, Any] | None:
    """Communications' text classifier when present: {"urgency", "gas", "safety_instruction"}, else None."""
    fn = _function("communications.classifier", "classify")
    if fn is None:
        return None
    try:
        result = fn(text)
    except Exception:  # a classifier bug must not stop a booking; the portal's keyword check runs instead
        logger.warning("communications classifier failed", exc_info=True)
        return None
    safety = getattr(result, "safety_instruction", None)
    return {"urgency": getattr(result, "urgency", "normal"), "gas": safety is not None, "safety_instruction": safety}


# --- messages and notifications (filled in against communications' services and selectors) -----


def messaging_available() -> bool:
    return _function("communications.services", "message_send") is not None


def notification_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    fn = _function("communications.selectors", "notification_unread_count")
    return int(fn(user=user)) if fn else 0


def notification_list(*, user) -> list:
    fn = _function("communications.selectors", "notification_list_for_user")
    return list(fn(user=user)[:50]) if fn else []


def notification_read_all(*, user) -> int:
    fn = _function("communications.services", "notification_read_all")
    return fn(user=user) if fn else 0


def message_send(*, user, client_id: int, body: str):
    raise NotImplementedError


def conversation_for_client(*, user, client_id: int) -> dict:
    return {}
