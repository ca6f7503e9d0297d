"""Issue 18: the SMS wake-up. An emergency alert reaches an on-shift technician's phone by SMS too
(the app in the background misses the socket's alert), unless the technician switched it off or no
SMS gateway is configured."""

from __future__ import annotations

import pytest

from communications import services
from communications.models import Delivery, EmergencyAlert, Notification
from communications.tests.factories import ConversationFactory
from hvaccrm.models import IntegrationLog
from hvaccrm.services.outbox import outbox_process
from hvaccrm.tests.factories import TechnicianFactory, district

pytestmark = pytest.mark.django_db


def _alert(client_anna) -> EmergencyAlert:
    conversation = ConversationFactory(client=client_anna)
    message = services.message_send(author=client_anna.users.get(), conversation_id=conversation.pk,
                                     body="Czuć gaz w kuchni przy kotle!")
    outbox_process(log_id=IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk)).pk)
    return EmergencyAlert.objects.get(message=message)


def _sms_of(alert: EmergencyAlert, technician) -> list[Delivery]:
    note = Notification.objects.get(recipient=technician.user, related_id=str(alert.pk))
    return list(Delivery.objects.filter(notification=note, channel="sms"))


def test_an_emergency_alert_wakes_a_technician_by_sms_unless_they_switched_it_off(
        client_anna, gateway, delivery_handler):
    on = TechnicianFactory(home_district=district("mokotow"), on_shift=True, phone="+48 601 200 300")
    off = TechnicianFactory(home_district=district("mokotow"), on_shift=True, phone="+48 601 200 301")
    services.emergency_sms_set(user=off.user, on=False)

    alert = _alert(client_anna)

    [sms] = _sms_of(alert, on)
    assert sms.address == "+48 601 200 300"
    assert _sms_of(alert, off) == []
    # The loopback gateway takes the wake-up text when its outbox row runs.
    outbox_process(log_id=IntegrationLog.objects.get(kind=services.DELIVERY_KIND, object_id=str(sms.pk)).pk)
    sms.refresh_from_db()
    assert sms.state == "sent"
    assert [r["body"]["to"] for r in gateway.accepted() if r["path"] == "/sms"] == ["+48 601 200 300"]


def test_without_an_sms_gateway_an_emergency_alert_makes_no_sms_delivery(client_anna, monkeypatch):
    from communications import conf

    monkeypatch.setattr(conf, "SMS_GATEWAY_URL", "")
    tech = TechnicianFactory(home_district=district("mokotow"), on_shift=True, phone="+48 601 200 300")
    assert _sms_of(_alert(client_anna), tech) == []
