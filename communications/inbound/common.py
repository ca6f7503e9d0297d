"""What every inbound channel shares: the signature check, the per-sender rate limit, the one
write (`inbound_receive`), the office's link of an unknown sender, and the relay of replies."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications import conf
from communications.classifier import Classification, classify
from communications.models import (
    ChannelLink,
    ChannelPreference,
    Conversation,
    InboundThread,
    Message,
    MessageChannel,
    Priority,
)
from communications.services.common import SOURCE, _not_found
from communications.services.messages import message_reply_address, message_send
from communications.services.notifications import NotificationSpec, notify_role
from communications.services.reads import conversation_by_id, conversation_newest
from communications.transports import text_send
from hvaccrm.errors import ServiceError
from hvaccrm.models import Client
from hvaccrm.models.jobs import Urgency
from hvaccrm.models.outbox import Target
from hvaccrm.safety import gas_safety_instruction
from hvaccrm.services.outbox import record

CONVERSATION_CHANNEL = {MessageChannel.SMS: Conversation.Channel.SMS, MessageChannel.EMAIL: Conversation.Channel.EMAIL,
                        MessageChannel.TELEGRAM: Conversation.Channel.TELEGRAM}


def signature_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """HMAC-SHA256 of the raw body, hex (optionally "sha256=..."), compared in constant time.

    An empty secret refuses everything: a webhook nobody configured must not be open.
    """
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = signature.removeprefix("sha256=").strip().lower()
    return hmac.compare_digest(expected, given)


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _redis_clients[url]


_redis_clients: dict[str, redis.Redis] = {}


def _seen_key(channel: str, reference: str) -> str:
    return cache.make_key(f"comms:inbound-seen:{channel}:{hashlib.sha256(reference.encode()).hexdigest()[:32]}")


def inbound_admit(*, channel: str, address: str, reference: str = "") -> str:
    """"ok", "rate_limited" (over the sender's per-minute limit: refuse) or "duplicate" (a gateway's
    retry of a text already saved: answer 200 and save nothing), in one pipelined Redis round trip.

    The rate limit is a fixed one-minute window in the shared Redis (the cache's database and key
    prefix), so every web process counts together. `reference` is the gateway's id of the text (an
    SMS provider's id, a chat and message id, a Message-ID); `inbound_saved` marks it after the save,
    so a failed or crashed attempt is not mistaken for a saved one when the gateway retries it.
    """
    minute = int(timezone.now().timestamp() // 60)
    key = cache.make_key(f"comms:inbound-rate:{channel}:{hashlib.sha256(address.encode()).hexdigest()[:32]}:{minute}")
    pipe = _redis().pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 120)
    if reference:
        pipe.exists(_seen_key(channel, reference))
    count, _expiry, *seen = pipe.execute()
    if count > conf.INBOUND_RATE_PER_MINUTE:
        return "rate_limited"
    return "duplicate" if seen and seen[0] else "ok"


def inbound_saved(*, channel: str, reference: str) -> None:
    """The text with this gateway id is saved: a retry of it within a day is a duplicate."""
    if reference:
        _redis().set(_seen_key(channel, reference), 1, ex=conf.INBOUND_DEDUPE_SECONDS)


def rate_limit_hit(*, channel: str, address: str) -> bool:
    """Count one inbound text of this sender; True when over the per-minute limit (then refuse)."""
    return inbound_admit(channel=channel, address=address) == "rate_limited"


@dataclass(frozen=True)
class Received:
    """What became of an inbound text: a message of a client's conversation, or an unknown sender's."""

    message: Message | None = None
    thread: InboundThread | None = None
    # An unknown sender's emergency: the dispatchers are alerted (the `inbound.emergency` row).
    emergency: bool = False


def client_for_link(*, channel: str, address: str) -> int | None:
    """The client an address was linked to by the office or the portal (a Telegram chat, a second
    number, another e-mail address)."""
    return ChannelLink.objects.filter(channel=channel, address=address).values_list("client_id", flat=True).first()


def _conversation_of(*, client_id: int, in_reply_to: str = "") -> Conversation | None:
    """The conversation of the message this one answers (its Message-ID, only the client's own),
    else the client's newest; None when the client has none. Read with what `message_send` needs
    (its job and the job's district, without the boundary), so it is handed over and not read again;
    in SQL written out (services/reads.py: the ORM's composing cost more than the query)."""
    if in_reply_to:
        replied = (Message.objects.filter(external_id__in=in_reply_to.split(), conversation__client_id=client_id)
                   .order_by("-id").values_list("conversation_id", flat=True).first())
        replied_in = conversation_by_id(conversation_id=replied) if replied else None
        if replied_in is not None:
            return replied_in
    return conversation_newest(client_id=client_id)


def _conversation_for(*, client_id: int, channel: str, in_reply_to: str = "", subject: str = "") -> Conversation:
    """The conversation `_conversation_of` finds, else a new one opened on this channel."""
    conversation = _conversation_of(client_id=client_id, in_reply_to=in_reply_to)
    if conversation is not None:
        return conversation
    return Conversation.objects.create(client_id=client_id, channel=CONVERSATION_CHANNEL.get(channel, "portal"),
                                       subject=subject[:200])


def inbound_receive(*, channel: str, address: str, client_id: int | None, body: str, external_id: str = "",
                    in_reply_to: str = "", subject: str = "", triage: Classification | None = None,
                    answered: bool = False) -> Received:
    """Save one text a client sent on an outside channel, in one transaction.

    A known client's text becomes a message of their conversation through `message_send` (triage,
    emergency routing, the map and the vector store all see it). An unknown sender's text waits in
    an InboundThread for the office to link the address to a client, but it is triaged first: a
    gas smell from a number nobody knows must not wait for the office. An emergency records an
    `inbound.emergency` outbox row in the same transaction (`inbound_emergency_alert`: the
    dispatchers at once, and the gas-safety instruction back on the sender's channel unless the
    caller `answered` it itself, as the Telegram bot does in its webhook response). `triage` is
    the caller's classification of `body`, when it already has one.

    The usual case, a client who has a conversation, is `message_send`'s own transaction (no
    savepoint around it); a first text opens the conversation in the same transaction as itself.
    """
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("The message is empty."), fields={"body": [_("Write a message.")]})
    if client_id is None:
        return _unknown_sender_receive(channel=channel, address=address, body=body, external_id=external_id,
                                       subject=subject, triage=triage or classify(body), answered=answered)
    conversation = _conversation_of(client_id=client_id, in_reply_to=in_reply_to)
    if conversation is not None:
        return Received(message=message_send(author=None, conversation=conversation, body=body,
                                             channel=channel, external_id=external_id))
    with transaction.atomic():
        conversation = Conversation.objects.create(client_id=client_id, subject=subject[:200],
                                                   channel=CONVERSATION_CHANNEL.get(channel, "portal"))
        message = message_send(author=None, conversation=conversation, body=body, channel=channel,
                               external_id=external_id)
    return Received(message=message)


def _unknown_sender_receive(*, channel: str, address: str, body: str, external_id: str, subject: str,
                            triage: Classification, answered: bool) -> Received:
    emergency = triage.urgency == Urgency.EMERGENCY
    with transaction.atomic():
        thread = (InboundThread.objects.select_for_update()
                  .filter(channel=channel, address=address, client__isnull=True).first())
        if thread is None:
            thread = InboundThread.objects.create(channel=channel, address=address)
        now = timezone.now()
        thread.texts = [*thread.texts, {"body": body[:5000], "at": now.isoformat(), "id": external_id,
                                        "subject": subject[:200], "urgency": triage.urgency}][-50:]
        thread.last_text_at = now
        thread.save(update_fields=["texts", "last_text_at"])
        if emergency:
            record(source=SOURCE, target=Target.NOTIFICATIONS, kind="inbound.emergency", obj=thread,
                   payload={"thread": thread.pk, "channel": channel, "text": body[:1000],
                            "language": triage.language or "pl", "safety": bool(triage.safety_instruction),
                            "reply": not answered})
    return Received(thread=thread, emergency=emergency)


def inbound_emergency_alert(*, thread_id: int, channel: str, text: str, language: str, safety: bool, reply: bool,
                            dedupe_key: str) -> dict:
    """An unknown sender's emergency: every dispatcher is alerted at once (they call back, or link
    the sender and dispatch), then a gas or CO emergency gets the gas-safety instruction on the
    channel it came in on. DeliveryFailed when that gateway refused the instruction: the outbox
    retries the row, and the dedupe key keeps the dispatchers from being alerted twice.

    The address is read now, not when the row was recorded: an erased thread gets nothing.
    """
    thread = InboundThread.objects.filter(pk=thread_id).first()
    address = thread.address if thread is not None else ""
    title = _("Emergency from an unknown sender (%(channel)s %(address)s)") % {
        "channel": MessageChannel(channel).label if channel in MessageChannel.values else channel, "address": address or "?"}
    notified = notify_role(role="dispatcher", spec=NotificationSpec(
        kind="inbound.emergency", title=title, body=text[:1000], priority=Priority.EMERGENCY,
        payload={"thread": thread_id, "channel": channel, "language": language},
        related_type="inbound_thread", related_id=str(thread_id), dedupe_key=f"inbound-emergency:{dedupe_key}"))
    answered = False
    if safety and reply and address:
        text_send(channel=channel, address=address, text=gas_safety_instruction(language=language),
                  reference=f"inbound-{thread_id}", subject=_("Gas safety: what to do now"))
        answered = True
    return {"thread": thread_id, "notified": notified, "instruction_sent": answered}


def inbound_thread_link(*, thread_id: int, client_id: int, actor) -> Conversation:
    """The office says whose an unknown address is: it is linked to the client (their next texts
    match), and the waiting texts become messages of the client's conversation, triaged as usual."""
    with transaction.atomic():
        thread = InboundThread.objects.select_for_update().filter(pk=thread_id, client__isnull=True).first()
        client = Client.objects.filter(pk=client_id).first()
        if thread is None:
            raise _not_found(_("Unknown sender"))
        if client is None:
            raise _not_found(_("Client"))
        ChannelLink.objects.update_or_create(channel=thread.channel, address=thread.address,
                                             defaults={"client": client})
        conversation = None
        for text in thread.texts:
            received = inbound_receive(channel=thread.channel, address=thread.address, client_id=client.pk,
                                       body=text.get("body", ""), external_id=text.get("id", ""),
                                       subject=text.get("subject", ""))
            conversation = received.message.conversation if received.message else conversation
        if conversation is None:
            conversation = _conversation_for(client_id=client.pk, channel=thread.channel)
        # The texts now live in the client's conversation (and its export and erasure).
        thread.client, thread.conversation, thread.linked_at, thread.texts = client, conversation, timezone.now(), []
        thread.save(update_fields=["client", "conversation", "linked_at", "texts"])
    return conversation


def email_message_id(message_id: int) -> str:
    """The Message-ID of an office reply by e-mail: fixed per message, so a retried send threads alike."""
    return f"<message-{message_id}@{conf.EMAIL_MESSAGE_ID_DOMAIN}>"


def message_relay(*, message_id: int, channel: str) -> dict:
    """Send an office or technician reply (or the automatic safety instruction) to the client on
    an outside channel; DeliveryFailed when the gateway refused it (the outbox retries the row).

    The address is read now, not when the row was recorded: an erased or unlinked client gets
    nothing. An e-mail carries a Message-ID of its own and In-Reply-To the client's last e-mail.
    """
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        return {"message": message_id, "skipped": "no such message"}
    conversation = message.conversation
    address = message_reply_address(client_id=conversation.client_id, channel=channel)
    if not address:
        return {"message": message_id, "skipped": f"no {channel} address"}
    in_reply_to, subject, msgid = "", "", ""
    if channel == MessageChannel.EMAIL:
        msgid = email_message_id(message.pk)
        in_reply_to = (Message.objects.filter(conversation_id=conversation.pk, channel=MessageChannel.EMAIL,
                                              author_role=Message.AuthorRole.CLIENT)
                       .exclude(external_id="").order_by("-id").values_list("external_id", flat=True).first() or "")
        subject = conversation.subject or _("Your conversation with the HVAC service")
        subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    text_send(channel=channel, address=address, text=message.body, reference=f"message-{message.pk}",
              subject=subject, message_id=msgid, in_reply_to=in_reply_to)
    Message.objects.filter(pk=message.pk).update(channel=channel, external_id=msgid or message.external_id)
    return {"message": message_id, "channel": channel, "sent": True}


def channel_preference_set(*, client_id: int, channel: str) -> str:
    """The client's reply channel: one of the outside channels, or "" for "the one I last used"."""
    if channel and channel not in (MessageChannel.SMS, MessageChannel.TELEGRAM, MessageChannel.EMAIL):
        raise ServiceError(_("Unknown channel."), fields={"channel": [_("Unknown channel.")]})
    with transaction.atomic():
        ChannelPreference.objects.update_or_create(client_id=client_id, defaults={"channel": channel})
    return channel
