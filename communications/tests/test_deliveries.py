"""Notifications and their deliveries: channels, gateways, retries through the outbox, consent, quiet hours."""

from __future__ import annotations

from datetime import time

import pytest
from django.core import mail

from communications import services
from communications.models import Delivery, Notification, NotificationPreference
from hvaccrm.models import Consent, IntegrationLog
from hvaccrm.services.outbox import outbox_process
from hvaccrm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _log_for(delivery: Delivery) -> IntegrationLog:
    return IntegrationLog.objects.get(kind="delivery.send", object_id=str(delivery.pk))


def test_notify_creates_one_notification_per_user_with_in_app_and_email_deliveries():
    user = UserFactory(email="ola@example.com")
    ids = services.notify(
        user_ids=[user.pk], spec=services.NotificationSpec(kind="test", title="Tytuł", body="Treść")
    )
    n = Notification.objects.get(pk=ids[0])
    states = dict(n.deliveries.values_list("channel", "state"))
    # In-app is "sent" only once pushed to an open socket after commit (test_in_app_delivery.py).
    assert states == {"in_app": "pending", "email": "pending"}
    assert IntegrationLog.objects.filter(target="notifications", kind="delivery.send").count() == 1


def test_a_dedupe_key_already_used_for_a_user_creates_nothing_new():
    user = UserFactory()
    first = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="t", title="a", body="b", dedupe_key="job:1:confirmed"),
    )
    second = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="t", title="a", body="b", dedupe_key="job:1:confirmed"),
    )
    assert first == second and Notification.objects.filter(recipient=user).count() == 1


def test_an_email_delivery_is_rendered_in_the_recipients_language():
    user = UserFactory(email="john@example.com")
    NotificationPreference.objects.create(user=user, language="en")
    [nid] = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="t", title="Visit confirmed", body="See you", channels=["email"]),
    )
    d = Delivery.objects.get(notification_id=nid, channel="email")
    assert services.delivery_attempt(delivery_id=d.pk) == "sent"
    assert mail.outbox[-1].to == ["john@example.com"] and "Hello," in mail.outbox[-1].body
    pl = UserFactory(email="ola@example.com")
    [nid] = services.notify(
        user_ids=[pl.pk],
        spec=services.NotificationSpec(kind="t", title="Wizyta", body="Do zobaczenia", channels=["email"]),
    )
    services.delivery_attempt(delivery_id=Delivery.objects.get(notification_id=nid).pk)
    assert "Dzień dobry" in mail.outbox[-1].body


def test_sms_and_telegram_go_through_their_http_gateways(gateway):
    user = UserFactory()
    NotificationPreference.objects.create(user=user, phone="+48600100200", telegram_chat_id="4242")
    [nid] = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="t", title="Awaria", body="Jedziemy", channels=["sms", "telegram"]),
    )
    for d in Delivery.objects.filter(notification_id=nid):
        assert services.delivery_attempt(delivery_id=d.pk) == "sent"
    paths = sorted(r["path"] for r in gateway.requests)
    assert paths == ["/bot123:abc/sendMessage", "/sms"]
    sms = next(r for r in gateway.requests if r["path"] == "/sms")
    assert sms["body"]["to"] == "+48600100200" and sms["auth"] == "Bearer test-token"


def test_a_failing_gateway_is_retried_by_the_outbox_and_delivers_exactly_once(gateway, delivery_handler):
    user = UserFactory()
    NotificationPreference.objects.create(user=user, phone="+48600100200", channels=["sms"])
    [nid] = services.notify(user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="Awaria", body="x"))
    d = Delivery.objects.get(notification_id=nid, channel="sms")
    log = _log_for(d)
    gateway.status = 503
    assert outbox_process(log_id=log.pk) == "failed"
    services.delivery_states_sync()
    d.refresh_from_db()
    assert d.state == "failed" and d.attempts == 1 and "503" in d.last_error
    gateway.status = 200
    assert outbox_process(log_id=log.pk) == "succeeded"
    d.refresh_from_db()
    assert d.state == "sent" and d.attempts == 2
    # A duplicate run of the outbox row or of the attempt sends nothing more.
    assert outbox_process(log_id=log.pk) == "succeeded"
    assert services.delivery_attempt(delivery_id=d.pk) == "sent"
    assert len(gateway.accepted()) == 1


def test_after_the_outboxs_last_attempt_the_delivery_is_dead_and_staff_can_retry_it(gateway, delivery_handler, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    user = UserFactory()
    NotificationPreference.objects.create(user=user, phone="+48600100200", channels=["sms"])
    [nid] = services.notify(user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="Awaria", body="x"))
    d = Delivery.objects.get(notification_id=nid, channel="sms")
    log = _log_for(d)
    gateway.status = 500
    outbox_process(log_id=log.pk)
    assert outbox_process(log_id=log.pk) == "dead"
    # The attempt commits its own state (it runs outside the row's transaction): nothing to copy.
    assert services.delivery_states_sync() == 0
    d.refresh_from_db()
    assert d.state == "dead"
    gateway.status = 200
    services.delivery_retry(delivery_id=d.pk)
    log.refresh_from_db()
    assert log.state == "pending"
    assert outbox_process(log_id=log.pk) == "succeeded"
    d.refresh_from_db()
    assert d.state == "sent" and len(gateway.accepted()) == 1


def test_consent_withdrawn_before_a_queued_marketing_send_means_nothing_is_sent(client_anna, gateway):
    user = client_anna.users.get()
    Consent.objects.create(client=client_anna, purpose="marketing_sms", granted=True, channel="portal", text_version="1")
    NotificationPreference.objects.create(user=user, phone="+48600100200")
    [nid] = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(
            kind="promo",
            title="Przegląd -20%",
            body="Oferta",
            channels=["sms"],
            marketing=True,
        ),
    )
    Consent.objects.create(client=client_anna, purpose="marketing_sms", granted=False, channel="portal", text_version="1")
    d = Delivery.objects.get(notification_id=nid)
    assert services.delivery_attempt(delivery_id=d.pk) == "skipped"
    assert gateway.requests == []
    d.refresh_from_db()
    assert "consent" in d.last_error


def test_a_marketing_send_with_consent_granted_is_sent(client_anna, gateway):
    user = client_anna.users.get()
    Consent.objects.create(client=client_anna, purpose="marketing_sms", granted=True, channel="portal", text_version="1")
    NotificationPreference.objects.create(user=user, phone="+48600100200")
    [nid] = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="promo", title="Oferta", body="x", channels=["sms"], marketing=True),
    )
    assert services.delivery_attempt(delivery_id=Delivery.objects.get(notification_id=nid).pk) == "sent"


def test_quiet_hours_hold_back_external_channels_but_not_emergencies(gateway):
    user = UserFactory(email="ola@example.com")
    NotificationPreference.objects.create(user=user, phone="+48600100200", channels=["in_app", "sms"],
                                          quiet_start=time(0, 0), quiet_end=time(23, 59, 59))
    [quiet] = services.notify(user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="a", body="b"))
    # Held back (deferred to the end of the quiet hours, test_delivery_faults.py), not dropped.
    held = Delivery.objects.get(notification_id=quiet, channel="sms")
    assert held.state == "pending" and held.last_error == "deferred: quiet hours"
    [urgent] = services.notify(
        user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="a", body="b", priority="emergency")
    )
    assert Delivery.objects.get(notification_id=urgent, channel="sms").state == "pending"


def test_acknowledging_then_reading_moves_the_in_app_delivery_to_delivered_then_read():
    user = UserFactory()
    [nid] = services.notify(
        user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="a", body="b", channels=["in_app"])
    )
    services.notification_ack(user=user, notification_id=nid)
    assert Delivery.objects.get(notification_id=nid).state == "delivered"
    services.notification_read(user=user, notification_id=nid)
    assert Delivery.objects.get(notification_id=nid).state == "read"


def test_someone_elses_notification_cannot_be_acknowledged():
    owner, other = UserFactory(), UserFactory()
    [nid] = services.notify(user_ids=[owner.pk], spec=services.NotificationSpec(kind="t", title="a", body="b"))
    with pytest.raises(services.ServiceError) as err:
        services.notification_ack(user=other, notification_id=nid)
    assert err.value.status_code == 404


def test_notify_role_and_district_technicians_reach_the_right_people(dispatcher, technician_mokotow):
    from hvaccrm.tests.factories import TechnicianFactory, district

    TechnicianFactory(home_district=district("mokotow"), private_mode=True)
    assert len(services.notify_role(role="dispatcher", spec=services.NotificationSpec(kind="t", title="a", body="b"))) == 1
    ids = services.notify_district_technicians(
        district_slug="mokotow", spec=services.NotificationSpec(kind="t", title="a", body="b")
    )
    assert list(Notification.objects.filter(pk__in=ids).values_list("recipient_id", flat=True)) == [
        technician_mokotow.user_id]


def test_notify_makes_a_fixed_number_of_queries_whatever_the_number_of_users(django_assert_max_num_queries,
                                                                             client_anna):
    users = [UserFactory(email=f"u{i}@example.com") for i in range(30)]
    for u in users[:10]:
        client_anna.users.add(u)
    with django_assert_max_num_queries(8):
        ids = services.notify(
            user_ids=[u.pk for u in users],
            spec=services.NotificationSpec(kind="t", title="a", body="b", channels=["in_app", "email", "sms"]),
        )
    assert len(ids) == 30


def test_the_integration_layers_own_delivery_handler_retries_and_keeps_the_gateways_error(gateway):
    """No stand-in handler here: the one the integration layer registered for delivery.send."""
    user = UserFactory()
    NotificationPreference.objects.create(user=user, phone="+48600100200", channels=["sms"])
    [nid] = services.notify(user_ids=[user.pk], spec=services.NotificationSpec(kind="t", title="Awaria", body="x"))
    d = Delivery.objects.get(notification_id=nid, channel="sms")
    log = _log_for(d)
    gateway.status = 502
    assert outbox_process(log_id=log.pk) == "failed"
    d.refresh_from_db()  # kept by the handler's reported (not raised) failure
    assert d.state == "failed" and d.attempts == 1 and "502" in d.last_error
    services.delivery_states_sync()
    d.refresh_from_db()
    assert d.state == "failed" and d.attempts == 1 and "502" in d.last_error
    gateway.status = 200
    assert outbox_process(log_id=log.pk) == "succeeded"
    d.refresh_from_db()
    assert d.state == "sent" and len(gateway.accepted()) == 1
