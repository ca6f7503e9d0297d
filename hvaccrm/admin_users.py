"""The admin's user page writes rights through the user services (hvaccrm/services/users.py), so a
deactivation, a new role or a lost superuser flag reaches the user's open sockets (they re-check
their groups, or close with 4401) instead of waiting for the page to be closed."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from hvaccrm.services import user_active_set, user_groups_set, user_superuser_set

User = get_user_model()


class ServiceUserAdmin(UserAdmin):
    """Django's user admin, with is_active, is_superuser and groups saved by their services. A new
    user has no socket yet: adding one is left to Django's own form."""

    # field -> service taking (user, value, actor); the raw save keeps the old value for these.
    flag_services = {
        "is_active": lambda *, user, value, actor: user_active_set(user=user, active=value, actor=actor),
        "is_superuser": lambda *, user, value, actor: user_superuser_set(user=user, superuser=value, actor=actor),
    }

    def save_model(self, request, obj, form, change):
        flags = {f: getattr(obj, f) for f in self.flag_services if change and f in form.changed_data}
        for field in flags:
            setattr(obj, field, form.initial[field])  # the service changes it (and tells the sockets)
        super().save_model(request, obj, form, change)
        for field, value in flags.items():
            self.flag_services[field](user=obj, value=value, actor=request.user)

    def save_related(self, request, form, formsets, change):
        groups = None
        if change and "groups" in form.changed_data:
            groups = form.cleaned_data.pop("groups")  # save_m2m skips what cleaned_data lacks
        super().save_related(request, form, formsets, change)
        if groups is not None:
            user_groups_set(user=form.instance, groups=groups, actor=request.user)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ServiceUserAdmin)
