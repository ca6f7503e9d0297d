"""An erased client's logins are deactivated, and their open sockets are told: they close (4401)
instead of hearing the client's visits and messages until the tab is closed."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json
from portal import services

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_erased_clients_open_sockets_are_closed_with_4401(client_anna, anna_user, administrator):
    first, second = await connect(anna_user), await connect(anna_user)
    await receive_json(first)
    await receive_json(second)
    await sync_to_async(services.client_erase)(client_id=client_anna.pk, actor=administrator)
    assert await close_code(first) == 4401
    assert await close_code(second) == 4401


async def test_erasing_one_client_leaves_another_clients_socket_open(client_anna, client_bartek, bartek_user,
                                                                     administrator):
    comm = await connect(bartek_user)
    await receive_json(comm)
    await sync_to_async(services.client_erase)(client_id=client_anna.pk, actor=administrator)
    frames = []
    while not await comm.receive_nothing(timeout=1):
        frames.append(await receive_json(comm))
    assert not [f for f in frames if f.get("type") == "rights.changed"]
    await comm.disconnect()
