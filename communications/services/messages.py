"""Conversations and messages: saved first, outbox rows of the contracts, then announced."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from communications.classifier import classify
from communications.models import (
    ChannelLink,
    ChannelPreference,
    Conversation,
    Message,
    MessageChannel,
    MessageRead,
)
from communications.services.common import (
    MAX_BODY,
    SOURCE,
    _not_found,
    _send_many,
    _technician_of,
    conversation_can_access,
    user_is_office,
)
from communications.services.reads import client_district, conversation_touch
from hvaccrm.errors import ServiceError
from hvaccrm.geo import district_for_point
from hvaccrm.models import Client, District, ServiceJob
from hvaccrm.models.jobs import Urgency
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services.outbox import record, record_many


def conversation_start(
    *, author, client_id: int, subject: str = "", channel: str = Conversation.Channel.PORTAL, job_id: int | None = None
) -> Conversation:
    """Open a conversation for a client (the client themself or the office), or for the job of the
    technician assigned to it: a technician opens only their own job's conversation, never one with
    the client about anything else (they have no business in the client's other affairs)."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None or not (user_is_office(author) or client.users.filter(pk=author.pk).exists()
                              or _assigned_to(author, client_id=client.pk, job_id=job_id)):
        raise _not_found(_("Client"))
    job = None
    if job_id is not None:
        job = ServiceJob.objects.filter(pk=job_id, client_id=client.pk).first()
        if job is None:
            raise ServiceError(
                _("This visit is not the client's."), fields={"job": [_("Choose one of the client's visits.")]}
            )
    if channel not in Conversation.Channel.values:
        raise ServiceError(_("Unknown channel."), fields={"channel": [_("Unknown channel.")]})
    with transaction.atomic():
        return Conversation.objects.create(client=client, job=job, subject=subject[:200], channel=channel)


def _assigned_to(user, *, client_id: int, job_id: int | None) -> bool:
    tech = _technician_of(user) if job_id is not None else None
    return tech is not None and ServiceJob.objects.filter(pk=job_id, client_id=client_id, technician=tech).exists()


def client_message_send(*, author, client_id: int, body: str, conversation_id: int | None = None) -> Message:
    """A client's message to the office: into their conversation, or the newest one, or a new one.

    One transaction, so a first message never leaves an empty conversation behind. A conversation
    that is not this client's answers like a missing one.
    """
    with transaction.atomic():
        if conversation_id is None:
            conversation = (Conversation.objects.filter(client_id=client_id, client__users=author)
                            .order_by("-last_message_at", "-id").first())
            if conversation is None:
                conversation = conversation_start(author=author, client_id=client_id)
            conversation_id = conversation.pk
        elif not Conversation.objects.filter(pk=conversation_id, client_id=client_id).exists():
            raise _not_found(_("Conversation"))
        return message_send(author=author, conversation_id=conversation_id, body=body)


def _author_role(user, conversation: Conversation) -> str:
    if user is None:  # a client's text from an outside channel, authenticated by the webhook
        return Message.AuthorRole.CLIENT
    if user_is_office(user):
        return Message.AuthorRole.STAFF
    tech = _technician_of(user)
    if tech is not None and conversation.job_id and conversation.job.technician_id == tech.pk:
        return Message.AuthorRole.TECHNICIAN
    return Message.AuthorRole.CLIENT


def _message_district(
    *, conversation: Conversation, latitude: float | None, longitude: float | None
) -> District | None:
    """The district of a message: its location, else its job's, else the client's first site's.

    The boundary (`geometry`) is not read: the point lookup has the process's index, and a
    message needs only the district's id and slug (reading the JSON and the site was ~13 % of a
    message's CPU); the client's site's district in SQL written out (services/reads.py)."""
    slug = district_for_point(latitude, longitude) if latitude is not None and longitude is not None else None
    if slug:
        return District.objects.filter(slug=slug).defer("geometry").first()
    if conversation.job_id and conversation.job.district_id:
        return conversation.job.district
    return client_district(client_id=conversation.client_id)


def message_data(message: Message) -> dict[str, Any]:
    """The data of a `message.created` push."""
    return {
        "message": message.pk,
        "conversation": message.conversation_id,
        "client": message.conversation.client_id,
        "author": message.author_id,
        "author_name": (message.author.get_full_name() or message.author.get_username()) if message.author_id else "",
        "author_role": message.author_role,
        "body": message.body,
        "language": message.language,
        "urgency": message.urgency,
        "service_types": message.service_types,
        "district": message.district.slug if message.district_id else None,
        "channel": message.channel,
        "created_at": message.created_at.isoformat(),
    }


OUTSIDE_CHANNELS = (MessageChannel.SMS, MessageChannel.TELEGRAM, MessageChannel.EMAIL)


def message_send(
    *, author, conversation_id: int | None = None, body: str, latitude: float | None = None, longitude: float | None = None,
    channel: str = MessageChannel.PORTAL, external_id: str = "", conversation: Conversation | None = None,
) -> Message:
    """Save a message (the truth), record the outbox rows of the contracts, then announce it.

    A client's or technician's message is classified; an emergency gets an `emergency.alert` outbox
    row (the integration layer routes it), and a gas or CO emergency an automatic reply with the
    safety instruction in the client's language. An office or technician reply owes a
    `message.relay` row when the client writes on an outside channel (see `message_reply_channel`).

    `author=None` is a client's text from an outside channel (SMS, Telegram, e-mail): the webhook
    authenticated the gateway by its signature and matched the sender to the conversation's client.

    A caller that has just read the conversation (the inbound webhook) passes it as `conversation`
    (with `job__district` selected when it has a job) instead of its id: one query fewer. The
    author's access is checked all the same.
    """
    body = _message_body_check(body=body, latitude=latitude, longitude=longitude)
    conversation = _message_conversation(author=author, conversation_id=conversation_id, channel=channel,
                                         conversation=conversation)
    role = _author_role(author, conversation)
    result = classify(body)
    # Office replies are not triaged: quoting "gas smell" back to a client must not page anyone.
    urgency = result.urgency if role != Message.AuthorRole.STAFF else Urgency.NORMAL
    with transaction.atomic():
        district = _message_district(conversation=conversation, latitude=latitude, longitude=longitude)
        message = Message.objects.create(
            conversation=conversation,
            author=author,
            author_role=role,
            body=body,
            language=result.language,
            latitude=latitude,
            longitude=longitude,
            district=district,
            urgency=urgency,
            service_types=result.service_types if role != Message.AuthorRole.STAFF else [],
            classification=result.as_dict(),
            channel=channel,
            external_id=external_id[:255],
        )
        if author is not None:
            MessageRead.objects.create(message=message, user=author, is_office=role == Message.AuthorRole.STAFF)
        conversation_touch(conversation_id=conversation.pk, at=message.created_at)
        # Hooks run after commit in the order registered. An emergency's row is published first:
        # the announce's pushes must not delay the alert. Otherwise the announce goes first: the
        # rows' publishes must not delay the push.
        if urgency == Urgency.EMERGENCY:
            _message_outbox(message)
            _message_announce(message)
        else:
            _message_announce(message)
            _message_outbox(message)
        if result.safety_instruction and role != Message.AuthorRole.STAFF:
            _safety_reply(conversation=conversation, result=result, district=district, channel=channel)
    return message


def _message_body_check(*, body: str, latitude: float | None, longitude: float | None) -> str:
    """The message's text, stripped; a clear field error for an empty or over-long text or half a point."""
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("The message is empty."), fields={"body": [_("Write a message.")]})
    if len(body) > MAX_BODY:
        raise ServiceError(_("The message is too long."), fields={"body": [_("At most 5000 characters.")]})
    if (latitude is None) != (longitude is None):
        raise ServiceError(_("Give both coordinates."), fields={"latitude": [_("Give both coordinates.")]})
    return body


def _message_conversation(*, author, conversation_id: int | None, channel: str,
                          conversation: Conversation | None = None) -> Conversation:
    """The conversation the author may write in; "not found" (never "forbidden") otherwise.

    No author is allowed only for a text a gateway's webhook brought from an outside channel."""
    if conversation is None:
        conversation = (Conversation.objects.select_related("client", "job__district")
                        .defer("job__district__geometry").filter(pk=conversation_id).first())
    elif conversation_id is not None and conversation_id != conversation.pk:
        raise ValueError("conversation_id and conversation name different conversations")
    if author is None and channel not in OUTSIDE_CHANNELS:
        raise _not_found(_("Conversation"))
    if conversation is None or (author is not None and not conversation_can_access(user=author, conversation=conversation)):
        raise _not_found(_("Conversation"))
    return conversation


def _safety_reply(*, conversation: Conversation, result, district, channel: str) -> Message:
    """The automatic reply with the safety instruction, announced; relayed on the outside channel
    the client wrote on (the client who texted about gas must read it where they wrote)."""
    reply = Message.objects.create(
        conversation=conversation,
        author=None,
        author_role=Message.AuthorRole.SYSTEM,
        body=result.safety_instruction,
        language=result.language,
        district=district,
    )
    _message_announce(reply)
    if channel in OUTSIDE_CHANNELS:
        record(source=SOURCE, target=Target.NOTIFICATIONS, kind="message.relay", obj=reply,
               payload={"message": reply.pk, "channel": channel})
    return reply


def message_outbox_payloads(message: Message) -> dict[tuple[str, str], dict[str, Any]]:
    """The outbox rows a message owes, {(target, kind): payload} (the contracts' payload types in
    integration/payloads.py), most urgent first: rows are published to the one Celery queue in the
    order they are recorded, so the alert never waits behind the embedding of its own text.

    The integration app rebuilds a lost row from the same function, so the two never drift apart.
    """
    conversation = message.conversation
    slug = message.district.slug if message.district_id else None
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if message.urgency == Urgency.EMERGENCY:
        out[(Target.NOTIFICATIONS, "emergency.alert")] = {
            "message": message.pk,
            "job": conversation.job_id,
            "district": slug,
            "text": message.body,
            "urgency": message.urgency,
            "service_types": list(message.service_types or []),
        }
    located = message.latitude is not None or slug is not None
    if located or message.urgency in (Urgency.EMERGENCY, Urgency.HIGH):
        out[(Target.MAP, "message.created")] = {
            "message": message.pk,
            "job": conversation.job_id,
            "latitude": message.latitude,
            "longitude": message.longitude,
            "district": slug,
            "urgency": message.urgency,
        }
    out[(Target.PROPHECY, "message.created")] = {
        "message": message.pk,
        "conversation": conversation.pk,
        "client": conversation.client_id,
        "text": message.body,
        "language": message.language,
        "district": slug,
        "service_type": message.service_types[0] if message.service_types else None,
        "urgency": message.urgency,
        "created": message.created_at.isoformat(),
    }
    return out


def message_reply_channel(*, conversation: Conversation) -> str:
    """The outside channel an office reply in this conversation goes out on, or "" (portal only).

    The client's preference when they set one, else the channel of their last message (in this
    conversation, else in any of theirs): a client who texted gets the answer by SMS.
    """
    preferred = ChannelPreference.objects.filter(client_id=conversation.client_id).values_list(
        "channel", flat=True).first()
    if preferred:
        return preferred if preferred in OUTSIDE_CHANNELS else ""
    client_messages = Message.objects.filter(author_role=Message.AuthorRole.CLIENT).order_by("-id")
    last = (client_messages.filter(conversation_id=conversation.pk).values_list("channel", flat=True).first()
            or client_messages.filter(conversation__client_id=conversation.client_id)
            .values_list("channel", flat=True).first())
    return last if last in OUTSIDE_CHANNELS else ""


def message_reply_address(*, client_id: int, channel: str) -> str:
    """The client's address on an outside channel ("" when they have none there)."""
    if channel == MessageChannel.TELEGRAM:
        return ChannelLink.objects.filter(client_id=client_id, channel=channel).order_by("-id").values_list(
            "address", flat=True).first() or ""
    field = {MessageChannel.SMS: "phone", MessageChannel.EMAIL: "email"}.get(channel)
    if field is None:
        return ""
    return Client.objects.filter(pk=client_id).values_list(field, flat=True).first() or ""


def _message_outbox(message: Message) -> None:
    """The message's outbox rows, in one INSERT (each payload checked by its contract)."""
    rows = [dict(source=SOURCE, target=target, kind=kind, obj=message, payload=payload)
            for (target, kind), payload in message_outbox_payloads(message).items()]
    # An office or technician reply also goes out where the client writes (not part of
    # message_outbox_payloads: integration rebuilds those for the map and the vector store).
    if message.author_role in (Message.AuthorRole.STAFF, Message.AuthorRole.TECHNICIAN):
        relay = message_reply_channel(conversation=message.conversation)
        if relay:
            rows.append(dict(source=SOURCE, target=Target.NOTIFICATIONS, kind="message.relay", obj=message,
                             payload={"message": message.pk, "channel": relay}))
    record_many(rows)


def _message_announce(message: Message) -> None:
    """The `message.created` push to the conversation and the office inbox after commit, both in
    one pipelined send (`_send_many`), not one channel-layer round trip per group."""
    event = events.make_event("message.created", row_id=message.pk, data=message_data(message))
    groups = [g.conversation_group(message.conversation_id), g.inbox_group()]
    transaction.on_commit(lambda: _send_many([(group, event) for group in groups]))


def message_read(*, user, message_id: int) -> MessageRead:
    """Mark one message read by this participant (idempotent)."""
    message = Message.objects.select_related("conversation__client", "conversation__job").filter(pk=message_id).first()
    if message is None or not conversation_can_access(user=user, conversation=message.conversation):
        raise _not_found(_("Message"))
    with transaction.atomic():
        read, _created = MessageRead.objects.get_or_create(
            message=message, user=user, defaults={"is_office": user_is_office(user)}
        )
    return read
