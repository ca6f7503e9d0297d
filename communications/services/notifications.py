"""Notifications: one batch per call, deliveries planned per channel, in-app pushes after commit."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications import conf
from communications.models import (
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    Priority,
)
from communications.services.common import (
    ALERT_OBJECT,
    DELIVERY_KIND,
    DELIVERY_OBJECT,
    SOURCE,
    User,
    _not_found,
    _send_many,
)
from communications.transports import notification_data
from hvaccrm.errors import ServiceError
from hvaccrm.models import IntegrationLog, Technician
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services.outbox import outbox_publish


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


def notify(
    *,
    user_ids: list[int],
    kind: str,
    title: str,
    body: str,
    payload: dict | None = None,
    priority: str = "normal",
    related_type: str = "",
    related_id: str = "",
    channels: list[str] | None = None,
    marketing: bool = False,
    dedupe_key: str | None = None,
) -> list[int]:
    """Notify users; returns the notification ids (a dedupe key already used for a user makes none new)."""
    return _notify(
        user_ids=user_ids,
        kind=kind,
        title=title,
        body=body,
        payload=payload,
        priority=priority,
        related_type=related_type,
        related_id=related_id,
        channels=channels,
        marketing=marketing,
        dedupe_key=dedupe_key,
        push=True,
    )


def _notify(*, user_ids, extra: dict[int, dict] | None = None, fresh_key: bool = False, **options) -> list[int]:
    """notify() for many users; ids in the order of user_ids (existing ones for a used dedupe key).
    `options` are _notify_map's keyword arguments (kind, title, body, payload, priority, ...)."""
    by_user = _notify_map(user_ids=user_ids, extra=extra, fresh_key=fresh_key, **options)
    return [by_user[u] for u in dict.fromkeys(int(u) for u in user_ids) if u in by_user]


def _notify_map(
    *,
    user_ids,
    kind,
    title,
    body,
    payload,
    priority,
    related_type,
    related_id,
    channels,
    marketing,
    dedupe_key,
    push: bool,
    extra: dict[int, dict] | None,
    fresh_key: bool,
    role: str | None = None,
) -> dict[int, int]:
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
                existing = dict(
                    Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key).values_list(
                        "recipient_id", "id"
                    )
                )
            users_qs = User.objects.filter(is_active=True).select_related("notification_preference", "technician")
            # `role`: the users of a role group, in the same query (the alert path counts round trips).
            users_qs = (
                users_qs.filter(groups__name=role)
                if role is not None
                else users_qs.filter(pk__in=[u for u in ids if u not in existing])
            )
            if "language" not in (payload or {}):
                users_qs = users_qs.prefetch_related("clients")  # the language of a client's users
            users = list(users_qs)
            notifications: list[Notification] = []
            plans: list[tuple[Notification, list[tuple[str, str, str, str]]]] = []
            for user in users:
                pref = (
                    getattr(user, "notification_preference", None) if hasattr(user, "notification_preference") else None
                )
                language = (payload or {}).get("language") or _user_language(user, pref)
                n = Notification(
                    recipient=user,
                    kind=kind[:64],
                    title=title[:200],
                    body=body,
                    payload={**(payload or {}), **((extra or {}).get(user.pk) or {}), "language": language},
                    priority=priority,
                    related_type=related_type,
                    related_id=str(related_id),
                    marketing=marketing,
                    dedupe_key=dedupe_key,
                )
                notifications.append(n)
                plans.append((n, _delivery_plan(user, pref, channels, priority, now)))
            Notification.objects.bulk_create(notifications)
            deliveries = [
                Delivery(
                    notification=n,
                    channel=ch,
                    state=state,
                    address=addr,
                    last_error=err,
                    sent_at=now if state == Delivery.State.SENT else None,
                )
                for n, plan in plans
                for ch, addr, state, err in plan
            ]
            Delivery.objects.bulk_create(deliveries)
            _deliveries_record(
                [d.pk for d in deliveries if d.channel != Channel.IN_APP and d.state == Delivery.State.PENDING]
            )
            if push:
                in_app = {d.notification_id for d in deliveries if d.channel == Channel.IN_APP}
                pushes = [
                    (
                        g.user_group(n.recipient_id),
                        events.make_event("notification.created", row_id=n.pk, data=notification_data(n)),
                    )
                    for n in notifications
                    if n.pk in in_app
                ]
                if pushes:
                    transaction.on_commit(lambda: _send_many(pushes))
    except IntegrityError:
        if not outermost or not dedupe_key:
            raise
        # Two runs of the same work raced on a dedupe key: the other run made them.
        return dict(
            Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key).values_list("recipient_id", "id")
        )
    return {**existing, **{n.recipient_id: n.pk for n in notifications}}


def _deliveries_record(delivery_ids: list[int]) -> None:
    """The outbox rows (communications, notifications, delivery.send), one per external delivery.

    Written in one INSERT (record() makes one row per call; a fan-out to hundreds of users would
    pay a round trip each), then published after commit exactly as record() does.
    """
    if not delivery_ids:
        return
    rows = IntegrationLog.objects.bulk_create(
        [
            IntegrationLog(
                source=SOURCE,
                target=Target.NOTIFICATIONS,
                kind=DELIVERY_KIND,
                object_type=DELIVERY_OBJECT,
                object_id=str(pk),
                payload={"delivery": pk},
            )
            for pk in delivery_ids
        ]
    )
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        log_ids = [r.pk for r in rows]
        transaction.on_commit(lambda: outbox_publish(log_ids=log_ids))


def _delivery_plan(user, pref, channels, priority, now) -> list[tuple[str, str, str, str]]:
    """(channel, address, initial state, reason) per channel for one recipient."""
    explicit = channels is not None
    wanted = (
        list(channels)
        if explicit
        else list((pref.channels if pref is not None and pref.channels else None) or conf.DEFAULT_CHANNELS)
    )
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


def notify_role(
    *,
    role: str,
    kind: str,
    title: str,
    body: str,
    payload: dict | None = None,
    priority: str = "normal",
    related_type: str = "",
    related_id: str = "",
    channels: list[str] | None = None,
    marketing: bool = False,
    dedupe_key: str | None = None,
) -> list[int]:
    """Notify every active user of a role group ("manager", "dispatcher", "administrator")."""
    user_ids = list(User.objects.filter(groups__name=role, is_active=True).values_list("pk", flat=True))
    return notify(
        user_ids=user_ids,
        kind=kind,
        title=title,
        body=body,
        payload=payload,
        priority=priority,
        related_type=related_type,
        related_id=related_id,
        channels=channels,
        marketing=marketing,
        dedupe_key=dedupe_key,
    )


def notify_district_technicians(
    *,
    district_slug: str,
    kind: str,
    title: str,
    body: str,
    payload: dict | None = None,
    priority: str = "normal",
    related_type: str = "",
    related_id: str = "",
    channels: list[str] | None = None,
    marketing: bool = False,
    dedupe_key: str | None = None,
) -> list[int]:
    """Notify the active, on-shift technicians of a district who are not in private mode."""
    user_ids = list(
        Technician.objects.filter(
            home_district__slug=district_slug, active=True, on_shift=True, private_mode=False
        ).values_list("user_id", flat=True)
    )
    return notify(
        user_ids=user_ids,
        kind=kind,
        title=title,
        body=body,
        payload=payload,
        priority=priority,
        related_type=related_type,
        related_id=related_id,
        channels=channels,
        marketing=marketing,
        dedupe_key=dedupe_key,
    )


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
        Delivery.objects.filter(
            notification=n, channel=Channel.IN_APP, state__in=[Delivery.State.PENDING, Delivery.State.SENT]
        ).update(state=Delivery.State.DELIVERED, delivered_at=now, updated_at=now)
        if n.related_type == ALERT_OBJECT and n.related_id:
            # Imported here: emergencies builds on this module's _notify_map (no import cycle).
            from communications.services.emergencies import _alert_acknowledge

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
            state=Delivery.State.READ, read_at=now, delivered_at=now, updated_at=now
        )
    return n


def preference_set(
    *,
    user,
    channels: list[str] | None = None,
    quiet_start=None,
    quiet_end=None,
    phone: str = "",
    telegram_chat_id: str = "",
    language: str = "",
) -> NotificationPreference:
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
