"""The admin for the core rows: search, filters, useful columns, autocomplete, no N+1."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import (
    AccessRecord,
    Client,
    Consent,
    District,
    Equipment,
    IntegrationLog,
    IntegrationSwitch,
    JobFeedback,
    Site,
    Technician,
)
from hvaccrm.services import (
    access_record,
    client_save,
    client_user_add,
    client_user_remove,
    district_weight_check,
    district_weight_set,
    equipment_delete,
    equipment_save,
    integration_switch_set,
    outbox_retry,
    site_check,
    site_delete,
    site_save,
    technician_save,
)


def form_errors_of_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """A service's refusal as the form's errors: by field where the service names one."""
    placed = False
    for name, msgs in exc.fields.items():
        if name in form.fields:
            for msg in msgs:
                form.add_error(name, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class ServiceForm(forms.ModelForm):
    """A ModelForm whose `check()` runs a service's validation in `clean()`: a refusal is a form
    error before anything is saved (save_model then calls the service, which checks again)."""

    def check(self, rule, **kwargs) -> None:
        try:
            rule(**kwargs)
        except ServiceError as exc:
            form_errors_of_service_error(self, exc)


class ServiceAdmin(admin.ModelAdmin):
    """The admin writes through the services (STYLE.md rule 1): `save_model`, `delete_model` and
    the inlines call `service_save` / `service_delete`; nothing is saved by the raw form."""

    inline_services: dict = {}  # inline model -> (save, delete) services

    def service_save(self, request, obj, form, change) -> None:
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        self.service_save(request, obj, form, change)

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.service_delete(request, obj)

    def save_formset(self, request, form, formset, change):
        if formset.model not in self.inline_services:
            # A read-only inline (feedback on a job): nothing of it may be written here.
            if formset.save(commit=False) or formset.deleted_objects:
                raise ServiceError(_("This part of the page cannot be changed here."))
            return
        save, delete = self.inline_services[formset.model]
        for obj in formset.save(commit=False):
            changed = next((f.changed_data for f in formset.forms if f.instance is obj), [])
            save(request=request, obj=obj, fields=changed)
        for obj in formset.deleted_objects:
            delete(request=request, obj=obj)


def _site_save(*, request, obj, fields) -> None:
    site_save(site=obj, actor=request.user, fields=fields)


def _site_delete(*, request, obj) -> None:
    site_delete(site=obj, actor=request.user)


def _equipment_save(*, request, obj, fields) -> None:
    equipment_save(equipment=obj, actor=request.user, fields=fields)


def _equipment_delete(*, request, obj) -> None:
    equipment_delete(equipment=obj, actor=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For trails and logs: visible to those allowed to view, never edited or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DistrictForm(ServiceForm):
    """A new weight is checked by the service (range, a reason) before anything is saved."""

    reason = forms.CharField(label=_("reason for a new weight"), required=False, max_length=200,
                             help_text=_("Required when the weight changes; it goes into the access trail."))

    class Meta:
        model = District
        fields = ["name", "affluence_tier", "weight", "neighbours"]

    def clean(self):
        data = super().clean()
        if "weight" in self.changed_data and "weight" not in self.errors:
            self.check(district_weight_check, weight=data.get("weight"), reason=data.get("reason", ""))
        return data


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    """The weight is set through district_weight_set (logged with who and why); the other fields
    are reference data without personal data and save as they are."""

    form = DistrictForm
    list_display = ["name", "slug", "affluence_tier", "weight", "geometry_source", "site_count"]
    list_filter = ["affluence_tier", "geometry_source"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["neighbours"]
    readonly_fields = ["slug", "geometry_source", "updated_at"]
    exclude = ["geometry"]

    def save_model(self, request, obj, form, change):
        if not (change and "weight" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        weight, obj.weight = obj.weight, form.initial["weight"]  # the service changes and logs it
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            district_weight_set(district=obj, weight=weight, actor=request.user, reason=form.cleaned_data["reason"])

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
class ClientAdmin(ServiceAdmin):
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

    inline_services = {Site: (_site_save, _site_delete)}

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "access_trail"] if obj is not None else self.readonly_fields

    @admin.display(description=_("who saw this client's data"))
    def access_trail(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:hvaccrm_client_access", args=[obj.pk]),
                           _("Access trail (RODO art. 15)"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.access_view)
        return [path("<int:client_id>/access/", view, name="hvaccrm_client_access"), *super().get_urls()]

    def access_view(self, request, client_id: int):
        """Who read or changed this client's data, newest first (the trail's own permission)."""
        if not request.user.has_perm("hvaccrm.view_accessrecord"):
            raise PermissionDenied
        client = get_object_or_404(Client, pk=client_id)
        rows = AccessRecord.objects.filter(subject_client_id=client.pk).order_by("-created_at", "-id")
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return TemplateResponse(request, "admin/hvaccrm/client/access.html", {
            **self.admin_site.each_context(request), "title": _("Who saw the data of %(c)s") % {"c": client},
            "client": client, "page": page, "opts": self.model._meta,
        })

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a client's data goes by the erasure of the RODO flow, which keeps the trail

    def service_save(self, request, obj, form, change) -> None:
        client_save(client=obj, actor=request.user, fields=form.changed_data, reason="admin: client record saved")

    def save_related(self, request, form, formsets, change):
        # Portal accounts join and leave through the membership services (their sockets re-check).
        users = set(form.cleaned_data.pop("users", None) or [])
        super().save_related(request, form, formsets, change)
        client = form.instance
        before = set(client.users.all())
        for user in users - before:
            client_user_add(client=client, user=user, actor=request.user)
        for user in before - users:
            client_user_remove(client=client, user=user, actor=request.user)


class EquipmentInline(admin.TabularInline):
    model = Equipment
    extra = 0
    fields = ["kind", "brand", "model", "serial_number", "refrigerant", "refrigerant_charge_kg"]
    show_change_link = True


class SiteForm(ServiceForm):
    class Meta:
        model = Site
        fields = ["client", "label", "street", "postal_code", "city", "latitude", "longitude"]

    def clean(self):
        data = super().clean()
        self.check(site_check, latitude=data.get("latitude"), longitude=data.get("longitude"))
        return data


@admin.register(Site)
class SiteAdmin(ServiceAdmin):
    form = SiteForm
    list_display = ["__str__", "client", "district", "latitude", "longitude"]
    list_filter = ["district"]
    list_select_related = ["client", "district"]
    search_fields = ["street", "postal_code", "city", "client__name"]
    autocomplete_fields = ["client"]
    readonly_fields = ["district"]  # follows from the point (site_save)
    inlines = [EquipmentInline]
    inline_services = {Equipment: (_equipment_save, _equipment_delete)}

    def service_save(self, request, obj, form, change) -> None:
        site_save(site=obj, actor=request.user, fields=form.changed_data, reason="admin: site saved")

    def service_delete(self, request, obj) -> None:
        site_delete(site=obj, actor=request.user)


@admin.register(Equipment)
class EquipmentAdmin(ServiceAdmin):
    list_display = ["__str__", "kind", "site", "refrigerant", "refrigerant_charge_kg", "co2e", "fgas", "next_leak_check"]
    list_filter = ["kind", "refrigerant", "leak_detection_system"]
    list_select_related = ["site"]
    search_fields = ["brand", "model", "serial_number", "site__street", "site__client__name"]
    autocomplete_fields = ["site"]

    def service_save(self, request, obj, form, change) -> None:
        equipment_save(equipment=obj, actor=request.user, fields=form.changed_data, reason="admin: equipment saved")

    def service_delete(self, request, obj) -> None:
        equipment_delete(equipment=obj, actor=request.user)

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
class TechnicianAdmin(ServiceAdmin):
    list_display = ["__str__", "home_district", "phone", "active", "on_shift", "private_mode", "last_position_at"]
    list_filter = ["active", "on_shift", "private_mode", "home_district"]
    list_select_related = ["user", "home_district"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "phone"]
    autocomplete_fields = ["user", "home_district"]
    readonly_fields = ["last_latitude", "last_longitude", "last_accuracy_m", "last_position_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # their jobs and routes keep them: make a technician inactive instead

    def service_save(self, request, obj, form, change) -> None:
        technician_save(technician=obj, actor=request.user, fields=form.changed_data, reason="admin: technician saved")


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

# Their own modules, registered after the models above: agreements and register rows; the user page
# (through the user services).
from hvaccrm import admin_jobs, admin_maintenance, admin_users  # noqa: E402,F401
