"""Rights changed in the admin reach open sockets too: the user page and the client page write
through the user services, so a deactivated user's sockets close (4401) and a lost role or client
takes the socket out of its groups, as the same change made through the API does."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.urls import reverse

from hvaccrm.models import AccessRecord
from hvaccrm.realtime import groups
from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json, receive_until
from hvaccrm.tests.test_admin_write_path import _form_data

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_save(client, admin_user, url: str, **change) -> None:
    """Save the admin page at `url` as it is shown, with `change` applied (a list for a multi-select,
    None to untick a checkbox)."""
    client.force_login(admin_user)
    data = _form_data(client, url)
    for name, value in change.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    response = client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 302, getattr(response, "context_data", {}).get("errors")


def _user_page(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


async def test_a_user_deactivated_on_the_admins_user_page_has_their_sockets_closed_with_4401(
        client, administrator, anna_user):
    comm = await connect(anna_user)
    await receive_json(comm)
    await sync_to_async(_admin_save)(client, administrator, _user_page(anna_user), is_active=None)
    assert await close_code(comm) == 4401
    await sync_to_async(anna_user.refresh_from_db)()
    assert anna_user.is_active is False
    assert await sync_to_async(AccessRecord.objects.filter(object_id=str(anna_user.pk), purpose="deactivated").exists)()


async def test_a_dispatcher_whose_groups_are_changed_on_the_user_page_leaves_dispatch_while_connected(
        client, administrator, dispatcher):
    comm = await connect(dispatcher)
    hello = await receive_json(comm)
    assert groups.dispatch_group() in hello["data"]["groups"]
    client_group = await sync_to_async(lambda: Group.objects.get_or_create(name="client")[0].pk)()
    await sync_to_async(_admin_save)(client, administrator, _user_page(dispatcher), groups=[str(client_group)])
    changed = await receive_until(comm, "rights.changed")
    assert {"dispatch", "inbox"} <= set(changed["data"]["removed"])
    names = await sync_to_async(lambda: set(dispatcher.groups.values_list("name", flat=True)))()
    assert names == {"client"}
    await comm.disconnect()


async def test_a_user_page_saved_without_a_change_of_rights_sends_no_rights_check(client, administrator, dispatcher):
    comm = await connect(dispatcher)
    await receive_json(comm)
    await sync_to_async(_admin_save)(client, administrator, _user_page(dispatcher), first_name="Dorota")
    assert await comm.receive_nothing(timeout=1)
    await comm.disconnect()


async def test_a_login_removed_from_a_client_on_the_client_page_leaves_the_clients_group(
        client, administrator, client_anna, anna_user):
    comm = await connect(anna_user)
    hello = await receive_json(comm)
    group = groups.client_group(client_anna.pk)
    assert group in hello["data"]["groups"]
    page = reverse("admin:hvaccrm_client_change", args=[client_anna.pk])
    await sync_to_async(_admin_save)(client, administrator, page, users=None)
    changed = await receive_until(comm, "rights.changed")
    assert changed["data"]["removed"] == [group]
    assert not await sync_to_async(client_anna.users.exists)()
    await comm.disconnect()
