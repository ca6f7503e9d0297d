"""The writes of communications: messages, notifications and deliveries, emergency routing.

Every function is keyword-only and runs in one transaction; pushes go out after commit through the
core's event helper, and the outbox rows other subsystems need are written inside the transaction.
The functions the integration layer calls (notify, notify_role, notify_district_technicians,
emergency_dispatch, job_update_notify, delivery_attempt, client_data_anonymise) are idempotent.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import conf
from communications.classifier import classify
from communications.models import (
    AlertDecision,
    Channel,
    Conversation,
    Delivery,
    EmergencyAlert,
    Message,
    MessageRead,
    Notification,
    NotificationPreference,
    Priority,
)
from communications.transports import TransportError, notification_data, transport_for
from hvaccrm.errors import ServiceError
from hvaccrm.geo import DISTRICTS, district_for_point
from hvaccrm.models import Client, Consent, District, IntegrationLog, ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus, Urgency
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services.outbox import outbox_publish, outbox_retry, record

logger = logging.getLogger(__name__)
User = get_user_model()
OFFICE_ROLES = ("dispatcher", "manager", "administrator")
SOURCE = "communications"
DELIVERY_KIND = "delivery.send"
DELIVERY_OBJECT = "communications.delivery"
ALERT_OBJECT = "communications.emergencyalert"
MAX_BODY = 5000


def _not_found(what: str) -> ServiceError:
    # Someone else's object answers exactly like a missing one (no existence oracle).
    return ServiceError(_("%(what)s not found.") % {"what": what}, code="not_found", status_code=404)


def user_is_office(user) -> bool:
    return g.is_staff_role(user, *OFFICE_ROLES)


def _technician_of(user) -> Technician | None:
    return Technician.objects.filter(user_id=user.pk).first() if user.is_authenticated else None


def conversation_can_access(*, user, conversation: Conversation) -> bool:
    """Office roles see every conversation; a client their own; a technician those of their jobs."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user_is_office(user):
        return True
    if conversation.client.users.filter(pk=user.pk).exists():
        return True
    tech = _technician_of(user)
    return tech is not None and conversation.job_id is not None and conversation.job.technician_id == tech.pk


# --- conversations and messages ----------------------------------------------------------------


def conversation_start(*, author, client_id: int, subject: str = "", channel: str = Conversation.Channel.PORTAL,
                       job_id: int | None = None) -> Conversation:
    """Open a conversation for a client (the client themself or the office)."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None or not (user_is_office(author) or client.users.filter(pk=author.pk).exists()):
        raise _not_found(_("Client"))
    job = None
    if job_id is not None:
        job = ServiceJob.objects.filter(pk=job_id, client_id=client.pk).first()
        if job is None:
            raise ServiceError(_("This visit is not the client's."), fields={"job": [_("Choose one of the client's visits.")]})
    if channel not in Conversation.Channel.values:
        raise ServiceError(_("Unknown channel."), fields={"channel": [_("Unknown channel.")]})
    with transaction.atomic():
        return Conversation.objects.create(client=client, job=job, subject=subject[:200], channel=channel)


def _author_role(user, conversation: Conversation) -> str:
    if user_is_office(user):
        return Message.AuthorRole.STAFF
    tech = _technician_of(user)
    if tech is not None and conversation.job_id and conversation.job.technician_id == tech.pk:
        return Message.AuthorRole.TECHNICIAN
    return Message.AuthorRole.CLIENT


def _message_district(*, conversation: Conversation, latitude: float | None, longitude: float | None) -> District | None:
    """The district of a message: its location, else its job's, else the client's first site's."""
    slug = district_for_point(latitude, longitude) if latitude is not None and longitude is not None else None
    if slug:
        return District.objects.filter(slug=slug).first()
    if conversation.job_id and conversation.job.district_id:
        return conversation.job.district
    site = conversation.client.sites.filter(district__isnull=False).select_related("district").order_by("id").first()
    return site.district if site else None


def message_data(message: Message) -> dict[str, Any]:
    """The data of a `message.created` push."""
    return {
        "message": message.pk, "conversation": message.conversation_id, "client": message.conversation.client_id,
        "author": message.author_id, "author_name": (message.author.get_full_name() or message.author.get_username())
        if message.author_id else "", "author_role": message.author_role, "body": message.body,
        "language": message.language, "urgency": message.urgency, "service_types": message.service_types,
        "district": message.district.slug if message.district_id else None,
        "created_at": message.created_at.isoformat(),
    }


def message_send(*, author, conversation_id: int, body: str, latitude: float | None = None,
                 longitude: float | None = None) -> Message:
    """Save a message (the truth), record the outbox rows of the contracts, then announce it.

    A client's or technician's message is classified; an emergency gets an `emergency.alert` outbox
    row (the integration layer routes it), and a gas or CO emergency an automatic reply with the
    safety instruction in the client's language.
    """
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("The message is empty."), fields={"body": [_("Write a message.")]})
    if len(body) > MAX_BODY:
        raise ServiceError(_("The message is too long."), fields={"body": [_("At most 5000 characters.")]})
    if (latitude is None) != (longitude is None):
        raise ServiceError(_("Give both coordinates."), fields={"latitude": [_("Give both coordinates.")]})
    conversation = Conversation.objects.select_related("client", "job__district").filter(pk=conversation_id).first()
    if conversation is None or not conversation_can_access(user=author, conversation=conversation):
        raise _not_found(_("Conversation"))
    role = _author_role(author, conversation)
    result = classify(body)
    # Office replies are not triaged: quoting "gas smell" back to a client must not page anyone.
    urgency = result.urgency if role != Message.AuthorRole.STAFF else Urgency.NORMAL
    with transaction.atomic():
        district = _message_district(conversation=conversation, latitude=latitude, longitude=longitude)
        message = Message.objects.create(
            conversation=conversation, author=author, author_role=role, body=body, language=result.language,
            latitude=latitude, longitude=longitude, district=district, urgency=urgency,
            service_types=result.service_types if role != Message.AuthorRole.STAFF else [],
            classification=result.as_dict(),
        )
        MessageRead.objects.create(message=message, user=author, is_office=role == Message.AuthorRole.STAFF)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
        # Announce before the outbox rows: their publish after commit must not delay the push.
        _message_announce(message)
        _message_outbox(message)
        if result.safety_instruction and role != Message.AuthorRole.STAFF:
            reply = Message.objects.create(
                conversation=conversation, author=None, author_role=Message.AuthorRole.SYSTEM,
                body=result.safety_instruction, language=result.language, district=district,
            )
            _message_announce(reply)
    return message


def _message_outbox(message: Message) -> None:
    """The outbox rows of a message. Most urgent first: rows are published to the one Celery queue
    in the order they are recorded, so the alert never waits behind the embedding of its own text."""
    conversation = message.conversation
    slug = message.district.slug if message.district_id else None
    if message.urgency == Urgency.EMERGENCY:
        record(source=SOURCE, target=Target.NOTIFICATIONS, kind="emergency.alert", obj=message, payload={
            "message": message.pk, "job": conversation.job_id, "district": slug, "text": message.body,
            "urgency": message.urgency, "service_types": message.service_types,
        })
    located = message.latitude is not None or slug is not None
    if located or message.urgency in (Urgency.EMERGENCY, Urgency.HIGH):
        record(source=SOURCE, target=Target.MAP, kind="message.created", obj=message, payload={
            "message": message.pk, "job": conversation.job_id, "latitude": message.latitude,
            "longitude": message.longitude, "district": slug, "urgency": message.urgency,
        })
    record(source=SOURCE, target=Target.PROPHECY, kind="message.created", obj=message, payload={
        "message": message.pk, "conversation": conversation.pk, "client": conversation.client_id,
        "text": message.body, "language": message.language, "district": slug,
        "service_type": message.service_types[0] if message.service_types else None,
        "urgency": message.urgency, "created": message.created_at.isoformat(),
    })


def _message_announce(message: Message) -> None:
    events.emit([g.conversation_group(message.conversation_id), g.inbox_group()], "message.created",
                row_id=message.pk, data=message_data(message))


def message_read(*, user, message_id: int) -> MessageRead:
    """Mark one message read by this participant (idempotent)."""
    message = Message.objects.select_related("conversation__client", "conversation__job").filter(pk=message_id).first()
    if message is None or not conversation_can_access(user=user, conversation=message.conversation):
        raise _not_found(_("Message"))
    with transaction.atomic():
        read, _created = MessageRead.objects.get_or_create(message=message, user=user,
                                                           defaults={"is_office": user_is_office(user)})
    return read


# --- notifications -----------------------------------------------------------------------------


def _in_quiet_hours(pref: NotificationPreference | None, now) -> bool:
    if pref is None or pref.quiet_start is None or pref.quiet_end is None:
        return False
    t = timezone.localtime(now).time()
    if pref.quiet_start <= pref.quiet_end:
        return pref.quiet_start <= t < pref.quiet_end
    return t >= pref.quiet_start or t < pref.quiet_end  # over midnight, e.g. 22:00-07:00


def _address(user, channel: str, pref: NotificationPreference | None) -> str:
    if channel == Channel.EMAIL:
        return user.email or ""
    if channel == Channel.SMS:
        if pref is not None and pref.phone:
            return pref.phone
        tech = getattr(user, "technician", None) if hasattr(user, "technician") else None
        if tech is not None and tech.phone:
            return tech.phone
        # .all() reads the prefetched clients when notify() fetched them (no query per user).
        return next((c.phone for c in user.clients.all() if c.phone), "")
    if channel == Channel.TELEGRAM:
        return pref.telegram_chat_id if pref is not None else ""
    return ""


def _user_language(user, pref: NotificationPreference | None) -> str:
    if pref is not None and pref.language:
        return pref.language
    client = next(iter(user.clients.all()), None)
    return client.preferred_language if client else settings.LANGUAGE_CODE[:2]


def notify(*, user_ids: list[int], kind: str, title: str, body: str, payload: dict | None = None,
           priority: str = "normal", related_type: str = "", related_id: str = "",
           channels: list[str] | None = None, marketing: bool = False, dedupe_key: str | None = None) -> list[int]:
    """Notify users; returns the notification ids (a dedupe key already used for a user makes none new)."""
    return _notify(user_ids=user_ids, kind=kind, title=title, body=body, payload=payload, priority=priority,
                   related_type=related_type, related_id=related_id, channels=channels, marketing=marketing,
                   dedupe_key=dedupe_key, push=True)


def _notify(*, user_ids, kind, title, body, payload, priority, related_type, related_id, channels, marketing,
            dedupe_key, push: bool, extra: dict[int, dict] | None = None, fresh_key: bool = False) -> list[int]:
    """notify() for many users; ids in the order of user_ids (existing ones for a used dedupe key)."""
    by_user = _notify_map(user_ids=user_ids, kind=kind, title=title, body=body, payload=payload, priority=priority,
                          related_type=related_type, related_id=related_id, channels=channels, marketing=marketing,
                          dedupe_key=dedupe_key, push=push, extra=extra, fresh_key=fresh_key)
    return [by_user[u] for u in dict.fromkeys(int(u) for u in user_ids) if u in by_user]


def _notify_map(*, user_ids, kind, title, body, payload, priority, related_type, related_id, channels, marketing,
                dedupe_key, push: bool, extra: dict[int, dict] | None, fresh_key: bool,
                role: str | None = None) -> dict[int, int]:
    """{user id: notification id}, in a fixed number of queries whatever the number of users.

    `extra` adds per-user payload keys; `fresh_key` skips the dedupe lookup when the caller knows
    the key was just made (an alert's own id is in it). No savepoints: each is a round trip, and
    an error must undo the caller's whole transaction anyway (the outbox then retries it).
    """
    if priority not in Priority.values:
        raise ServiceError(_("Unknown priority."), fields={"priority": [_("Unknown priority.")]})
    unknown = set(channels or []) - set(Channel.values)
    if unknown:
        raise ServiceError(_("Unknown channel."), fields={"channels": [", ".join(sorted(unknown))]})
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not ids and role is None:
        return {}
    now = timezone.now()
    outermost = not transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic(savepoint=False):
            existing: dict[int, int] = {}
            if dedupe_key and not fresh_key:
                existing = dict(Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key)
                                .values_list("recipient_id", "id"))
            users_qs = User.objects.filter(is_active=True).select_related("notification_preference", "technician")
            # `role`: the users of a role group, in the same query (the alert path counts round trips).
            users_qs = users_qs.filter(groups__name=role) if role is not None else \
                users_qs.filter(pk__in=[u for u in ids if u not in existing])
            if "language" not in (payload or {}):
                users_qs = users_qs.prefetch_related("clients")  # the language of a client's users
            users = list(users_qs)
            notifications: list[Notification] = []
            plans: list[tuple[Notification, list[tuple[str, str, str, str]]]] = []
            for user in users:
                pref = getattr(user, "notification_preference", None) if hasattr(user, "notification_preference") else None
                language = (payload or {}).get("language") or _user_language(user, pref)
                n = Notification(recipient=user, kind=kind[:64], title=title[:200], body=body,
                                 payload={**(payload or {}), **((extra or {}).get(user.pk) or {}), "language": language},
                                 priority=priority, related_type=related_type, related_id=str(related_id),
                                 marketing=marketing, dedupe_key=dedupe_key)
                notifications.append(n)
                plans.append((n, _delivery_plan(user, pref, channels, priority, now)))
            Notification.objects.bulk_create(notifications)
            deliveries = [Delivery(notification=n, channel=ch, state=state, address=addr, last_error=err,
                                   sent_at=now if state == Delivery.State.SENT else None)
                          for n, plan in plans for ch, addr, state, err in plan]
            Delivery.objects.bulk_create(deliveries)
            _deliveries_record([d.pk for d in deliveries
                                if d.channel != Channel.IN_APP and d.state == Delivery.State.PENDING])
            if push:
                in_app = {d.notification_id for d in deliveries if d.channel == Channel.IN_APP}
                pushes = [(g.user_group(n.recipient_id), events.make_event(
                    "notification.created", row_id=n.pk, data=notification_data(n))) for n in notifications if n.pk in in_app]
                if pushes:
                    transaction.on_commit(lambda: _send_many(pushes))
    except IntegrityError:
        if not outermost or not dedupe_key:
            raise
        # Two runs of the same work raced on a dedupe key: the other run made them.
        return dict(Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key)
                    .values_list("recipient_id", "id"))
    return {**existing, **{n.recipient_id: n.pk for n in notifications}}


def _deliveries_record(delivery_ids: list[int]) -> None:
    """The outbox rows (communications, notifications, delivery.send), one per external delivery.

    Written in one INSERT (record() makes one row per call; a fan-out to hundreds of users would
    pay a round trip each), then published after commit exactly as record() does.
    """
    if not delivery_ids:
        return
    rows = IntegrationLog.objects.bulk_create([
        IntegrationLog(source=SOURCE, target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
                       object_id=str(pk), payload={"delivery": pk}) for pk in delivery_ids])
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        log_ids = [r.pk for r in rows]
        transaction.on_commit(lambda: outbox_publish(log_ids=log_ids))


def _delivery_plan(user, pref, channels, priority, now) -> list[tuple[str, str, str, str]]:
    """(channel, address, initial state, reason) per channel for one recipient."""
    explicit = channels is not None
    wanted = list(channels) if explicit else list((pref.channels if pref is not None and pref.channels else None)
                                                   or conf.DEFAULT_CHANNELS)
    if priority == Priority.EMERGENCY and not explicit:
        wanted += [c for c in conf.EMERGENCY_CHANNELS if c not in wanted]
    quiet = priority != Priority.EMERGENCY and _in_quiet_hours(pref, now)
    plan = []
    for channel in dict.fromkeys(wanted):
        if channel == Channel.IN_APP:
            # The row is saved, the push announces it: "sent" until the client acknowledges.
            plan.append((channel, "", Delivery.State.SENT, ""))
            continue
        address = _address(user, channel, pref)
        if not address:
            if explicit:
                plan.append((channel, "", Delivery.State.SKIPPED, "no address for this channel"))
            continue
        if quiet:
            plan.append((channel, address, Delivery.State.SKIPPED, "quiet hours"))
            continue
        plan.append((channel, address, Delivery.State.PENDING, ""))
    return plan


def notify_role(*, role: str, kind: str, title: str, body: str, payload: dict | None = None,
                priority: str = "normal", related_type: str = "", related_id: str = "",
                channels: list[str] | None = None, marketing: bool = False,
                dedupe_key: str | None = None) -> list[int]:
    """Notify every active user of a role group ("manager", "dispatcher", "administrator")."""
    user_ids = list(User.objects.filter(groups__name=role, is_active=True).values_list("pk", flat=True))
    return notify(user_ids=user_ids, kind=kind, title=title, body=body, payload=payload, priority=priority,
                  related_type=related_type, related_id=related_id, channels=channels, marketing=marketing,
                  dedupe_key=dedupe_key)


def notify_district_technicians(*, district_slug: str, kind: str, title: str, body: str,
                                payload: dict | None = None, priority: str = "normal", related_type: str = "",
                                related_id: str = "", channels: list[str] | None = None, marketing: bool = False,
                                dedupe_key: str | None = None) -> list[int]:
    """Notify the active, on-shift technicians of a district who are not in private mode."""
    user_ids = list(Technician.objects.filter(home_district__slug=district_slug, active=True, on_shift=True,
                                              private_mode=False).values_list("user_id", flat=True))
    return notify(user_ids=user_ids, kind=kind, title=title, body=body, payload=payload, priority=priority,
                  related_type=related_type, related_id=related_id, channels=channels, marketing=marketing,
                  dedupe_key=dedupe_key)


def notification_ack(*, user, notification_id: int) -> Notification:
    """The recipient's device confirms it received a notification: in-app delivery -> delivered.

    Acknowledging an emergency alert's notification acknowledges the alert (first one wins).
    """
    now = timezone.now()
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id, recipient_id=user.pk).first()
        if n is None:
            raise _not_found(_("Notification"))
        if n.acknowledged_at is None:
            n.acknowledged_at = now
            n.save(update_fields=["acknowledged_at"])
        Delivery.objects.filter(notification=n, channel=Channel.IN_APP,
                                state__in=[Delivery.State.PENDING, Delivery.State.SENT]).update(
            state=Delivery.State.DELIVERED, delivered_at=now, updated_at=now)
        if n.related_type == ALERT_OBJECT and n.related_id:
            _alert_acknowledge(alert_id=int(n.related_id), user=user, now=now)
    return n


def notification_read(*, user, notification_id: int) -> Notification:
    """The recipient opened the notification: in-app delivery -> read."""
    now = timezone.now()
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id, recipient_id=user.pk).first()
        if n is None:
            raise _not_found(_("Notification"))
        if n.read_at is None:
            n.read_at = now
            n.acknowledged_at = n.acknowledged_at or now
            n.save(update_fields=["read_at", "acknowledged_at"])
        Delivery.objects.filter(notification=n, channel=Channel.IN_APP).exclude(state=Delivery.State.READ).update(
            state=Delivery.State.READ, read_at=now, delivered_at=now, updated_at=now)
    return n


def preference_set(*, user, channels: list[str] | None = None, quiet_start=None, quiet_end=None, phone: str = "",
                   telegram_chat_id: str = "", language: str = "") -> NotificationPreference:
    """Set a user's channels, quiet hours and gateway addresses."""
    pref = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    pref.channels = list(channels or [])
    pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
    pref.phone, pref.telegram_chat_id, pref.language = phone, telegram_chat_id, language
    try:
        pref.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ServiceError(_("Invalid preferences."), fields=exc.message_dict) from exc
    with transaction.atomic():
        pref.save()
    return pref


# --- deliveries --------------------------------------------------------------------------------

MARKETING_PURPOSE = {Channel.EMAIL: Consent.Purpose.MARKETING_EMAIL, Channel.SMS: Consent.Purpose.MARKETING_SMS,
                     Channel.TELEGRAM: Consent.Purpose.MARKETING_SMS, Channel.IN_APP: Consent.Purpose.MARKETING_EMAIL}


def consent_granted(*, user_id: int, purpose: str) -> bool:
    """The latest ledger entry of every client of this user grants the purpose (no entry: no)."""
    client_ids = list(Client.objects.filter(users=user_id).values_list("pk", flat=True))
    if not client_ids:
        return False
    for client_id in client_ids:
        latest = Consent.objects.filter(client_id=client_id, purpose=purpose).order_by("-id").first()
        if latest is None or not latest.granted:
            return False
    return True


def _failure_key(delivery_id: int) -> str:
    return f"comms:delivery-failure:{delivery_id}"


def _sync_from_outbox(delivery: Delivery, *, force: bool = False) -> None:
    """Copy the outbox's view of a failed attempt onto the delivery.

    The outbox runs the handler in a savepoint and rolls it back when the handler raises, so the
    failure an attempt wrote to the Delivery is undone with it; the IntegrationLog row keeps the
    attempts, and the transport's own error is kept in the cache (outside the transaction) by
    delivery_attempt. Without such a memo there was no failed attempt and nothing to read.
    """
    memo = cache.get(_failure_key(delivery.pk))
    if memo is None and not force:
        return
    log = (IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
                                         object_id=str(delivery.pk)).order_by("-id").first())
    if log is None or delivery.state in (Delivery.State.SENT, Delivery.State.DELIVERED, Delivery.State.READ,
                                         Delivery.State.SKIPPED):
        return
    if log.state in (IntegrationLog.State.FAILED, IntegrationLog.State.DEAD) and log.attempts >= delivery.attempts:
        delivery.attempts = log.attempts
        delivery.last_error = memo or log.error
        delivery.state = Delivery.State.DEAD if log.state == IntegrationLog.State.DEAD else Delivery.State.FAILED


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one delivery once through its transport; returns its state afterwards.

    Idempotent: a delivery that was sent (or skipped) is never sent again. A marketing delivery
    checks consent now, at send time, not when it was queued. "failed"/"dead" mean the caller
    (the outbox handler) should raise so the sweep retries with backoff.
    """
    now = timezone.now()
    with transaction.atomic():
        d = (Delivery.objects.select_for_update(of=("self",)).select_related("notification")
             .filter(pk=delivery_id).first())
        if d is None:
            raise _not_found(_("Delivery"))
        if d.state in (Delivery.State.SENT, Delivery.State.DELIVERED, Delivery.State.READ, Delivery.State.SKIPPED):
            return d.state
        _sync_from_outbox(d)
        n = d.notification
        if n.marketing and not consent_granted(user_id=n.recipient_id, purpose=MARKETING_PURPOSE[d.channel]):
            d.state, d.last_error = Delivery.State.SKIPPED, "no marketing consent at send time"
            d.save(update_fields=["state", "last_error", "attempts", "updated_at"])
            return d.state
        d.attempts += 1
        try:
            transport_for(d.channel).send(d)
        except TransportError as exc:
            d.last_error = str(exc)[:2000]
            # Survives the rollback of the outbox handler's savepoint (see _sync_from_outbox).
            cache.set(_failure_key(d.pk), d.last_error, timeout=14 * 24 * 3600)
            d.state = Delivery.State.DEAD if d.attempts >= settings.OUTBOX_MAX_ATTEMPTS else Delivery.State.FAILED
        else:
            d.state, d.sent_at, d.last_error = Delivery.State.SENT, now, ""
            cache.delete(_failure_key(d.pk))
        d.save(update_fields=["state", "attempts", "last_error", "sent_at", "updated_at"])
    return d.state


class DeliveryFailed(Exception):
    """Raised by delivery_attempt_or_raise so the outbox row records the gateway's error and retries."""


def delivery_attempt_or_raise(*, delivery_id: int) -> str:
    """delivery_attempt for an outbox handler: raises DeliveryFailed (with the transport's error) on failure."""
    state = delivery_attempt(delivery_id=delivery_id)
    if state in (Delivery.State.FAILED, Delivery.State.DEAD):
        error = Delivery.objects.filter(pk=delivery_id).values_list("last_error", flat=True).first()
        raise DeliveryFailed(f"delivery {delivery_id}: {error}")
    return state


def delivery_retry(*, delivery_id: int) -> Delivery:
    """Staff retry of a failed or dead delivery: its outbox row runs again (the only retry loop)."""
    with transaction.atomic():
        d = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if d is None:
            raise _not_found(_("Delivery"))
        _sync_from_outbox(d, force=True)
        if d.state not in (Delivery.State.FAILED, Delivery.State.DEAD, Delivery.State.PENDING):
            raise ServiceError(_("Only failed or dead deliveries can be retried."), code="not_retryable")
        if d.channel == Channel.IN_APP:
            raise ServiceError(_("In-app deliveries are not retried."), code="not_retryable")
        d.state = Delivery.State.PENDING
        d.save(update_fields=["state", "attempts", "last_error", "updated_at"])
        log = (IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind=DELIVERY_KIND,
                                             object_type=DELIVERY_OBJECT, object_id=str(d.pk)).order_by("-id").first())
        if log is not None and log.state != IntegrationLog.State.SUCCEEDED:
            outbox_retry(log_id=log.pk)
        else:
            record(source=SOURCE, target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
                   object_id=d.pk, payload={"delivery": d.pk})
    return d


def delivery_states_sync(*, limit: int = 1000) -> int:
    """Mark deliveries failed/dead whose outbox rows failed or died (see _sync_from_outbox)."""
    logs = (IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind=DELIVERY_KIND,
                                          state__in=[IntegrationLog.State.FAILED, IntegrationLog.State.DEAD])
            .order_by("-id").values_list("object_id", flat=True)[:limit])
    changed = 0
    for delivery_id in {int(x) for x in logs if x.isdigit()}:
        with transaction.atomic():
            d = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
            if d is None:
                continue
            before = (d.state, d.attempts)
            _sync_from_outbox(d, force=True)
            if (d.state, d.attempts) != before:
                d.save(update_fields=["state", "attempts", "last_error", "updated_at"])
                changed += 1
    return changed


# --- emergencies -------------------------------------------------------------------------------


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), enough for ranking technicians within a city."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _alert_point(alert: EmergencyAlert) -> tuple[float, float] | None:
    if alert.latitude is not None and alert.longitude is not None:
        return alert.latitude, alert.longitude
    if alert.district_id:
        _name, lat, lng, _tier, _w = DISTRICTS[alert.district.slug]
        return lat, lng
    return None


def _rank_technicians(alert: EmergencyAlert, district_ids: list[int], exclude_users: set[int]) -> tuple[list, list]:
    """(routed [(tech, km)], skipped [(tech, reason)]) for the districts, nearest first."""
    point = _alert_point(alert)
    routed, skipped = [], []
    techs = Technician.objects.filter(home_district_id__in=district_ids, active=True).select_related("user")
    for tech in techs:
        if tech.user_id in exclude_users:
            continue
        if not tech.on_shift:
            skipped.append((tech, "off shift"))
        elif tech.private_mode:
            skipped.append((tech, "private mode"))
        elif not tech.user.is_active:
            skipped.append((tech, "user inactive"))
        else:
            km = None
            if point and tech.last_latitude is not None and tech.last_longitude is not None:
                km = _km(point[0], point[1], tech.last_latitude, tech.last_longitude)
            routed.append((tech, km))
    # Unknown positions last; ties by id so the order is stable.
    routed.sort(key=lambda tk: (tk[1] is None, tk[1] if tk[1] is not None else 0.0, tk[0].pk))
    return routed, skipped


def _alert_data(alert: EmergencyAlert, **extra) -> dict[str, Any]:
    data = {"alert": alert.pk, "message": alert.message_id, "job": alert.job_id,
            "district": alert.district.slug if alert.district_id else None, "text": alert.text,
            "urgency": "emergency", "state": alert.state, "latitude": alert.latitude, "longitude": alert.longitude}
    if alert.message_id and alert.message is not None:
        data["service_types"] = alert.message.service_types
    data.update(extra)
    return data


def _route_to(alert: EmergencyAlert, routed: list, *, step_reason: str, key_suffix: str,
              decisions: list[AlertDecision]) -> list[int]:
    """Notify technicians (one batch) and push each an `emergency.alert` with their notification id, nearest first."""
    if not routed:
        return []
    # Registered first so that, after commit, the pushes go out before the publishes of the SMS
    # deliveries' outbox rows (on_commit callbacks run in registration order).
    pushes: list[tuple[str, dict]] = []
    transaction.on_commit(lambda: _send_many(pushes))
    title = _("Emergency in %(district)s") % {"district": alert.district.name if alert.district_id else "?"}
    extra = {tech.user_id: {"rank": rank, "distance_km": km} for rank, (tech, km) in enumerate(routed, start=1)}
    by_user = _notify_map(user_ids=[t.user_id for t, _km in routed], kind="emergency.alert", title=title,
                          body=alert.text[:1000], payload={"alert": alert.pk, "language": settings.LANGUAGE_CODE[:2]},
                          priority=Priority.EMERGENCY, related_type=ALERT_OBJECT, related_id=str(alert.pk),
                          channels=None, marketing=False, dedupe_key=f"alert:{alert.pk}:{key_suffix}", push=False,
                          extra=extra, fresh_key=True)
    decisions += [AlertDecision(alert=alert, step=AlertDecision.Step.ROUTED, user_id=tech.user_id, technician=tech,
                                rank=rank, distance_km=km, reason=step_reason)
                  for rank, (tech, km) in enumerate(routed, start=1)]
    pushes += [(g.technician_group(tech.pk), events.make_event("emergency.alert", row_id=alert.pk, data=_alert_data(
        alert, notification=by_user.get(tech.user_id), rank=rank, distance_km=km)))
        for rank, (tech, km) in enumerate(routed, start=1)]
    return [tech.user_id for tech, _km in routed]


def _send_many(pushes: list[tuple[str, dict]]) -> None:
    """group_send to many groups concurrently in one event-loop run (after commit).

    events.send_now sends group by group, each through its own async_to_sync round trip; an
    alert to a dozen technicians would wait for each in turn. A lost frame is tolerable: the rows
    are saved and a reconnecting device catches up.
    """
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not pushes:
        return

    async def send_all() -> None:
        results = await asyncio.gather(*(layer.group_send(group, {"type": "realtime.push", "event": event})
                                         for group, event in pushes), return_exceptions=True)
        for (group, _event), result in zip(pushes, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("group_send to %s failed: %s", group, result)

    async_to_sync(send_all)()


def emergency_dispatch(*, message_id: int | None, job_id: int | None, district_slug: str | None, text: str,
                       dedupe_key: str) -> dict:
    """Route an emergency to the district's on-shift technicians, nearest first; tell managers.

    No technician available -> the dispatchers are told instead. Escalation to the neighbouring
    districts happens in `escalation_sweep` after COMMS_ESCALATION_SECONDS without acknowledgement.
    Idempotent on dedupe_key: a second run returns the first run's alert.
    """
    existing = EmergencyAlert.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return {"alert": existing.pk, "recipients": _alert_recipients(existing), "duplicate": True}
    message = Message.objects.select_related("conversation__job", "district").filter(pk=message_id).first() \
        if message_id else None
    job = ServiceJob.objects.select_related("district", "site").filter(pk=job_id).first() if job_id else None
    if job is None and message is not None and message.conversation.job_id:
        job = message.conversation.job
    if district_slug and message is not None and message.district_id and message.district.slug == district_slug:
        district = message.district  # the usual case: no second look-up
    else:
        district = District.objects.filter(slug=district_slug).first() if district_slug else None
    district = district or (message.district if message and message.district_id else None) \
        or (job.district if job and job.district_id else None)
    if district is None and job is not None and job.site.district_id:
        district = job.site.district
    lat = message.latitude if message and message.latitude is not None else (job.latitude if job else None)
    lng = message.longitude if message and message.longitude is not None else (job.longitude if job else None)
    outermost = not transaction.get_connection().in_atomic_block
    try:
        # No savepoints (each is a round trip on the alert's critical path): a failure here undoes
        # the caller's transaction, and the outbox runs the row again.
        with transaction.atomic(savepoint=False):
            alert = EmergencyAlert.objects.create(
                message=message, job=job, district=district, text=text[:4000], latitude=lat, longitude=lng,
                dedupe_key=dedupe_key, escalate_at=timezone.now() + timedelta(seconds=conf.ESCALATION_SECONDS))
            routed, skipped = _rank_technicians(alert, [district.pk] if district else [], set())
            decisions = [AlertDecision(alert=alert, step=AlertDecision.Step.SKIPPED, user_id=t.user_id, technician=t,
                                       reason=reason) for t, reason in skipped]
            recipients = _route_to(alert, routed, step_reason="district technician", key_suffix="district",
                                   decisions=decisions)
            title = _("Emergency in %(district)s") % {"district": district.name if district else _("an unknown district")}
            staff_language = {"alert": alert.pk, "language": settings.LANGUAGE_CODE[:2]}
            common = {"title": title, "body": text[:1000], "payload": staff_language, "related_type": ALERT_OBJECT,
                      "related_id": str(alert.pk), "marketing": False, "push": True, "extra": None, "fresh_key": True}
            if not recipients:
                told = _notify_map(user_ids=[], role="dispatcher", kind="emergency.alert",
                                   priority=Priority.EMERGENCY, channels=None, dedupe_key=f"alert:{alert.pk}:fallback",
                                   **common)
                decisions.append(AlertDecision(alert=alert, step=AlertDecision.Step.FALLBACK, reason=_(
                    "no technician on shift in the district: %(n)s dispatcher notification(s)") % {"n": len(told)}))
                recipients = list(told)
            managers = _notify_map(user_ids=[], role="manager", kind="emergency.alert", priority=Priority.HIGH,
                                   channels=[Channel.IN_APP], dedupe_key=f"alert:{alert.pk}:managers", **common)
            decisions.append(AlertDecision(alert=alert, step=AlertDecision.Step.MANAGERS,
                                           reason=f"{len(managers)} manager notification(s)"))
            AlertDecision.objects.bulk_create(decisions)
            events.emit([g.dispatch_group()], "emergency.alert", row_id=alert.pk,
                        data=_alert_data(alert, recipients=recipients))
    except IntegrityError:
        if not outermost:
            raise
        alert = EmergencyAlert.objects.get(dedupe_key=dedupe_key)  # a concurrent run made it first
        return {"alert": alert.pk, "recipients": _alert_recipients(alert), "duplicate": True}
    return {"alert": alert.pk, "recipients": recipients}


def _alert_recipients(alert: EmergencyAlert) -> list[int]:
    return list(Notification.objects.filter(related_type=ALERT_OBJECT, related_id=str(alert.pk))
                .exclude(dedupe_key__endswith=":managers").values_list("recipient_id", flat=True))


def _alert_acknowledge(*, alert_id: int, user, now) -> None:
    alert = (EmergencyAlert.objects.select_for_update(of=("self",)).select_related("district", "message")
             .filter(pk=alert_id).first())
    if alert is None or alert.state == EmergencyAlert.State.ACKNOWLEDGED:
        return
    alert.state, alert.acknowledged_at, alert.acknowledged_by = EmergencyAlert.State.ACKNOWLEDGED, now, user
    alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    AlertDecision.objects.create(alert=alert, step=AlertDecision.Step.ACKNOWLEDGED, user=user,
                                 technician=_technician_of(user), reason="acknowledged")
    events.emit([g.dispatch_group()], "emergency.alert", row_id=alert.pk, data=_alert_data(
        alert, acknowledged_by=user.pk, acknowledged_by_name=user.get_full_name() or user.get_username()))


def alert_escalate(*, alert_id: int) -> list[int]:
    """Send an unacknowledged alert to the neighbouring districts' technicians and the dispatchers."""
    with transaction.atomic():
        alert = EmergencyAlert.objects.select_for_update(skip_locked=True, of=("self",)).select_related("district", "message") \
            .filter(pk=alert_id, state=EmergencyAlert.State.OPEN).first()
        if alert is None:
            return []
        already = set(AlertDecision.objects.filter(alert=alert, step=AlertDecision.Step.ROUTED)
                      .values_list("user_id", flat=True))
        neighbour_ids = list(alert.district.neighbours.values_list("pk", flat=True)) if alert.district_id else []
        routed, skipped = _rank_technicians(alert, neighbour_ids, already)
        decisions = [AlertDecision(alert=alert, step=AlertDecision.Step.SKIPPED, user_id=t.user_id, technician=t,
                                   reason=f"escalation: {reason}") for t, reason in skipped]
        recipients = _route_to(alert, routed, step_reason="neighbouring district (escalation)", key_suffix="escalation",
                               decisions=decisions)
        title = _("Unacknowledged emergency in %(district)s") % {
            "district": alert.district.name if alert.district_id else "?"}
        ids = notify_role(role="dispatcher", kind="emergency.escalated", title=title, body=alert.text[:1000],
                          payload={"alert": alert.pk}, priority=Priority.EMERGENCY, related_type=ALERT_OBJECT,
                          related_id=str(alert.pk), dedupe_key=f"alert:{alert.pk}:escalation-dispatch")
        alert.state, alert.escalated_at = EmergencyAlert.State.ESCALATED, timezone.now()
        alert.save(update_fields=["state", "escalated_at"])
        decisions.append(AlertDecision(alert=alert, step=AlertDecision.Step.ESCALATED,
                                       reason=f"{len(recipients)} neighbouring technician(s), {len(ids)} dispatcher(s)"))
        AlertDecision.objects.bulk_create(decisions)
        events.emit([g.dispatch_group()], "emergency.alert", row_id=alert.pk, data=_alert_data(alert, escalated=True))
    return recipients


def escalation_sweep() -> int:
    """Escalate every open alert past its time; returns how many were escalated."""
    due = list(EmergencyAlert.objects.filter(state=EmergencyAlert.State.OPEN, escalate_at__lte=timezone.now())
               .values_list("pk", flat=True)[:500])
    done = 0
    for alert_id in due:
        alert_escalate(alert_id=alert_id)
        done += 1
    return done


# --- client notifications along a job's life ---------------------------------------------------


def _feedback_link(job_id: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("portal:feedback", args=[job_id])
    except NoReverseMatch:  # the portal app may not be mounted in every deployment
        path = f"/portal/visits/{job_id}/feedback/"
    return conf.SITE_URL.rstrip("/") + path


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%d.%m.%Y %H:%M") if dt else "?"


def _job_message(job: ServiceJob, change: str, previous_status: str | None) -> tuple[str, str, str, dict] | None:
    """(kind, title, body, extra payload) for a client, in the active language; None: nothing to say."""
    if job.status == JobStatus.SCHEDULED and previous_status == JobStatus.NEW:
        return ("job.confirmed", _("Your visit is confirmed"),
                _("We will come on %(when)s. Technician: %(tech)s.") % {
                    "when": _local(job.scheduled_start), "tech": job.technician or "-"}, {})
    if job.status == JobStatus.EN_ROUTE and (change == "status" or change == "eta"):
        if job.eta:
            body = _("The technician %(tech)s is on the way. Expected arrival: %(eta)s.") % {
                "tech": job.technician or "", "eta": _local(job.eta)}
        else:
            body = _("The technician %(tech)s is on the way.") % {"tech": job.technician or ""}
        return "job.en_route", _("The technician is on the way"), body, {"eta": job.eta.isoformat() if job.eta else None}
    if job.status == JobStatus.COMPLETED and previous_status != JobStatus.COMPLETED:
        link = _feedback_link(job.pk)
        return ("job.completed", _("Your visit is completed"),
                _("Thank you. Please tell us how it went: %(link)s") % {"link": link}, {"link": link})
    if job.status == JobStatus.CANCELLED and previous_status != JobStatus.CANCELLED:
        return "job.cancelled", _("Your visit was cancelled"), _("Please contact us to choose a new date."), {}
    return None


def job_update_notify(*, job_id: int, change: str, previous_status: str | None, dedupe_key: str) -> list[int]:
    """Tell the client's users about a job change, in the client's language (idempotent by key)."""
    job = ServiceJob.objects.select_related("client", "technician__user").filter(pk=job_id).first()
    if job is None:
        return []
    language = job.client.preferred_language or "pl"
    with translation.override(language):
        said = _job_message(job, change, previous_status)
    if said is None:
        return []
    kind, title, body, extra = said
    user_ids = list(job.client.users.filter(is_active=True).values_list("pk", flat=True))
    return notify(user_ids=user_ids, kind=kind, title=str(title), body=str(body),
                  payload={"job": job.pk, "status": job.status, "language": language, **extra},
                  priority=Priority.NORMAL, related_type="hvaccrm.servicejob", related_id=str(job.pk),
                  dedupe_key=dedupe_key)


def reminders_send(*, day=None) -> int:
    """Remind clients of tomorrow's visits (run every evening); returns notifications made."""
    day = day or (timezone.localdate() + timedelta(days=1))
    made = 0
    jobs = ServiceJob.objects.filter(status=JobStatus.SCHEDULED, scheduled_start__date=day).select_related("client")
    for job in jobs:
        language = job.client.preferred_language or "pl"
        with translation.override(language):
            title = str(_("Reminder: your visit tomorrow"))
            body = str(_("We will come on %(when)s.") % {"when": _local(job.scheduled_start)})
        user_ids = list(job.client.users.filter(is_active=True).values_list("pk", flat=True))
        made += len(notify(user_ids=user_ids, kind="job.reminder", title=title, body=body,
                           payload={"job": job.pk, "language": language}, related_type="hvaccrm.servicejob",
                           related_id=str(job.pk), dedupe_key=f"reminder:{job.pk}:{day.isoformat()}"))
    return made


# --- the client's data (RODO) -----------------------------------------------------------------

ERASED = "[usunięto / removed]"


def client_data_anonymise(*, client_id: int) -> int:
    """Erase the personal content of a client's conversations and notifications; rows stay for counts."""
    with transaction.atomic():
        user_ids = list(Client.objects.filter(pk=client_id).values_list("users", flat=True))
        user_ids = [u for u in user_ids if u is not None]
        changed = Message.objects.filter(conversation__client_id=client_id).exclude(body=ERASED).update(
            body=ERASED, latitude=None, longitude=None, classification={})
        changed += Conversation.objects.filter(client_id=client_id).exclude(subject="").update(subject="")
        changed += Notification.objects.filter(recipient_id__in=user_ids).exclude(body=ERASED).update(
            title=ERASED, body=ERASED, payload={})
        changed += Delivery.objects.filter(notification__recipient_id__in=user_ids).exclude(address="").update(address="")
        changed += NotificationPreference.objects.filter(user_id__in=user_ids).exclude(
            Q(phone="") & Q(telegram_chat_id="")).update(phone="", telegram_chat_id="")
        changed += EmergencyAlert.objects.filter(Q(message__conversation__client_id=client_id) | Q(job__client_id=client_id)) \
            .exclude(text=ERASED).update(text=ERASED, latitude=None, longitude=None)
    return changed
