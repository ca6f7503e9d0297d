"""Deliveries through their transports: one attempt at a time, idempotent, retried by the outbox."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications.models import (
    Channel,
    Delivery,
)
from communications.services.common import (
    DELIVERY_KIND,
    DELIVERY_OBJECT,
    SOURCE,
    _not_found,
)
from communications.transports import DeliveryFailed, transport_for
from hvaccrm.errors import ServiceError
from hvaccrm.models import Client, Consent, IntegrationLog
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import outbox_retry, record

MARKETING_PURPOSE = {
    Channel.EMAIL: Consent.Purpose.MARKETING_EMAIL,
    Channel.SMS: Consent.Purpose.MARKETING_SMS,
    Channel.TELEGRAM: Consent.Purpose.MARKETING_SMS,
    Channel.IN_APP: Consent.Purpose.MARKETING_EMAIL,
}


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
    log = (
        IntegrationLog.objects.filter(
            target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT, object_id=str(delivery.pk)
        )
        .order_by("-id")
        .first()
    )
    if log is None or delivery.state in (
        Delivery.State.SENT,
        Delivery.State.DELIVERED,
        Delivery.State.READ,
        Delivery.State.SKIPPED,
    ):
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
        d = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification")
            .filter(pk=delivery_id)
            .first()
        )
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
        except DeliveryFailed as exc:
            d.last_error = str(exc)[:2000]
            # Survives the rollback of the outbox handler's savepoint (see _sync_from_outbox).
            cache.set(_failure_key(d.pk), d.last_error, timeout=14 * 24 * 3600)
            d.state = Delivery.State.DEAD if d.attempts >= settings.OUTBOX_MAX_ATTEMPTS else Delivery.State.FAILED
        else:
            d.state, d.sent_at, d.last_error = Delivery.State.SENT, now, ""
            cache.delete(_failure_key(d.pk))
        d.save(update_fields=["state", "attempts", "last_error", "sent_at", "updated_at"])
    return d.state


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
        log = (
            IntegrationLog.objects.filter(
                target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT, object_id=str(d.pk)
            )
            .order_by("-id")
            .first()
        )
        if log is not None and log.state != IntegrationLog.State.SUCCEEDED:
            outbox_retry(log_id=log.pk)
        else:
            record(
                source=SOURCE,
                target=Target.NOTIFICATIONS,
                kind=DELIVERY_KIND,
                object_type=DELIVERY_OBJECT,
                object_id=d.pk,
                payload={"delivery": d.pk},
            )
    return d


def delivery_states_sync(*, limit: int = 1000) -> int:
    """Mark deliveries failed/dead whose outbox rows failed or died (see _sync_from_outbox)."""
    logs = (
        IntegrationLog.objects.filter(
            target=Target.NOTIFICATIONS,
            kind=DELIVERY_KIND,
            state__in=[IntegrationLog.State.FAILED, IntegrationLog.State.DEAD],
        )
        .order_by("-id")
        .values_list("object_id", flat=True)[:limit]
    )
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
