"""Single-use, short-lived tickets for devices that cannot send a session cookie.

A device fetches a ticket over authenticated HTTPS (its API token) and opens the socket with
`?ticket=...` within WS_TICKET_TTL seconds; the ticket is deleted on first use, so a replay fails.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError

PREFIX = "ws-ticket:"


def ticket_issue(*, user_id: int) -> str:
    """A new ticket; a 503 while the cache cannot keep it (Redis down): the device retries, instead
    of opening a socket with a ticket nobody stored, which it would take for a refusal (4401)."""
    ticket = secrets.token_urlsafe(32)
    if not cache.add(PREFIX + ticket, user_id, timeout=settings.WS_TICKET_TTL):
        raise ServiceError(_("Live updates are unavailable for a moment; try again shortly."),
                           code="unavailable", status_code=503)
    return ticket


def ticket_redeem(*, ticket: str) -> int | None:
    """The user id of a valid ticket, once; None if unknown, expired or already used."""
    if not ticket or len(ticket) > 128:
        return None
    key = PREFIX + ticket
    user_id = cache.get(key)
    # delete() answers True only for the caller that removed the key: the first redemption wins.
    if user_id is None or not cache.delete(key):
        return None
    return int(user_id)
