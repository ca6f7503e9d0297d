"""In-app delivery states that mean what they say: sent = pushed to an open socket of the recipient,
delivered = the page's receipt, read = read; undelivered ones are counted and shown again."""

from __future__ import annotations

import copy

import pytest
from asgiref.sync import sync_to_async

from communications import services
from communications.models import Delivery
from hvaccrm.realtime import presence
from hvaccrm.tests.factories import UserFactory
from hvaccrm.tests.realtime_helpers import connect, receive_json, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def _notify(user) -> int:
    spec = services.NotificationSpec(kind="t", title="Nowe zlecenie", body="x", channels=["in_app"])
    return services.notify(user_ids=[user.pk], spec=spec)[0]


def _in_app(nid: int) -> Delivery:
    return Delivery.objects.get(notification_id=nid, channel="in_app")


async def test_an_in_app_notification_is_sent_when_pushed_to_an_open_socket_and_delivered_on_the_receipt():
    user = await sync_to_async(UserFactory)()
    comm = await connect(user)
    await receive_json(comm)
    nid = await sync_to_async(_notify)(user)
    assert (await receive_until(comm, "notification.created"))["id"] == nid
    delivery = await sync_to_async(_in_app)(nid)
    assert delivery.state == "sent" and delivery.sent_at is not None
    await comm.send_json_to({"type": "notification.received", "id": "r", "data": {"notifications": [nid]}})
    assert (await receive_until(comm, "ack"))["data"] == {"delivered": 1}
    assert (await sync_to_async(_in_app)(nid)).state == "delivered"
    await sync_to_async(services.notification_read)(user=user, notification_id=nid)
    assert (await sync_to_async(_in_app)(nid)).state == "read"
    await comm.disconnect()


def test_without_an_open_socket_the_in_app_delivery_stays_pending_and_is_counted():
    user = UserFactory()
    before = services.deliveries_in_app_undelivered()
    nid = _notify(user)
    delivery = _in_app(nid)
    assert delivery.state == "pending" and delivery.last_error == "no open socket"
    assert services.deliveries_in_app_undelivered() == before + 1


def test_a_push_the_channel_layer_refuses_leaves_the_delivery_pending_with_the_reason(settings):
    user = UserFactory()
    presence_claim(user)
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"] = ["redis://127.0.0.1:1/0"]  # nothing listens there
    settings.CHANNEL_LAYERS = layers
    nid = _notify(user)
    delivery = _in_app(nid)
    assert delivery.state == "pending" and delivery.last_error == "push not accepted by the channel layer"


def test_someone_elses_receipt_changes_nothing():
    anna, bartek = UserFactory(), UserFactory()
    nid = _notify(anna)
    assert services.deliveries_in_app_received(user=bartek, notification_ids=[nid]) == 0
    assert _in_app(nid).state == "pending"


def presence_claim(user) -> None:
    from asgiref.sync import async_to_sync

    async_to_sync(presence.socket_claim)(user_id=user.pk, channel="elsewhere!1", limit=10)
