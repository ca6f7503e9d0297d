"""Office pages of maintenance agreements and the F-gas register rows; writes go through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import Agreement, RefrigerantRecord
from hvaccrm.services import agreement_create, agreement_end, agreement_renew
from hvaccrm.services.maintenance import agreement_check


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ["client", "sites", "equipment", "visits_per_year", "price", "starts_on", "ends_on", "auto_renew"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                agreement_check(client=data["client"], sites=list(data["sites"]), equipment=list(data["equipment"]),
                                starts_on=data["starts_on"], ends_on=data["ends_on"], price=data["price"],
                                visits_per_year=data["visits_per_year"])
            except ServiceError as err:
                for field, msgs in err.fields.items():
                    for msg in msgs:
                        self.add_error(field if field in self.fields else None, msg)
        return data


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    form = AgreementForm
    list_display = ["__str__", "client", "state", "starts_on", "ends_on", "visits_per_year", "price", "auto_renew",
                    "unit_count"]
    list_filter = ["state", "auto_renew", "visits_per_year"]
    list_select_related = ["client"]
    search_fields = ["client__name"]
    autocomplete_fields = ["client"]
    filter_horizontal = ["sites", "equipment"]
    date_hierarchy = "ends_on"
    actions = ["renew", "end_today"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_units=Count("equipment", distinct=True))

    @admin.display(description=_("units"), ordering="_units")
    def unit_count(self, obj) -> int:
        return obj._units

    def get_readonly_fields(self, request, obj=None):
        # The terms of an existing agreement change by renewal or ending, each through its service.
        if obj is None:
            return ["state"]
        return ["client", "sites", "equipment", "visits_per_year", "price", "starts_on", "ends_on", "auto_renew",
                "state", "ended_on", "renewed_from", "created_by"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data  # checked by AgreementForm.clean with the service's own rules
        created = agreement_create(
            client=data["client"], sites=list(data["sites"]), equipment=list(data["equipment"]),
            starts_on=data["starts_on"], ends_on=data["ends_on"], price=data["price"],
            visits_per_year=data["visits_per_year"], auto_renew=data["auto_renew"], actor=request.user,
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        """The service already set the sites and units."""

    @admin.action(description=_("Renew the chosen agreements for another term"))
    def renew(self, request, queryset):
        for agreement in queryset:
            try:
                agreement_renew(agreement=agreement, actor=request.user)
            except ServiceError as err:
                self.message_user(request, f"{agreement}: {err.message}", level=messages.WARNING)

    @admin.action(description=_("End the chosen agreements today"))
    def end_today(self, request, queryset):
        for agreement in queryset:
            try:
                agreement_end(agreement=agreement, actor=request.user)
            except ServiceError as err:
                self.message_user(request, f"{agreement}: {err.message}", level=messages.WARNING)


@admin.register(RefrigerantRecord)
class RefrigerantRecordAdmin(admin.ModelAdmin):
    """The register rows are written by completing a visit; the office reads them here."""

    list_display = ["performed_on", "equipment", "refrigerant", "added_kg", "recovered_kg", "leak_result",
                    "technician", "certificate_number"]
    list_filter = ["refrigerant", "leak_result"]
    list_select_related = ["equipment", "technician__user"]
    date_hierarchy = "performed_on"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
