"""Deliveries and triage decisions reach the product's metrics (hvaccrm/metrics.py)."""

from __future__ import annotations

import pytest

from communications import services
from communications.classifier import classify
from communications.models import Delivery, NotificationPreference
from hvaccrm import metrics
from hvaccrm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_deliveries_are_counted_by_channel_and_the_state_they_end_in(gateway):
    user = UserFactory()
    NotificationPreference.objects.create(user=user, phone="+48600100200", telegram_chat_id="4242")
    [nid] = services.notify(
        user_ids=[user.pk],
        spec=services.NotificationSpec(kind="t", title="Awaria", body="Jedziemy", channels=["sms", "telegram"]),
    )
    gateway.status = 503
    sms = Delivery.objects.get(notification_id=nid, channel="sms")
    assert services.delivery_attempt(delivery_id=sms.pk) == "failed"
    gateway.status = 200
    for d in Delivery.objects.filter(notification_id=nid):
        services.delivery_attempt(delivery_id=d.pk)
    assert metrics.counters_read()["hvaccrm_deliveries"] == {
        '["sms","failed"]': 1.0, '["sms","sent"]': 1.0, '["telegram","sent"]': 1.0}


def test_each_classification_is_counted_by_its_urgency():
    classify("Czuję gaz w kuchni, syczy przy kotle")
    classify("Proszę o przegląd klimatyzacji w przyszłym miesiącu")
    counted = metrics.counters_read()["hvaccrm_classifier_decisions"]
    assert counted['["emergency"]'] == 1 and sum(counted.values()) == 2
