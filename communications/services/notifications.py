"""Notifications: one batch per call, deliveries planned per channel, in-app pushes after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
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
from communications.services.alerts import alert_acknowledge
from communications.services.common import (
    ALERT_OBJECT,
    DELIVERY_KIND,
    DELIVERY_OBJECT,
    SOURCE,
    User,
    _not_found,
    run_deduped,
)
from communications.services.deliveries import deliveries_in_app_push
from communications.transports import notification_data
from hvaccrm.errors import ServiceError
from hvaccrm.models import IntegrationLog, Technician
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services.outbox import outbox_publish_together


def _in_quiet_hours(pref: NotificationPreference | None, now) -> bool:
    if pref is None or pref.quiet_start is None or pref.quiet_end is None:
        return False
    t = timezone.localtime(now).time()
    if pref.quiet_start <= pref.quiet_end:
        return pref.quiet_start <= t < pref.quiet_end
    return t >= pref.quiet_start or t < pref.quiet_end  # over midnight, e.g. 22:00-07:00


def _quiet_end(pref: NotificationPreference, now) -> datetime:
    """The moment the user's quiet hours (which hold `now`) end: their end time, today or tomorrow."""
    local = timezone.localtime(now)
    end = timezone.make_aware(datetime.combine(local.date(), pref.quiet_end))
    return end if end > local else timezone.make_aware(datetime.combine(local.date() + timedelta(days=1),
                                                                        pref.quiet_end))


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


@dataclass(frozen=True, kw_only=True)
class NotificationSpec:
    """What a notification says and how it goes out; who receives it is the caller's choice
    (`notify`, `notify_role`, `notify_district_technicians`). Frozen: one spec can be sent to
    several groups of recipients, and `dataclasses.replace` makes a variant without touching it.

    A dedupe key already used for a recipient makes no new notification for them (the outbox is
    at-least-once: a handler that runs twice must not tell anyone twice)."""

    kind: str
    title: str
    body: str
    payload: dict | None = None
    priority: str = Priority.NORMAL
    related_type: str = ""
    related_id: str = ""
    channels: list[str] | None = None
    marketing: bool = False
    dedupe_key: str | None = None


def notify(*, user_ids: list[int], spec: NotificationSpec) -> list[int]:
    """Notify users; the notification ids in the order of user_ids (existing ones for a used dedupe key)."""
    by_user = _notify_map(spec=spec, user_ids=user_ids)
    return [by_user[u] for u in dict.fromkeys(int(u) for u in user_ids) if u in by_user]


def _notify_map(
    *,
    spec: NotificationSpec,
    user_ids: list[int] | tuple[int, ...] = (),
    role: str | None = None,
    push: bool = True,
    extra: dict[int, dict] | None = None,
    fresh_key: bool = False,
    in_app_only: bool = False,
    users: list | None = None,
) -> dict[int, int]:
    """{user id: notification id}, in a fixed number of queries whatever the number of users.

    `role` notifies the users of a role group instead of `user_ids`; `extra` adds per-user payload
    keys; `fresh_key` skips the dedupe lookup when the caller knows the key was just made (an
    alert's own id is in it); `in_app_only` leaves the external deliveries for
    `external_deliveries_save` (an emergency's technicians get its frame before they are written);
    `users` are the recipients already read, active, with their preferences (no second query).
    No savepoints: each is a round trip, and an error must undo the
    caller's whole transaction anyway (the outbox then retries it).
    """
    _spec_check(spec)
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not ids and role is None:
        return {}

    def work() -> dict[int, int]:
        existing = _notified_by_key(ids, spec.dedupe_key) if spec.dedupe_key and not fresh_key else {}
        users_ = (_recipients(spec, role=role, user_ids=[u for u in ids if u not in existing]) if users is None
                  else [u for u in users if u.pk not in existing])
        notifications = _notifications_save(spec, users_, extra=extra, push=push, in_app_only=in_app_only)
        return {**existing, **{n.recipient_id: n.pk for n in notifications}}

    # Two runs of the same work raced on the dedupe key: the other run made them.
    return run_deduped(
        work, made_by_other_run=(lambda: _notified_by_key(ids, spec.dedupe_key)) if spec.dedupe_key else None
    )


def _spec_check(spec: NotificationSpec) -> None:
    if spec.priority not in Priority.values:
        raise ServiceError(_("Unknown priority."), fields={"priority": [_("Unknown priority.")]})
    unknown = set(spec.channels or []) - set(Channel.values)
    if unknown:
        raise ServiceError(_("Unknown channel."), fields={"channels": [", ".join(sorted(unknown))]})


def _notified_by_key(user_ids: list[int], dedupe_key: str | None) -> dict[int, int]:
    """{user id: notification id} of the users who already have a notification with this key."""
    rows = Notification.objects.filter(recipient_id__in=user_ids, dedupe_key=dedupe_key)
    return dict(rows.values_list("recipient_id", "id"))


def _recipients(spec: NotificationSpec, *, role: str | None, user_ids: list[int]) -> list:
    """The active users to notify, with what the delivery plan reads, in one query."""
    users_qs = User.objects.filter(is_active=True).select_related("notification_preference", "technician")
    # `role`: the users of a role group, in the same query (the alert path counts round trips).
    users_qs = users_qs.filter(groups__name=role) if role is not None else users_qs.filter(pk__in=user_ids)
    if "language" not in (spec.payload or {}):
        users_qs = users_qs.prefetch_related("clients")  # the language of a client's users
    return list(users_qs)


def _notifications_save(
    spec: NotificationSpec, users: list, *, extra: dict[int, dict] | None, push: bool, in_app_only: bool = False
) -> list[Notification]:
    """One notification per user and its deliveries, in bulk; the in-app pushes after commit."""
    now = timezone.now()
    notifications: list[Notification] = []
    plans: list[tuple[Notification, list[tuple[str, str, str, str]]]] = []
    # External deliveries held back by their recipient's quiet hours, sent when those end.
    deferred: dict[int, datetime] = {}
    for user in users:
        pref = getattr(user, "notification_preference", None) if hasattr(user, "notification_preference") else None
        language = (spec.payload or {}).get("language") or _user_language(user, pref)
        n = Notification(
            recipient=user,
            kind=spec.kind[:64],
            title=spec.title[:200],
            body=spec.body,
            payload={**(spec.payload or {}), **((extra or {}).get(user.pk) or {}), "language": language},
            priority=spec.priority,
            related_type=spec.related_type,
            related_id=str(spec.related_id),
            marketing=spec.marketing,
            dedupe_key=spec.dedupe_key,
        )
        notifications.append(n)
        plan = _delivery_plan(user, pref, spec.channels, spec.priority, now)
        plans.append((n, [p for p in plan if p[0] == Channel.IN_APP] if in_app_only else plan))
        if spec.priority != Priority.EMERGENCY and _in_quiet_hours(pref, now):
            deferred[id(n)] = _quiet_end(pref, now)
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
    external = [d for d in deliveries if d.channel != Channel.IN_APP and d.state == Delivery.State.PENDING]
    _deliveries_record([d.pk for d in external],
                       not_before={d.pk: deferred[id(d.notification)] for d in external if id(d.notification) in deferred})
    if push:
        _pushes_after_commit(notifications, {d.notification_id for d in deliveries if d.channel == Channel.IN_APP})
    return notifications


def _pushes_after_commit(notifications: list[Notification], in_app: set[int]) -> None:
    """A `notification.created` push to each recipient with an in-app delivery, once committed."""
    pushes = [
        (
            g.user_group(n.recipient_id),
            events.make_event("notification.created", row_id=n.pk, data=notification_data(n)),
            n.pk,
        )
        for n in notifications
        if n.pk in in_app
    ]
    if pushes:
        # "sent" only once pushed to an open socket of the recipient (deliveries.py decides).
        transaction.on_commit(lambda: deliveries_in_app_push(pushes=pushes))


def external_deliveries_save(*, notification_ids: list[int]) -> int:
    """The external deliveries (SMS, e-mail, Telegram) of notifications saved in-app only, and their
    outbox rows; returns how many. Once: a notification with an external delivery is left alone,
    so a run that died after the in-app half and its retry write them once."""
    now = timezone.now()
    notes = list(
        Notification.objects.filter(pk__in=notification_ids)
        .exclude(deliveries__channel__in=[c for c in Channel.values if c != Channel.IN_APP])
        .select_related("recipient__notification_preference", "recipient__technician")
        .prefetch_related("recipient__clients")
    )
    deliveries, not_before = [], {}
    for n in notes:
        user = n.recipient
        pref = getattr(user, "notification_preference", None) if hasattr(user, "notification_preference") else None
        quiet = n.priority != Priority.EMERGENCY and _in_quiet_hours(pref, now)
        for ch, addr, state, err in _delivery_plan(user, pref, None, n.priority, now):
            if ch != Channel.IN_APP:
                deliveries.append(Delivery(notification=n, channel=ch, state=state, address=addr, last_error=err))
                if quiet:
                    not_before[id(deliveries[-1])] = _quiet_end(pref, now)
    Delivery.objects.bulk_create(deliveries)
    pending = [d for d in deliveries if d.state == Delivery.State.PENDING]
    _deliveries_record([d.pk for d in pending], not_before={d.pk: not_before[id(d)] for d in pending if id(d) in not_before})
    return len(deliveries)


def _deliveries_record(delivery_ids: list[int], *, not_before: dict[int, datetime] | None = None) -> None:
    """The outbox rows (communications, notifications, delivery.send), one per external delivery.

    Written in one INSERT (record() makes one row per call; a fan-out to hundreds of users would
    pay a round trip each), then published after commit in batches (outbox_publish_together).
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
                # A deferred row waits pending until then: the sweep publishes it when it is due.
                **({"next_attempt_at": not_before[pk]} if pk in (not_before or {}) else {}),
            )
            for pk in delivery_ids
        ]
    )
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        log_ids = [r.pk for r in rows if int(r.object_id) not in (not_before or {})]
        # On the default queue (a delivery.send row has no queue of its own), in batches: an
        # alert's 200 SMS were 200 publishes on the emergency worker and 200 tasks on the other.
        transaction.on_commit(lambda: outbox_publish_together(log_ids=log_ids))


def _emergency_channel_on(channel: str, pref: NotificationPreference | None) -> bool:
    """An emergency's added SMS (the wake-up of a phone whose app sleeps) goes only through a
    configured gateway (else it could only fail) and not to a user who switched it off."""
    if channel != Channel.SMS:
        return True
    return bool(conf.SMS_GATEWAY_URL) and (pref is None or pref.emergency_sms)


def _delivery_plan(user, pref, channels, priority, now) -> list[tuple[str, str, str, str]]:
    """(channel, address, initial state, reason) per channel for one recipient."""
    explicit = channels is not None
    wanted = (
        list(channels)
        if explicit
        else list((pref.channels if pref is not None and pref.channels else None) or conf.DEFAULT_CHANNELS)
    )
    if priority == Priority.EMERGENCY and not explicit:
        wanted += [c for c in conf.EMERGENCY_CHANNELS if c not in wanted and _emergency_channel_on(c, pref)]
    quiet = priority != Priority.EMERGENCY and _in_quiet_hours(pref, now)
    plan = []
    for channel in dict.fromkeys(wanted):
        if channel == Channel.IN_APP:
            # Pending until the push after commit reaches an open socket (deliveries_in_app_push).
            plan.append((channel, "", Delivery.State.PENDING, ""))
            continue
        address = _address(user, channel, pref)
        if not address:
            if explicit:
                plan.append((channel, "", Delivery.State.SKIPPED, "no address for this channel"))
            continue
        if quiet:
            # Deferred to the end of the quiet hours (its outbox row's not-before), not dropped.
            plan.append((channel, address, Delivery.State.PENDING, "deferred: quiet hours"))
            continue
        plan.append((channel, address, Delivery.State.PENDING, ""))
    return plan


def notify_role(*, role: str, spec: NotificationSpec) -> list[int]:
    """Notify every active user of a role group ("manager", "dispatcher", "administrator")."""
    user_ids = list(User.objects.filter(groups__name=role, is_active=True).values_list("pk", flat=True))
    return notify(user_ids=user_ids, spec=spec)


def notify_district_technicians(*, district_slug: str, spec: NotificationSpec) -> list[int]:
    """Notify the active, on-shift technicians of a district who are not in private mode."""
    user_ids = list(
        Technician.objects.filter(
            home_district__slug=district_slug, active=True, on_shift=True, private_mode=False
        ).values_list("user_id", flat=True)
    )
    return notify(user_ids=user_ids, spec=spec)


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
            alert_acknowledge(alert_id=int(n.related_id), user=user, now=now)
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


def emergency_sms_set(*, user, on: bool) -> NotificationPreference:
    """A technician's "SMS for emergencies when the app is in the background" switch (default on)."""
    with transaction.atomic():
        pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        if pref.emergency_sms != on:
            pref.emergency_sms = on
            pref.save(update_fields=["emergency_sms"])
    return pref
