"""The socket matrix: every persona, on a socket of the real ASGI application and Redis channel layer,
asks to join every group family (user, client, conversation, technician, district, dispatch,
managers, inbox) of every persona: its own are allowed, every other is refused. And a ticket works
once, for its own user, within its lifetime.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps

from hvaccrm.realtime import groups as g
from hvaccrm.realtime.consumer import CLOSE_UNAUTHENTICATED
from hvaccrm.realtime.tickets import ticket_issue
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, district
from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

STAFF = ("dispatcher", "manager")


@pytest.fixture
def cast(client_anna, client_bartek, technician_mokotow, dispatcher, manager):
    """The personas and the groups each of them owns; Anna's conversation is about a job of Mokotów's."""
    wola = TechnicianFactory(home_district=district("wola"))
    conversation = apps.get_model("communications", "Conversation")
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna, technician=technician_mokotow)
    anna_conv = conversation.objects.create(client=client_anna, subject="a", channel="portal", job=job)
    bartek_conv = conversation.objects.create(client=client_bartek, subject="b", channel="portal")
    users = {"client Anna": client_anna.users.get(), "client Bartek": client_bartek.users.get(),
             "technician Mokotow": technician_mokotow.user, "technician Wola": wola.user,
             "dispatcher": dispatcher, "manager": manager}
    technician_groups = {g.technician_group(technician_mokotow.pk), g.technician_group(wola.pk),
                         g.district_group("mokotow"), g.district_group("wola")}
    conversation_groups = {g.conversation_group(anna_conv.pk), g.conversation_group(bartek_conv.pk)}
    office = technician_groups | conversation_groups | {g.dispatch_group(), g.inbox_group()}
    own = {
        "client Anna": {g.client_group(client_anna.pk), g.conversation_group(anna_conv.pk)},
        "client Bartek": {g.client_group(client_bartek.pk), g.conversation_group(bartek_conv.pk)},
        "technician Mokotow": {g.technician_group(technician_mokotow.pk), g.district_group("mokotow"),
                               g.conversation_group(anna_conv.pk)},  # about a job of his
        "technician Wola": {g.technician_group(wola.pk), g.district_group("wola")},
        "dispatcher": office,
        "manager": office | {g.managers_group()},
    }
    for name, user in users.items():
        own[name] |= {g.user_group(user.pk)}
    every = set().union(*own.values()) | {g.managers_group(), g.client_group(client_anna.pk),
                                          g.client_group(client_bartek.pk)}
    # Names a hostile client might try: none belongs to anybody.
    hostile = {"client.x", "client.", f"user.{users['client Anna'].pk}.x", "district.mokotow", "conversation.999999",
               "technician.-1", "dispatch.x", "*", "user.*"}
    return {"users": users, "own": own, "every": every, "hostile": hostile}


async def test_every_persona_joins_its_own_groups_and_no_other(cast):
    wrong, asked = [], 0
    started = time.monotonic()
    for name, user in cast["users"].items():
        comm = await connect(user)
        await receive_until(comm, "hello")
        for i, group in enumerate(sorted(cast["every"] | cast["hostile"])):
            await comm.send_json_to({"type": "subscribe", "id": str(i), "data": {"group": group}})
            frame = await receive_json(comm)
            while frame.get("id") != str(i):  # heartbeats, pushes
                frame = await receive_json(comm)
            asked += 1
            joined = frame["type"] == "ack"
            if joined != (group in cast["own"][name]):
                wrong.append((name, group, frame["type"]))
        await comm.disconnect()
    print(f"\nsocket matrix: {len(cast['users'])} personas x {len(cast['every'] | cast['hostile'])} groups = "
          f"{asked} subscribe frames in {time.monotonic() - started:.1f} s, {len(wrong)} wrong answers")
    assert not wrong, wrong


async def test_a_ticket_is_refused_when_replayed(anna_user):
    ticket = await sync_to_async(ticket_issue)(user_id=anna_user.pk)
    first = await connect(ticket=ticket)
    assert (await receive_until(first, "hello"))["data"]["user"] == anna_user.pk
    again = await connect(ticket=ticket)
    assert await close_code(again) == CLOSE_UNAUTHENTICATED
    await first.disconnect()


async def test_a_ticket_is_refused_once_expired(anna_user, settings):
    settings.WS_TICKET_TTL = 1
    ticket = await sync_to_async(ticket_issue)(user_id=anna_user.pk)
    await asyncio.sleep(2.1)
    comm = await connect(ticket=ticket)
    assert await close_code(comm) == CLOSE_UNAUTHENTICATED


async def test_a_forged_ticket_is_refused(anna_user):
    ticket = await sync_to_async(ticket_issue)(user_id=anna_user.pk)
    comm = await connect(ticket=ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"))
    assert await close_code(comm) == CLOSE_UNAUTHENTICATED


async def test_another_users_ticket_gives_that_users_rights_never_the_session_users(anna_user, bartek_user,
                                                                                 client_anna):
    """A socket carrying Anna's session but Bartek's ticket is Bartek's: it cannot reach Anna's groups."""
    ticket = await sync_to_async(ticket_issue)(user_id=bartek_user.pk)
    comm = await connect(ticket=ticket, scope_user=anna_user)
    hello = await receive_until(comm, "hello")
    assert hello["data"]["user"] == bartek_user.pk
    assert g.client_group(client_anna.pk) not in hello["data"]["groups"]
    await comm.send_json_to({"type": "subscribe", "id": "1", "data": {"group": g.client_group(client_anna.pk)}})
    assert (await receive_until(comm, "error"))["code"] == "forbidden"
    await comm.disconnect()
