"""Rights are re-checked while a socket is open: a revoked right takes the socket out of the group."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from hvaccrm import services
from hvaccrm.realtime import events, groups
from hvaccrm.tests.realtime_helpers import close_code, connect, frames_within, receive_json, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def _push(group: str, row_id: int) -> None:
    await sync_to_async(events.send_now)([group], events.make_event("job.updated", row_id=row_id, data={}))


async def _hears_nothing_of(comm, group: str) -> None:
    await _push(group, 999)
    assert [f for f in await frames_within(comm, 1) if f["type"] == "job.updated"] == []


async def test_a_user_removed_from_a_client_leaves_the_clients_group_while_connected(anna_user, client_anna):
    comm = await connect(anna_user)
    hello = await receive_json(comm)
    group = groups.client_group(client_anna.pk)
    assert group in hello["data"]["groups"]
    await sync_to_async(services.client_user_remove)(client=client_anna, user=anna_user)
    changed = await receive_until(comm, "rights.changed")
    assert changed["data"]["removed"] == [group]
    await _hears_nothing_of(comm, group)
    await comm.disconnect()


async def test_a_dispatcher_whose_role_becomes_client_leaves_dispatch_and_the_inbox(dispatcher):
    comm = await connect(dispatcher)
    hello = await receive_json(comm)
    assert {"dispatch", "inbox"} <= set(hello["data"]["groups"])
    await sync_to_async(services.user_role_set)(user=dispatcher, role="client")
    changed = await receive_until(comm, "rights.changed")
    assert set(changed["data"]["removed"]) == {"dispatch", "inbox"}
    await _hears_nothing_of(comm, groups.dispatch_group())
    await comm.disconnect()


async def test_a_promoted_user_joins_the_groups_of_the_new_role_without_reconnecting(dispatcher):
    comm = await connect(dispatcher)
    await receive_json(comm)
    await sync_to_async(services.user_role_set)(user=dispatcher, role="manager")
    changed = await receive_until(comm, "rights.changed")
    assert "managers" in changed["data"]["groups"] and changed["data"]["removed"] == []
    await _push(groups.managers_group(), 7)
    assert (await receive_until(comm, "job.updated"))["id"] == 7
    await comm.disconnect()


async def test_a_deactivated_users_sockets_are_closed_with_4401(anna_user):
    first, second = await connect(anna_user), await connect(anna_user)
    await receive_json(first)
    await receive_json(second)
    await sync_to_async(services.user_active_set)(user=anna_user, active=False)
    assert await close_code(first) == 4401
    assert await close_code(second) == 4401


async def test_a_rights_check_that_changes_nothing_keeps_every_group(technician_mokotow):
    user = await sync_to_async(lambda: technician_mokotow.user)()
    comm = await connect(user)
    hello = await receive_json(comm)
    await sync_to_async(services.user_role_set)(user=user, role="technician")
    changed = await receive_until(comm, "rights.changed")
    assert changed["data"]["removed"] == [] and set(changed["data"]["groups"]) == set(hello["data"]["groups"])
    await comm.disconnect()
