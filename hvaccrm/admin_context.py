"""The admin's context for the office pages drawn in the admin's look (the day board, the dispatch
map, the inbox), with its menu remembered per process (issue 21).

`admin.site.each_context` builds the sidebar's app list on every request: a `reverse()` per model
and four permission checks per model admin, ~40 of them, plus the two permission queries it makes
when nothing else asked first. On the day board, which every open office page reloads on each
job.updated / route.updated push, that was ~10 of its ~39 ms of CPU. The list depends only on the
user's permissions and roles (groups; the consistency checks' admin asks for roles), flags, second
factor and language, so it is kept under exactly those: a grant, a revoked role or another
language makes a new key, and the menu never shows what the user may not open (each view checks
its own permission regardless).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import get_language

_MENUS: dict[tuple, list[dict[str, Any]]] = {}
_MENUS_MAX = 256  # keys are per user and permission set: a handful per office user


class _SiteWithMenu:
    """The admin site, but with the app list given (each_context reads it through self)."""

    def __init__(self, site, apps: list[dict[str, Any]]) -> None:
        self._site, self._apps = site, apps

    def __getattr__(self, name: str):
        return getattr(self._site, name)

    def get_app_list(self, request, app_label=None) -> list[dict[str, Any]]:
        return self._apps


def _menu_key(request) -> tuple:
    user = request.user
    verified = getattr(user, "is_verified", None)  # django-otp: the admin may depend on the second factor
    return (
        user.pk,
        user.is_active,
        user.is_staff,
        user.is_superuser,
        get_language(),
        frozenset(user.get_all_permissions()),  # the queries the app list would make, cached on the user
        frozenset(user.groups.values_list("name", flat=True)),
        verified() if callable(verified) else None,
    )


def admin_page_context(request) -> dict[str, Any]:
    """`admin.site.each_context(request)`, with the app list remembered under `_menu_key`."""
    site = admin.site
    key = _menu_key(request)
    apps = _MENUS.get(key)
    if apps is None:
        apps = site.get_app_list(request)
        if len(_MENUS) >= _MENUS_MAX:
            _MENUS.clear()  # rare (every office user's every permission set): start again
        _MENUS[key] = apps
    # The site's own each_context (its class: OTPAdminSite when a second factor is required; a lazy
    # admin.site reports its wrapped site's class), reading the remembered list.
    return site.__class__.each_context(_SiteWithMenu(site, apps), request)
