"""Mapping in the admin: district settings with the polygon, the site point picker with geocoding,
day plans, slot proposals (accepted here), GPS pings (read-only)."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hvaccrm import services as core_services
from hvaccrm.admin import DistrictAdmin as CoreDistrictAdmin
from hvaccrm.admin import SiteAdmin as CoreSiteAdmin
from hvaccrm.admin import SiteForm
from hvaccrm.errors import ServiceError
from hvaccrm.models import District, Site
from mapping import services
from mapping.models import DayPlan, LocationPing, Route, RouteStop, SlotProposal, UnassignedJob

LEAFLET_MEDIA = forms.Media(
    css={"all": ["leaflet/leaflet.css", "mapping/mapping.css"]},
    js=["leaflet/leaflet.js", "mapping/admin_maps.js"],
)


class MappingDistrictAdmin(CoreDistrictAdmin):
    """Affluence tier, weight (raises the district's jobs in the plan and sets the cache TTL of its
    data: 1.2 and more 5 min, from 0.9 10 min, below 15 min; a change needs a reason), neighbours,
    and the polygon on a map."""

    list_display = [*CoreDistrictAdmin.list_display, "cache_ttl_minutes"]
    readonly_fields = [*CoreDistrictAdmin.readonly_fields, "cache_ttl_minutes", "polygon"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "affluence_tier", "weight", "reason", "cache_ttl_minutes",
                           "neighbours"]}),
        (_("Boundary"), {"fields": ["geometry_source", "polygon", "updated_at"]}),
    ]

    @property
    def media(self):
        return super().media + LEAFLET_MEDIA

    @admin.display(description=_("cache TTL (min)"))
    def cache_ttl_minutes(self, obj) -> int:
        return obj.cache_ttl // 60 if obj and obj.pk else 0

    @admin.display(description=_("polygon"))
    def polygon(self, obj) -> str:
        return format_html('<div class="district-polygon-map" data-geometry="{}" data-tile-url="{}"></div>',
                           json.dumps(obj.geometry or None), settings.MAP_TILE_URL)


class SitePickerForm(SiteForm):
    """The core's site form (its point checked by site_check) with the geocoder filling the point."""

    class Meta:
        model = Site
        fields = ["client", "label", "street", "postal_code", "city", "latitude", "longitude"]

    def clean(self):
        data = forms.ModelForm.clean(self)
        lat, lng = data.get("latitude"), data.get("longitude")
        if lat is None and lng is None and data.get("street"):
            found = services.address_geocode(street=data["street"], postal_code=data.get("postal_code", ""),
                                             city=data.get("city") or "Warszawa")
            if found:
                data["latitude"], data["longitude"] = found["latitude"], found["longitude"]
                self.geocoded = found
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or pick the point on the map."))
        self.check(core_services.site_check, latitude=data.get("latitude"), longitude=data.get("longitude"))
        return data


class MappingSiteAdmin(CoreSiteAdmin):
    """The point is picked on a small map (or geocoded when GEOCODER_URL is set); the district
    follows from the point."""

    form = SitePickerForm
    readonly_fields = ["point_picker", "district"]
    autocomplete_fields = ["client"]
    fields = ["client", "label", "street", "postal_code", "city", "latitude", "longitude", "point_picker", "district"]

    @property
    def media(self):
        return super().media + LEAFLET_MEDIA

    @admin.display(description=_("point on the map"))
    def point_picker(self, obj) -> str:
        return format_html(
            '<div class="site-picker-map" data-lat-input="id_latitude" data-lng-input="id_longitude" data-tile-url="{}"></div>'
            '<p class="help">{}</p>', settings.MAP_TILE_URL,
            _("Click the map or drag the marker to set the point; with an address geocoder configured, "
              "leaving both coordinates empty looks the address up."),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # site_save: the point's district, its open jobs
        if getattr(form, "geocoded", None):
            messages.info(request, _("Address geocoded: %(label)s") % {"label": form.geocoded["label"]})


for model, model_admin in ((District, MappingDistrictAdmin), (Site, MappingSiteAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class RouteStopInline(admin.TabularInline):
    model = RouteStop
    extra = 0
    fields = ["sequence", "job", "eta", "service_start", "service_end", "travel_s", "fixed"]
    readonly_fields = fields
    can_delete = False


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["plan", "technician", "start_at", "end_at", "travel_s"]
    list_select_related = ["plan", "technician__user"]
    list_filter = ["plan__day"]
    inlines = [RouteStopInline]
    readonly_fields = ["plan", "technician", "start_at", "end_at", "travel_s"]

    def has_add_permission(self, request) -> bool:
        return False


class UnassignedInline(admin.TabularInline):
    model = UnassignedJob
    extra = 0
    readonly_fields = ["job", "reason"]
    can_delete = False


@admin.register(DayPlan)
class DayPlanAdmin(admin.ModelAdmin):
    list_display = ["day", "version", "reason", "total_travel_s", "solve_ms", "updated_at"]
    readonly_fields = ["day", "version", "reason", "total_travel_s", "solve_ms", "updated_at"]
    inlines = [UnassignedInline]
    actions = ["replan"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Re-optimise the selected days"))
    def replan(self, request, queryset):
        for plan in queryset:
            services.day_plan(day=plan.day, reason="admin")
        messages.success(request, _("Re-planned."))


@admin.register(SlotProposal)
class SlotProposalAdmin(admin.ModelAdmin):
    list_display = ["job", "rank", "technician", "start", "end", "extra_travel_s", "accepted_at"]
    list_select_related = ["job", "technician__user"]
    list_filter = ["accepted_at"]
    search_fields = ["job__id"]
    readonly_fields = ["job", "technician", "start", "end", "extra_travel_s", "rank", "accepted_at", "created_at"]
    actions = ["accept"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Accept the selected proposal (assigns and schedules the job)"))
    def accept(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Choose exactly one proposal."))
            return
        try:
            job = services.slot_accept(proposal=queryset.get(), actor=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Job #%(job)s scheduled.") % {"job": job.pk})


@admin.register(LocationPing)
class LocationPingAdmin(admin.ModelAdmin):
    list_display = ["technician", "device_time", "latitude", "longitude", "accuracy_m", "seq", "reduced"]
    list_select_related = ["technician__user"]
    list_filter = ["reduced"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
