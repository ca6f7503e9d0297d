"""The Telegram bot: link a chat to a client by a one-time code from the portal (`/start CODE`),
a linked chat's texts into the client's conversation, and the bot's short answers.

Telegram calls the webhook with an Update; the secret given to setWebhook comes back in the
X-Telegram-Bot-Api-Secret-Token header. The bot answers in the webhook's own response (Telegram's
"reply to the webhook with a method"), so a link confirmation needs no second request; the
office's replies go through the outbox and the Telegram transport (`message_relay`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import conf
from communications.classifier import classify
from communications.inbound.common import client_for_link, inbound_receive
from communications.models import ChannelLink, LinkCode, MessageChannel
from hvaccrm.models import Client
from hvaccrm.models.jobs import Urgency

# No 0/O, 1/I/L: read from a screen and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def secret_valid(*, header: str) -> bool:
    """X-Telegram-Bot-Api-Secret-Token equals the configured secret (constant time; none: refuse)."""
    return bool(conf.TELEGRAM_WEBHOOK_SECRET) and hmac.compare_digest(conf.TELEGRAM_WEBHOOK_SECRET, header or "")


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def telegram_link_code_create(*, client_id: int) -> dict:
    """A new single-use code for the client's portal page; earlier unused codes stop working.
    Returns the code (shown once, never stored), its expiry and the bot's deep link."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
    expires = timezone.now() + timedelta(minutes=conf.LINK_CODE_MINUTES)
    with transaction.atomic():
        LinkCode.objects.filter(client_id=client_id, channel=MessageChannel.TELEGRAM, used_at__isnull=True).delete()
        LinkCode.objects.create(client_id=client_id, channel=MessageChannel.TELEGRAM, code_hash=_code_hash(code),
                                expires_at=expires)
    link = f"https://t.me/{conf.TELEGRAM_BOT_USERNAME}?start={code}" if conf.TELEGRAM_BOT_USERNAME else ""
    return {"code": code, "expires_at": expires, "link": link}


def telegram_link(*, code: str, chat_id: str) -> int | None:
    """Use a link code: the chat is linked to the code's client (moved from any other client).
    None when the code is unknown, used or expired; a code works once."""
    now = timezone.now()
    with transaction.atomic():
        row = (LinkCode.objects.select_for_update()
               .filter(code_hash=_code_hash(code), channel=MessageChannel.TELEGRAM, used_at__isnull=True,
                       expires_at__gt=now).first())
        if row is None:
            return None
        row.used_at = now
        row.save(update_fields=["used_at"])
        ChannelLink.objects.update_or_create(channel=MessageChannel.TELEGRAM, address=chat_id,
                                             defaults={"client_id": row.client_id})
    return row.client_id


def telegram_unlink(*, client_id: int) -> int:
    """The client unlinks their Telegram chats (from the portal): the bot no longer knows them."""
    with transaction.atomic():
        return ChannelLink.objects.filter(client_id=client_id, channel=MessageChannel.TELEGRAM).delete()[0]


@dataclass(frozen=True)
class TelegramText:
    chat_id: str
    text: str
    message_id: str
    language: str


def update_text(update: dict) -> TelegramText | None:
    """The text message of an Update (edits, stickers, channel posts and the rest: None)."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return None
    chat = message.get("chat") or {}
    if chat.get("id") is None or chat.get("type", "private") != "private":
        return None
    language = str((message.get("from") or {}).get("language_code", ""))[:2]
    return TelegramText(chat_id=str(chat["id"]), text=message["text"], message_id=str(message.get("message_id", "")),
                        language=language if language in ("pl", "en") else "pl")


def _language_of(client_id: int | None, fallback: str) -> str:
    if client_id is None:
        return fallback
    return Client.objects.filter(pk=client_id).values_list("preferred_language", flat=True).first() or fallback


def telegram_receive(*, text: TelegramText) -> str:
    """Handle one text of a private chat; returns the bot's answer ("" for none).

    `/start CODE` links the chat. A chat that is no client's gets one generic answer and reads
    nothing: no conversation, no client name, no hint whether a code existed.
    """
    body = text.text.strip()
    if body.startswith("/start"):
        code = body.removeprefix("/start").strip()
        client_id = telegram_link(code=code, chat_id=text.chat_id) if code else None
        with translation.override(_language_of(client_id, text.language)):
            if client_id is None:
                return _("This code does not work. Open the client portal, Telegram page, for a new one.")
            return _("Your chat is linked. Write here and the HVAC office will answer.")
    client_id = client_for_link(channel=MessageChannel.TELEGRAM, address=text.chat_id)
    if client_id is None:
        return _unlinked_receive(text=text, body=body)
    if body.startswith("/"):
        with translation.override(_language_of(client_id, text.language)):
            return _("Write your message and the HVAC office will answer here.")
    inbound_receive(channel=MessageChannel.TELEGRAM, address=text.chat_id, client_id=client_id, body=body,
                    external_id=text.message_id)
    return ""


def _unlinked_receive(*, text: TelegramText, body: str) -> str:
    """A chat that is no client's: its texts are not kept, except an emergency, which waits for the
    office as an unknown sender's and alerts the dispatchers at once; a gas or CO emergency is
    answered with the gas-safety instruction here (the webhook's response), not by the outbox."""
    triage = classify(body) if not body.startswith("/") else None
    if triage is not None and triage.urgency == Urgency.EMERGENCY:
        inbound_receive(channel=MessageChannel.TELEGRAM, address=text.chat_id, client_id=None, body=body,
                        external_id=text.message_id, triage=triage, answered=True)
        if triage.safety_instruction:
            return triage.safety_instruction
    with translation.override(text.language):
        return _("This chat is not linked to a client. Link it in the client portal, Telegram page.")


def telegram_link_state(*, client_id: int) -> dict:
    """What the portal shows: whether a chat is linked, since when, and the bot's name."""
    linked = (ChannelLink.objects.filter(client_id=client_id, channel=MessageChannel.TELEGRAM)
              .order_by("-id").values_list("linked_at", flat=True).first())
    return {"linked": linked is not None, "linked_at": linked, "bot": conf.TELEGRAM_BOT_USERNAME,
            "configured": bool(conf.TELEGRAM_BOT_TOKEN and conf.TELEGRAM_WEBHOOK_SECRET)}
