"""The portal's read API for the signed-in client: their sites (with units) and visits. Scoped by
the same selectors as the pages, so another client's id is a 404."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from hvaccrm.api import SinceFilterMixin
from hvaccrm.models import Equipment, ServiceJob, Site
from portal import selectors


class EquipmentSerializer(serializers.ModelSerializer):
    next_maintenance_due = serializers.DateField(read_only=True)
    next_leak_check_due = serializers.DateField(read_only=True)

    class Meta:
        model = Equipment
        fields = ["id", "kind", "brand", "model", "serial_number", "refrigerant", "refrigerant_charge_kg",
                  "installed_on", "last_maintenance_on", "last_leak_check_on", "next_maintenance_due",
                  "next_leak_check_due"]
        read_only_fields = fields


class SiteSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    equipment = EquipmentSerializer(many=True, read_only=True)

    class Meta:
        model = Site
        fields = ["id", "label", "street", "postal_code", "city", "district", "equipment"]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    technician_name = serializers.SerializerMethodField()

    class Meta:
        model = ServiceJob
        fields = ["id", "site", "equipment", "service_type", "urgency", "status", "description", "requested_start",
                  "requested_end", "scheduled_start", "scheduled_end", "eta", "technician_name", "created_at",
                  "completed_at"]
        read_only_fields = fields

    def get_technician_name(self, obj) -> str | None:
        return selectors.technician_name(obj) or None


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SiteSerializer

    def get_queryset(self):
        return selectors.site_list(user=self.request.user)


class VisitViewSet(SinceFilterMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = VisitSerializer

    def get_queryset(self):
        qs = selectors.visit_list_upcoming(user=self.request.user) if self.request.query_params.get("show") == "upcoming" \
            else selectors.visit_list_all(user=self.request.user).order_by("-when", "-id")
        return self.filter_since(qs).select_related("technician__user")
