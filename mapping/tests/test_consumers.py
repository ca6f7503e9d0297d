from __future__ import annotations

import asyncio
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
    pushed = (await _next(office, "locations.updated"))["data"]["locations"]
    assert [(p["technician"], p["latitude"]) for p in pushed] == [(technician_mokotow.pk, 52.1930)]
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


async def _locations_until_quiet(office, quiet: float) -> list[list[dict]]:
    """Every locations.updated batch the office socket receives until `quiet` s pass without one."""
    batches = []
    while not await office.receive_nothing(timeout=quiet):
        frame = json.loads(await office.receive_from())
        if frame["type"] == "locations.updated":
            batches.append(frame["data"]["locations"])
    return batches


async def test_positions_of_many_technicians_reach_an_office_socket_as_one_batch_per_interval(
        dispatcher, monkeypatch):
    """8 technicians x 4 positions, all inside 1 s: the office socket gets at most one frame per
    interval (plus the first, sent at once after an idle interval), and every technician's LAST
    position is in them; the last frame a technician appears in holds its latest position."""
    from hvaccrm.tests.factories import TechnicianFactory
    from mapping import conf

    monkeypatch.setattr(conf, "GPS_PUSH_INTERVAL_S", 1.0)
    techs = await sync_to_async(lambda: [TechnicianFactory() for _ in range(8)])()
    users = await sync_to_async(lambda: [t.user for t in techs])()
    devices = [await _connect(user) for user in users]
    office = await _connect(dispatcher)
    started = asyncio.get_running_loop().time()
    for step in range(4):
        for device in devices:
            await device.send_to(text_data=_frame(step + 1, latitude=52.1930 + step * 0.0001,
                                                  device_time=(timezone.now() - timedelta(seconds=9 - step)).isoformat()))
        for device in devices:
            assert (await _next(device, "ack"))["data"]["stored"] is True
    sent_for = asyncio.get_running_loop().time() - started
    assert sent_for < 1.0, "the positions must fall inside one interval for this test to mean anything"
    batches = await _locations_until_quiet(office, quiet=1.5)
    assert 1 <= len(batches) <= 2, [len(b) for b in batches]
    latest = {}
    for batch in batches:
        assert len({p["technician"] for p in batch}) == len(batch)  # one entry per technician per batch
        latest.update({p["technician"]: p["latitude"] for p in batch})
    assert latest == {t.pk: 52.1933 for t in techs}
    for comm in [*devices, office]:
        await comm.disconnect()


async def test_private_mode_reaches_the_office_at_once_and_no_older_position_follows(technician_mokotow, dispatcher,
                                                                                      monkeypatch):
    from mapping import conf
    from mapping.services import technician_private_mode_set

    monkeypatch.setattr(conf, "GPS_PUSH_INTERVAL_S", 2.0)
    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    office = await _connect(dispatcher)
    await device.send_to(text_data=_frame(1))
    await _next(device, "ack")
    assert (await _next(office, "locations.updated"))["data"]["locations"][0]["latitude"] == 52.1930
    await device.send_to(text_data=_frame(2, latitude=52.1935))  # held: the last batch left < 2 s ago
    await _next(device, "ack")
    started = asyncio.get_running_loop().time()
    await sync_to_async(technician_private_mode_set)(technician=technician_mokotow, private=True)
    pushed = (await _next(office, "locations.updated"))["data"]["locations"]
    assert asyncio.get_running_loop().time() - started < 1.0
    assert pushed == [{"technician": technician_mokotow.pk, "private": True, "received": pushed[0]["received"]}]
    assert await _locations_until_quiet(office, quiet=2.5) == []  # the held position was replaced
    await device.disconnect()
    await office.disconnect()


# A socket keeps its technician row between positions (the snapshot the write checks against):
# what changes the row while the socket is open must still decide the next position.


async def test_private_mode_switched_on_while_the_socket_is_open_stores_no_further_position(technician_mokotow):
    from mapping.services import technician_private_mode_set

    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    await device.send_to(text_data=_frame(1))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    await sync_to_async(technician_private_mode_set)(technician=technician_mokotow, private=True)
    await device.send_to(text_data=_frame(2, latitude=52.1931))
    assert (await _next(device, "ack"))["data"] == {"stored": False, "status": "private", "ping": None}
    await sync_to_async(technician_private_mode_set)(technician=technician_mokotow, private=False)
    await device.send_to(text_data=_frame(3, latitude=52.1932))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    assert await sync_to_async(lambda: sorted(LocationPing.objects.values_list("seq", flat=True)))() == [1, 3]
    await device.disconnect()


async def test_a_shift_ended_or_moved_while_the_socket_is_open_stores_no_further_position(technician_mokotow):
    from datetime import time as day_time

    from hvaccrm.models import Technician
    from mapping.services import technician_shift_set

    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    await device.send_to(text_data=_frame(1))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    await sync_to_async(technician_shift_set)(technician=technician_mokotow, on_shift=False)
    await device.send_to(text_data=_frame(2))
    assert (await _next(device, "ack"))["data"]["status"] == "off_shift"
    await sync_to_async(technician_shift_set)(technician=technician_mokotow, on_shift=True)
    # The office moves the shift's hours to a window that excludes now (an admin edit, no push).
    hour = timezone.localtime().hour
    start, end = (day_time(hour - 2), day_time(hour - 1)) if hour >= 3 else (day_time(hour + 2), day_time(hour + 3))
    await sync_to_async(Technician.objects.filter(pk=technician_mokotow.pk).update)(shift_start=start, shift_end=end)
    await device.send_to(text_data=_frame(3))
    assert (await _next(device, "ack"))["data"]["status"] == "off_shift"
    assert await sync_to_async(lambda: list(LocationPing.objects.values_list("seq", flat=True)))() == [1]
    await device.disconnect()


async def test_a_jump_is_judged_against_the_last_position_another_connection_stored(technician_mokotow):
    """The socket's own last position is not the row's when a position came another way (the POST
    of positions queued offline, a second socket): each check uses the row's."""
    from hvaccrm.models import Technician
    from mapping.services import location_ping_ingest

    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    now = timezone.now()
    await device.send_to(text_data=_frame(1, device_time=(now - timedelta(seconds=300)).isoformat()))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    # 5.5 km north, stored through the service as the POST does (its own read of the row).
    await sync_to_async(location_ping_ingest)(
        technician=await sync_to_async(Technician.objects.get)(pk=technician_mokotow.pk), latitude=52.2430,
        longitude=21.0250, accuracy=9, device_time=now - timedelta(seconds=10), seq=2)
    # Near the socket's own last fix but 5.5 km from the row's, 8 s later: a jump.
    await device.send_to(text_data=_frame(3, latitude=52.1931, device_time=(now - timedelta(seconds=2)).isoformat()))
    error = await _next(device, "error")
    assert error["id"] == "p3" and error["code"] == "implausible_jump"
    # Near the row's last fix: stored, although 5.5 km from the socket's own last one.
    await device.send_to(text_data=_frame(4, latitude=52.2431, device_time=(now - timedelta(seconds=1)).isoformat()))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    assert await sync_to_async(lambda: sorted(LocationPing.objects.values_list("seq", flat=True)))() == [1, 2, 4]
    await device.disconnect()


async def test_a_frame_the_fast_reading_does_not_take_is_judged_by_the_serializer(technician_mokotow):
    tech_user = await sync_to_async(lambda: technician_mokotow.user)()
    device = await _connect(tech_user)
    frame = json.loads(_frame(1, latitude="52.1930"))
    frame["data"]["seq"] = 1.0  # a numeric string and 1.0: what the serializer accepts
    await device.send_to(text_data=json.dumps(frame))
    assert (await _next(device, "ack"))["data"]["status"] == "stored"
    await device.send_to(text_data=_frame(2, device_time="yesterday"))
    error = await _next(device, "error")
    assert error["code"] == "invalid" and "device_time" in error["errors"]
    frame = json.loads(_frame(3))
    frame["data"]["seq"] = -1
    await device.send_to(text_data=json.dumps(frame))
    assert "seq" in (await _next(device, "error"))["errors"]
    await device.disconnect()
