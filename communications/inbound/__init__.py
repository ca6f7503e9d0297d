"""Two-way channels: clients write by SMS, Telegram and e-mail into their one conversation.

Each gateway has a webhook (views.py, CSRF-exempt, authenticated only by its signature or secret)
and a module that turns its request into the one write, `inbound_receive` (common.py), which saves
the text through `message_send` so triage, emergency routing, the map and the vector store see it.
The office's replies go back out through the `message.relay` outbox row (`message_relay`).
docs/channels.md describes the shapes and the settings.
"""

from __future__ import annotations

from communications.inbound.common import (
    channel_preference_set,
    inbound_emergency_alert,
    inbound_receive,
    inbound_thread_link,
    message_relay,
    rate_limit_hit,
    signature_valid,
)
from communications.inbound.telegram import telegram_link_code_create, telegram_link_state, telegram_unlink

__all__ = [
    "channel_preference_set",
    "inbound_emergency_alert",
    "inbound_receive",
    "inbound_thread_link",
    "message_relay",
    "rate_limit_hit",
    "signature_valid",
    "telegram_link_code_create",
    "telegram_link_state",
    "telegram_unlink",
]
