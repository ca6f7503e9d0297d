from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from hvaccrm.asgi import application
from hvaccrm.realtime.tickets import ticket_issue
from mapping.models import LocationPing

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def _connect(user):
    ticket = await sync_to_async(ticket_issue)(user_id=user.pk)
    comm = WebsocketCommunicator(application, f"/ws/?ticket={ticket}", headers=[ORIGIN])
    connected, _ = await comm.connect()
    assert connected
    hello = json.loads(await comm.receive_from(timeout=3))
    assert hello["type"] == "hello"
    return comm


async def _next(comm, type_: str | None = None) -> dict:
    while True:
        frame = json.loads(await comm.receive_from(timeout=3))
        if type_ is None or frame["type"] == type_:
            return frame


def _frame(seq: int, **kw) -> str:
    data = {"latitude": 52.1930, "longitude": 21.0250, "accuracy": 9, "speed": 3.5, "heading": 180,
            "device_time": (timezone.now() - timedelta(seconds=2)).isoformat(), "seq": seq}
    data.update(kw)
    return json.dumps({"type": "location.ping", "id": f"p{seq}", "data": data})


async def test_a_ping_frame_is_acked_stored_and_dispatch_sees_the_technician_move(technician_mokotow, dispatcher):
    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    office = await _connect(dispatcher)
    await device.send_to(text_data=_frame(1))
    ack = await _next(device, "ack")
    assert ack["id"] == "p1" and ack["data"]["stored"] is True
    pushed = await _next(office, "location.updated")
    assert pushed["data"]["technician"] == technician_mokotow.pk and pushed["data"]["latitude"] == 52.1930
    await device.send_to(text_data=_frame(1))  # resent after a lost ack
    assert (await _next(device, "ack"))["data"]["status"] == "duplicate"
    assert await sync_to_async(LocationPing.objects.count)() == 1
    await device.disconnect()
    await office.disconnect()


async def test_a_rejected_ping_frame_gets_an_error_with_its_reason(technician_mokotow):
    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    await device.send_to(text_data=_frame(5, accuracy=5000))
    error = await _next(device, "error")
    assert error["id"] == "p5" and error["code"] == "inaccurate" and error["errors"] == {"reason": ["inaccurate"]}
    await device.send_to(text_data=_frame(6, latitude="north"))
    assert (await _next(device, "error"))["code"] == "invalid"
    await device.disconnect()


async def test_only_technicians_may_send_pings(dispatcher):
    office = await _connect(dispatcher)
    await office.send_to(text_data=_frame(1))
    assert (await _next(office, "error"))["code"] == "forbidden"
    await office.disconnect()
