"""Socket frames of communications over the real ASGI app and the real Redis channel layer."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from communications import services
from communications.models import Delivery, MessageRead
from communications.tests.factories import ConversationFactory
from hvaccrm.asgi import application
from hvaccrm.realtime.tickets import ticket_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _no_outbox_publish(settings):
    # The integration handlers are not what these tests exercise; the outbox rows stay pending.
    settings.OUTBOX_PUBLISH_ON_COMMIT = False


async def _connect(user):
    ticket = await sync_to_async(ticket_issue)(user_id=user.pk)
    comm = WebsocketCommunicator(application, f"/ws/?ticket={ticket}", headers=[ORIGIN])
    connected, _ = await comm.connect()
    assert connected
    hello = await _json(comm)
    assert hello["type"] == "hello"
    return comm


async def _json(comm) -> dict:
    return json.loads(await comm.receive_from(timeout=5))


async def _until(comm, predicate) -> dict:
    for _ in range(20):
        frame = await _json(comm)
        if predicate(frame):
            return frame
    raise AssertionError("frame not received")


async def _frame(comm, type_: str, data, frame_id="1") -> dict:
    await comm.send_to(text_data=json.dumps({"type": type_, "id": frame_id, "data": data}))
    return await _until(comm, lambda f: f.get("id") == frame_id and f["type"] in ("ack", "error"))


@pytest.fixture
def anna_conversation(client_anna):
    return ConversationFactory(client=client_anna, subject="Klimatyzacja")


async def test_a_client_sends_a_message_and_the_conversation_and_the_office_inbox_receive_it(
        anna_user, dispatcher, anna_conversation):
    office = await _connect(dispatcher)
    anna = await _connect(anna_user)
    ack = await _frame(anna, "subscribe", {"group": f"conversation.{anna_conversation.pk}"}, "s1")
    assert ack["type"] == "ack"
    ack = await _frame(anna, "message.send", {"conversation": anna_conversation.pk, "body": "Klima nie chłodzi"})
    assert ack["type"] == "ack" and ack["data"]["urgency"] == "high"
    mine = await _until(anna, lambda f: f["type"] == "message.created")
    inbox = await _until(office, lambda f: f["type"] == "message.created")
    assert mine["id"] == inbox["id"] == ack["data"]["message"]
    assert inbox["data"]["body"] == "Klima nie chłodzi" and inbox["stream"] == "messages"
    await anna.disconnect()
    await office.disconnect()


async def test_the_office_replies_and_the_client_sees_it_live(anna_user, dispatcher, anna_conversation):
    anna = await _connect(anna_user)
    await _frame(anna, "subscribe", {"group": f"conversation.{anna_conversation.pk}"}, "s1")
    office = await _connect(dispatcher)
    ack = await _frame(office, "message.send", {"conversation": anna_conversation.pk, "body": "Technik jedzie"})
    assert ack["type"] == "ack"
    pushed = await _until(anna, lambda f: f["type"] == "message.created")
    assert pushed["data"]["author_role"] == "staff"
    await anna.disconnect()
    await office.disconnect()


async def test_reading_a_message_records_the_read_state(anna_user, dispatcher, anna_conversation):
    message = await sync_to_async(services.message_send)(author=dispatcher, conversation_id=anna_conversation.pk,
                                                         body="Dzień dobry")
    anna = await _connect(anna_user)
    ack = await _frame(anna, "message.read", {"message": message.pk})
    assert ack["type"] == "ack" and ack["data"]["message"] == message.pk
    assert await sync_to_async(MessageRead.objects.filter(message=message, user=anna_user).exists)()
    await anna.disconnect()


async def test_acknowledging_a_notification_marks_its_in_app_delivery_delivered(technician_mokotow):
    user = await sync_to_async(lambda: technician_mokotow.user)()
    tech = await _connect(user)
    spec = services.NotificationSpec(kind="t", title="Nowe zlecenie", body="x", channels=["in_app"])
    [nid] = await sync_to_async(services.notify)(user_ids=[user.pk], spec=spec)
    pushed = await _until(tech, lambda f: f["type"] == "notification.created")
    assert pushed["id"] == nid
    ack = await _frame(tech, "notification.ack", {"notification": nid})
    assert ack["type"] == "ack"
    state = await sync_to_async(lambda: Delivery.objects.get(notification_id=nid).state)()
    assert state == "delivered"
    await tech.disconnect()


async def test_an_emergency_alert_reaches_the_technician_who_acknowledges_then_accepts_it(technician_mokotow, dispatcher):
    user = await sync_to_async(lambda: technician_mokotow.user)()
    tech = await _connect(user)
    office = await _connect(dispatcher)
    result = await sync_to_async(services.emergency_dispatch)(message_id=None, job_id=None, district_slug="mokotow",
                                                              text="Czuć gaz", dedupe_key="ws-1")
    alert = await _until(tech, lambda f: f["type"] == "emergency.alert")
    assert alert["id"] == result["alert"] and alert["data"]["rank"] == 1
    await _until(office, lambda f: f["type"] == "emergency.alert")
    ack = await _frame(tech, "notification.ack", {"notification": alert["data"]["notification"]})
    assert ack["type"] == "ack"
    seen = await _until(office, lambda f: f["type"] == "emergency.alert" and f["data"].get("acknowledged_by"))
    assert seen["data"]["state"] == "open"  # a read takes no job: the chain waits for an accept
    taken = await _frame(tech, "alert.accept", {"alert": result["alert"]})
    assert taken["type"] == "ack" and taken["data"]["state"] == "accepted"
    seen = await _until(office, lambda f: f["type"] == "emergency.alert" and f["data"].get("accepted_by"))
    assert seen["data"]["chain"]["steps"][0]["responses"][0]["state"] == "accepted"
    again = await _frame(tech, "alert.accept", {"alert": result["alert"]}, frame_id="2")
    assert again["type"] == "error" and again["code"] == "already_taken"
    await tech.disconnect()
    await office.disconnect()


async def test_a_client_may_not_join_or_write_to_another_clients_conversation(bartek_user, anna_conversation):
    bartek = await _connect(bartek_user)
    refused = await _frame(bartek, "subscribe", {"group": f"conversation.{anna_conversation.pk}"}, "s1")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    refused = await _frame(bartek, "message.send", {"conversation": anna_conversation.pk, "body": "hej"})
    assert refused["type"] == "error" and refused["code"] == "not_found"
    refused = await _frame(bartek, "subscribe", {"group": "conversation.notanumber"}, "s2")
    assert refused["code"] == "forbidden"
    await bartek.disconnect()


async def test_bad_frames_are_answered_with_field_errors(anna_user, anna_conversation):
    anna = await _connect(anna_user)
    bad = await _frame(anna, "message.send", {"conversation": anna_conversation.pk}, "b1")
    assert bad["type"] == "error" and bad["code"] == "invalid" and "body" in bad["errors"]
    bad = await _frame(anna, "message.send", {"conversation": "abc", "body": "x"}, "b2")
    assert bad["code"] == "invalid" and "conversation" in bad["errors"]
    bad = await _frame(anna, "message.send", {"conversation": anna_conversation.pk, "body": "x" * 6000}, "b3")
    assert bad["code"] in ("invalid", "too_large")
    bad = await _frame(anna, "message.read", {"message": -1}, "b4")
    assert bad["code"] == "invalid"
    bad = await _frame(anna, "notification.ack", {"notification": 999999}, "b5")
    assert bad["code"] == "not_found"
    await anna.disconnect()
