"""The admin for the core rows: search, filters, useful columns, autocomplete, no N+1."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from hvaccrm.models import (
    AccessRecord,
    Client,
    Consent,
    District,
    Equipment,
    IntegrationLog,
    IntegrationSwitch,
    JobFeedback,
    ServiceJob,
    Site,
    Technician,
)
from hvaccrm.services import access_record, integration_switch_set, outbox_retry


class ReadOnlyAdmin(admin.ModelAdmin):
    """For trails and logs: visible to those allowed to view, never edited or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "affluence_tier", "weight", "geometry_source", "site_count"]
    list_filter = ["affluence_tier", "geometry_source"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["neighbours"]
    readonly_fields = ["slug", "geometry_source", "updated_at"]
    exclude = ["geometry"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_sites=Count("sites", distinct=True))

    @admin.display(description=_("sites"), ordering="_sites")
    def site_count(self, obj) -> int:
        return obj._sites


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ["label", "street", "postal_code", "city", "district"]
    readonly_fields = ["district"]
    show_change_link = True


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "nip", "email", "phone", "preferred_language", "site_count", "created_at"]
    list_filter = ["kind", "preferred_language", "is_synthetic"]
    search_fields = ["name", "nip", "email", "phone"]
    autocomplete_fields = ["users"]
    inlines = [SiteInline]
    readonly_fields = ["created_at", "updated_at", "anonymised_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_sites=Count("sites", distinct=True))

    @admin.display(description=_("sites"), ordering="_sites")
    def site_count(self, obj) -> int:
        return obj._sites

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a client's record reads their personal data: the access trail says who and when.
        if request.method == "GET" and str(object_id).isdigit():
            access_record(actor=request.user, action="view", object_type="hvaccrm.client", object_id=object_id,
                          subject_client_id=int(object_id), purpose="admin: client record opened", request=request)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        access_record(actor=request.user, action="change" if change else "create", obj=obj, subject_client_id=obj.pk,
                      purpose="admin: client record saved", fields=list(form.changed_data), request=request)


class EquipmentInline(admin.TabularInline):
    model = Equipment
    extra = 0
    fields = ["kind", "brand", "model", "serial_number", "refrigerant", "refrigerant_charge_kg"]
    show_change_link = True


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client", "district", "latitude", "longitude"]
    list_filter = ["district"]
    list_select_related = ["client", "district"]
    search_fields = ["street", "postal_code", "city", "client__name"]
    autocomplete_fields = ["client", "district"]
    inlines = [EquipmentInline]


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "site", "refrigerant", "refrigerant_charge_kg", "co2e", "fgas", "next_leak_check"]
    list_filter = ["kind", "refrigerant", "leak_detection_system"]
    list_select_related = ["site"]
    search_fields = ["brand", "model", "serial_number", "site__street", "site__client__name"]
    autocomplete_fields = ["site"]

    @admin.display(description=_("t CO2e"))
    def co2e(self, obj) -> str:
        return str(obj.co2e_tonnes)

    @admin.display(description=_("F-gas register"), boolean=True)
    def fgas(self, obj) -> bool:
        return obj.under_fgas_register

    @admin.display(description=_("next leak check"))
    def next_leak_check(self, obj):
        return obj.next_leak_check_due


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ["__str__", "home_district", "phone", "active", "on_shift", "private_mode", "last_position_at"]
    list_filter = ["active", "on_shift", "private_mode", "home_district"]
    list_select_related = ["user", "home_district"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "phone"]
    autocomplete_fields = ["user", "home_district"]
    readonly_fields = ["last_latitude", "last_longitude", "last_accuracy_m", "last_position_at"]


class FeedbackInline(admin.StackedInline):
    model = JobFeedback
    extra = 0
    readonly_fields = ["client", "rating", "comment", "created_at"]
    can_delete = False


@admin.register(ServiceJob)
class ServiceJobAdmin(admin.ModelAdmin):
    list_display = ["id", "service_type", "urgency", "status", "client", "district", "technician", "scheduled_start", "eta"]
    list_filter = ["status", "urgency", "service_type", "source", "district", "is_synthetic"]
    list_select_related = ["client", "district", "technician__user"]
    search_fields = ["id", "description", "client__name", "site__street"]
    autocomplete_fields = ["client", "site", "equipment", "technician", "district"]
    date_hierarchy = "created_at"
    # Status moves go through job_transition (the status machine), never a free edit.
    readonly_fields = ["status", "status_changed_at", "completed_at", "eta", "created_at", "updated_at"]
    inlines = [FeedbackInline]


@admin.register(JobFeedback)
class JobFeedbackAdmin(ReadOnlyAdmin):
    list_display = ["job", "client", "rating", "created_at"]
    list_filter = ["rating"]
    list_select_related = ["job", "client"]
    search_fields = ["comment", "client__name"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["client", "purpose", "granted", "channel", "text_version", "created_at"]
    list_filter = ["purpose", "granted", "channel"]
    list_select_related = ["client"]
    search_fields = ["client__name"]


@admin.register(IntegrationLog)
class IntegrationLogAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "target", "kind", "object_type", "object_id", "state", "attempts", "duration_ms", "created_at"]
    list_filter = ["state", "target", "source", "kind"]
    search_fields = ["object_id", "kind", "error"]
    date_hierarchy = "created_at"
    actions = ["retry"]

    @admin.action(description=_("Retry the selected entries"))
    def retry(self, request, queryset):
        if not request.user.has_perm("hvaccrm.view_integrationlog"):
            return
        count = 0
        for pk in queryset.exclude(state=IntegrationLog.State.SUCCEEDED).values_list("pk", flat=True)[:1000]:
            outbox_retry(log_id=pk)
            count += 1
        messages.success(request, _("%(n)s entries queued again.") % {"n": count})


@admin.register(IntegrationSwitch)
class IntegrationSwitchAdmin(admin.ModelAdmin):
    list_display = ["target", "enabled", "reason", "changed_by", "changed_at"]
    list_select_related = ["changed_by"]
    fields = ["target", "enabled", "reason"]
    search_fields = ["target"]

    def save_model(self, request, obj, form, change):
        # Through the service, so that switching on publishes the rows that waited.
        integration_switch_set(target=obj.target, enabled=obj.enabled, actor=request.user, reason=obj.reason)


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_id", "subject_client_id", "purpose"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_id", "purpose"]
    date_hierarchy = "created_at"

from hvaccrm import admin_maintenance  # noqa: E402,F401 -- agreements and register rows (their own module)
