"""The office pages' admin menu is remembered per process (hvaccrm/admin_context.py) but is always the
admin's own for the user as they are now: a new permission or role shows at the next request."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory

from hvaccrm.admin_context import admin_page_context

pytestmark = pytest.mark.django_db


def _menu(apps) -> list:
    return [
        (
            a["app_label"],
            str(a["name"]),
            [(m["object_name"], str(m["name"]), m["perms"], m["admin_url"], m["add_url"]) for m in a["models"]],
        )
        for a in apps
    ]


def test_the_remembered_menu_is_the_admins_own(dispatcher, manager):
    for user in (dispatcher, manager, dispatcher):  # the third one is served from memory
        request = RequestFactory().get("/mapping/board/")
        request.user = user
        expected = admin.site.each_context(request)
        got = admin_page_context(request)
        assert _menu(got.pop("available_apps")) == _menu(expected.pop("available_apps"))
        assert {k: v for k, v in got.items() if k != "log_entries"} == {
            k: v for k, v in expected.items() if k != "log_entries"
        }


def test_a_new_permission_or_role_shows_in_the_menu_at_the_next_request(django_user_model):
    user = django_user_model.objects.create_user(username="inbox-only", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    http = Client()
    http.force_login(user)
    page = http.get("/communications/inbox/").content.decode()
    assert "/admin/communications/conversation/" in page and "/admin/hvaccrm/district/" not in page
    assert "/admin/audit/consistencycheck/" not in page

    user.user_permissions.add(Permission.objects.get(codename="view_district"))
    assert "/admin/hvaccrm/district/" in http.get("/communications/inbox/").content.decode()

    user.user_permissions.remove(Permission.objects.get(codename="view_district"))
    assert "/admin/hvaccrm/district/" not in http.get("/communications/inbox/").content.decode()

    user.groups.add(Group.objects.get_or_create(name="manager")[0])  # the consistency checks are shown by role
    assert "/admin/audit/consistencycheck/" in http.get("/communications/inbox/").content.decode()
