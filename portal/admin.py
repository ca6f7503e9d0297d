"""Office side of the portal: invite clients (an action on Client), execute erasure requests."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import Client
from portal import services
from portal.models import Booking, ErasureRequest, LoginLink


@admin.action(description=_("Invite to the client portal (e-mail a sign-in link)"), permissions=["change"])
def invite_to_portal(modeladmin, request, queryset):
    sent = 0
    for client in queryset:
        try:
            services.client_invite(client=client, actor=request.user)
            sent += 1
        except ServiceError as err:
            modeladmin.message_user(request, f"{client}: {err.message}", messages.WARNING)
    if sent:
        modeladmin.message_user(request, _("Invitations sent: %(n)d.") % {"n": sent}, messages.SUCCESS)


# The core registers ClientAdmin; the portal adds its action to it (the admin is imported after
# the core's, in INSTALLED_APPS order).
_client_admin = admin.site._registry.get(Client)
if _client_admin is not None and invite_to_portal not in (_client_admin.actions or []):
    _client_admin.actions = [*(_client_admin.actions or []), invite_to_portal]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "client_id", "state", "requested_at", "executed_at", "executed_by"]
    list_filter = ["state"]
    list_select_related = ["executed_by"]
    readonly_fields = ["client_id", "state", "reason", "requested_at", "executed_at", "executed_by", "summary"]
    actions = ["execute"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Execute: anonymise the client everywhere"), permissions=["change"])
    def execute(self, request, queryset):
        done = 0
        for req in queryset.filter(state=ErasureRequest.State.REQUESTED):
            try:
                services.erasure_execute(request_id=req.pk, actor=request.user)
                done += 1
            except ServiceError as err:
                self.message_user(request, f"{req}: {err.message}", messages.ERROR)
        self.message_user(request, _("Erasures executed: %(n)d.") % {"n": done}, messages.SUCCESS)


@admin.register(LoginLink)
class LoginLinkAdmin(admin.ModelAdmin):
    """Read-only: the hash is useless without the e-mailed token; staff see who was invited when."""

    list_display = ["id", "user", "purpose", "created_at", "expires_at", "used_at", "created_by"]
    list_filter = ["purpose"]
    list_select_related = ["user", "created_by"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["job", "emergency", "gas_warning", "created_at"]
    list_filter = ["emergency", "gas_warning"]
    list_select_related = ["job"]
    readonly_fields = ["job", "booked_by", "windows", "emergency", "gas_warning", "created_at"]

    def has_add_permission(self, request):
        return False
