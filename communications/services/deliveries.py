"""Deliveries through their transports: one attempt at a time, idempotent, retried by the outbox."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from communications.models import (
    Channel,
    Delivery,
    Notification,
)
from communications.services.common import (
    DELIVERY_KIND,
    DELIVERY_OBJECT,
    SOURCE,
    _not_found,
    _send_many,
)
from communications.transports import DeliveryFailed, transport_for
from hvaccrm import metrics
from hvaccrm.errors import ServiceError
from hvaccrm.models import Client, Consent, IntegrationLog
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import presence
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


def delivery_attempt(*, delivery_id: int, link: str = "") -> str:
    """Send one delivery once through its transport; returns its state afterwards.

    `link` is a secret the e-mail carries below its text (a sign-in link, issued by the caller just
    before this attempt): it is rendered into the message and stored nowhere. A notification whose
    payload says `forget_address` (the erasure notice: its address was erased everywhere else) has
    its delivery's address blanked once sent or given up on.

    Idempotent: a delivery that was sent (or skipped) is never sent again; one left "sending" by a
    crash is sent again under the same reference, for the gateway to drop. A marketing delivery
    checks consent now, at send time, not when it was queued. "failed"/"dead" mean the caller
    (the outbox handler) should raise so the sweep retries with backoff.
    """
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
        n = d.notification
        if n.marketing and not consent_granted(user_id=n.recipient_id, purpose=MARKETING_PURPOSE[d.channel]):
            d.state, d.last_error = Delivery.State.SKIPPED, "no marketing consent at send time"
            d.save(update_fields=["state", "last_error", "attempts", "updated_at"])
            return d.state
        d.attempts += 1
        if d.channel != Channel.IN_APP:
            # Committed before the gateway is called (the outbox runs this handler outside its row's
            # transaction): a crash after the gateway took it leaves "sending", and the next attempt
            # sends again with the same reference (`delivery-<id>`), which the gateway can drop.
            d.state = Delivery.State.SENDING
            d.save(update_fields=["state", "attempts", "last_error", "updated_at"])
    with transaction.atomic():
        try:
            if link:
                transport_for(d.channel).send(d, link=link)
            else:
                transport_for(d.channel).send(d)
        except DeliveryFailed as exc:
            d.last_error = str(exc)[:2000]
            if d.channel == Channel.IN_APP:
                # Nobody was listening (or Redis refused): still undelivered, shown on the next
                # page load; not a failure to retry, and never "sent".
                d.save(update_fields=["attempts", "last_error", "updated_at"])
                return d.state
            # Survives the rollback of the outbox handler's savepoint (see _sync_from_outbox).
            cache.set(_failure_key(d.pk), d.last_error, timeout=14 * 24 * 3600)
            d.state = Delivery.State.DEAD if d.attempts >= settings.OUTBOX_MAX_ATTEMPTS else Delivery.State.FAILED
        else:
            d.state, d.sent_at, d.last_error = Delivery.State.SENT, timezone.now(), ""
            cache.delete(_failure_key(d.pk))
        if (n.payload or {}).get("forget_address") and d.state in (Delivery.State.SENT, Delivery.State.DEAD):
            d.address = ""
        d.save(update_fields=["state", "attempts", "last_error", "sent_at", "address", "updated_at"])
    metrics.delivery_outcome(channel=d.channel, state=d.state)
    return d.state


def delivery_attempt_or_raise(*, delivery_id: int, link: str = "") -> str:
    """delivery_attempt for an outbox handler: raises DeliveryFailed (with the transport's error) on failure."""
    state = delivery_attempt(delivery_id=delivery_id, link=link)
    if state in (Delivery.State.FAILED, Delivery.State.DEAD):
        error = Delivery.objects.filter(pk=delivery_id).values_list("last_error", flat=True).first()
        raise DeliveryFailed(f"delivery {delivery_id}: {error}")
    return state


def email_notification_create(*, user_id: int, kind: str, title: str, body: str, address: str, language: str,
                              dedupe_key: str, send: bool, forget_address: bool = False) -> tuple[int, str]:
    """One notification with one e-mail delivery to `address` (the user's own, or one erased from
    the user since), created once per (user, dedupe_key); returns the delivery's id and state.

    `send` records its delivery.send outbox row, which sends and retries it. Without it the caller's
    own outbox row attempts it (delivery_attempt with a `link` issued at send time, so the link is
    never stored). No in-app delivery: these are e-mails, not messages of the notification centre.
    """
    with transaction.atomic():
        n = Notification.objects.filter(recipient_id=user_id, dedupe_key=dedupe_key).first()
        if n is None:
            payload = {"language": language, **({"forget_address": True} if forget_address else {})}
            # Read from the start: an e-mail of the account, not news for the notification bell.
            n = Notification.objects.create(recipient_id=user_id, kind=kind[:64], title=title[:200], body=body,
                                            payload=payload, dedupe_key=dedupe_key, read_at=timezone.now())
        d, created = Delivery.objects.get_or_create(notification=n, channel=Channel.EMAIL,
                                                    defaults={"address": address})
        if created and send:
            record(source=SOURCE, target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
                   object_id=d.pk, payload={"delivery": d.pk})
    return d.pk, d.state


def delivery_retry(*, delivery_id: int) -> Delivery:
    """Staff retry of a failed or dead delivery: its outbox row runs again (the only retry loop)."""
    with transaction.atomic():
        d = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if d is None:
            raise _not_found(_("Delivery"))
        _sync_from_outbox(d, force=True)
        if d.state not in (Delivery.State.FAILED, Delivery.State.DEAD, Delivery.State.PENDING, Delivery.State.SENDING):
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


# --- In-app: "sent" = pushed to an open socket, "delivered" = the client's receipt, "read" = read ---

NO_SOCKET = "no open socket"
PUSH_FAILED = "push not accepted by the channel layer"


def deliveries_in_app_push(
    *, pushes: list[tuple[str, dict, int | None]], recipients: dict[int, int] | None = None
) -> dict[int, str]:
    """After commit: push each (group, event) and move the in-app delivery of its notification.

    A delivery becomes "sent" only when its recipient had at least one open socket and the channel
    layer accepted the push; otherwise it stays "pending" with the reason, and the recipient's next
    page load shows it (the audit counts what stays undelivered). `recipients` ({notification id:
    user id}) saves the look-up when the caller knows them (an alert's frames wait for no query).
    Returns {notification id: state}.
    """
    if not pushes:
        return {}
    if recipients is None:
        ids = [nid for _group, _event, nid in pushes if nid]
        recipients = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "recipient_id"))
    # Asked before the push: a socket that opens in between catches up on its own, never the reverse.
    listening = presence.users_with_open_sockets(user_ids=sorted(set(recipients.values())))
    accepted = _send_many([(group, event) for group, event, _nid in pushes])
    outcome: dict[int, str] = {}
    for (_group, _event, nid), ok in zip(pushes, accepted, strict=True):
        if nid in recipients and outcome.get(nid) != Delivery.State.SENT:
            outcome[nid] = (Delivery.State.SENT if ok and recipients[nid] in listening
                            else NO_SOCKET if ok else PUSH_FAILED)
    now = timezone.now()
    pending = Delivery.objects.filter(channel=Channel.IN_APP, state=Delivery.State.PENDING)
    for result in {*outcome.values()}:
        chosen = [nid for nid, r in outcome.items() if r == result]
        if result == Delivery.State.SENT:
            pending.filter(notification_id__in=chosen).update(state=Delivery.State.SENT, sent_at=now, last_error="",
                                                              attempts=F("attempts") + 1, updated_at=now)
        else:
            pending.filter(notification_id__in=chosen).update(last_error=result, attempts=F("attempts") + 1,
                                                              updated_at=now)
    return {nid: (Delivery.State.SENT if r == Delivery.State.SENT else Delivery.State.PENDING)
            for nid, r in outcome.items()}


def deliveries_in_app_received(*, user, notification_ids: list[int]) -> int:
    """The recipient's page received these notifications (pushed live or shown on load): delivered.

    Only a receipt: unlike notification_ack it does not acknowledge an emergency alert, which a
    person must do. Someone else's notification ids change nothing.
    """
    now = timezone.now()
    return Delivery.objects.filter(
        notification__recipient_id=user.pk, notification_id__in=notification_ids, channel=Channel.IN_APP,
        state__in=[Delivery.State.PENDING, Delivery.State.SENT],
    ).update(state=Delivery.State.DELIVERED, delivered_at=now, updated_at=now)


def deliveries_in_app_undelivered(*, older_than_seconds: float = 0) -> int:
    """How many in-app deliveries no page has received yet (the audit's consistency figure)."""
    qs = Delivery.objects.filter(channel=Channel.IN_APP, state__in=[Delivery.State.PENDING, Delivery.State.SENT])
    if older_than_seconds:
        qs = qs.filter(created_at__lt=timezone.now() - timedelta(seconds=older_than_seconds))
    return qs.count()


# --- Gateway delivery reports (communications/inbound: the SMS gateway's webhook) ----------------


def delivery_report(*, delivery_id: int, delivered: bool, error: str = "") -> bool:
    """The gateway's report of a send: "delivered" (or read already: kept) or "failed". A failed
    report of a sent delivery starts its retry through the outbox, like a failed attempt would.
    Returns whether the delivery changed; an unknown id or a report of a pending one changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        d = Delivery.objects.select_for_update().filter(pk=delivery_id).exclude(channel=Channel.IN_APP).first()
        if d is None or d.state not in (Delivery.State.SENT, Delivery.State.DELIVERED):
            return False
        if delivered:
            if d.state == Delivery.State.DELIVERED:
                return False
            d.state, d.delivered_at = Delivery.State.DELIVERED, now
            d.save(update_fields=["state", "delivered_at", "updated_at"])
        else:
            d.state, d.last_error = Delivery.State.FAILED, f"gateway report: {error or 'failed'}"[:2000]
            d.save(update_fields=["state", "last_error", "updated_at"])
            record(source=SOURCE, target=Target.NOTIFICATIONS, kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
                   object_id=d.pk, payload={"delivery": d.pk})
    metrics.delivery_outcome(channel=d.channel, state=d.state)
    return True
