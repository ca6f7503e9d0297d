"""Mapping's API: GeoJSON layers for the maps, the day's plan, GPS pings and private mode."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hvaccrm.errors import ServiceError
from hvaccrm.selectors import user_is_office
from mapping import selectors, services
from mapping.handlers import LocationPingFrame, user_is_technician


class IsOffice(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_is_office(request.user)


class IsTechnician(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_is_technician(request.user)


def _day(request) -> date | None:
    raw = request.query_params.get("day")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ServiceError("day must be YYYY-MM-DD", fields={"day": ["YYYY-MM-DD"]}) from exc


class GeoJSONResponse(serializers.Serializer):
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.DictField())


class DistrictsGeoJSONView(APIView):
    """The districts with their boundary, tier and open jobs (shading of the dispatch map)."""

    permission_classes = [IsOffice]

    @extend_schema(responses={(200, "application/geo+json"): GeoJSONResponse})
    def get(self, request):
        return Response(selectors.districts_geojson(), content_type="application/geo+json")


class TechniciansGeoJSONView(APIView):
    permission_classes = [IsOffice]

    @extend_schema(responses={(200, "application/geo+json"): GeoJSONResponse})
    def get(self, request):
        return Response(selectors.technicians_geojson(), content_type="application/geo+json")


class JobsGeoJSONView(APIView):
    permission_classes = [IsOffice]

    @extend_schema(responses={(200, "application/geo+json"): GeoJSONResponse}, parameters=[OpenApiParameter("day", str)])
    def get(self, request):
        return Response(selectors.jobs_geojson(day=_day(request)), content_type="application/geo+json")


class PlanView(APIView):
    """The stored plan of a day (routes, stops with ETAs, unassigned jobs with reasons)."""

    permission_classes = [IsOffice]

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[OpenApiParameter("day", str)])
    def get(self, request):
        from django.utils import timezone

        return Response(selectors.day_plan_get(day=_day(request) or timezone.localdate()))


class PingResult(serializers.Serializer):
    stored = serializers.BooleanField()
    status = serializers.CharField()
    ping = serializers.IntegerField(allow_null=True)


class PingView(APIView):
    """A GPS ping from the technician's device (the socket frame "location.ping" does the same)."""

    permission_classes = [IsTechnician]

    @extend_schema(request=LocationPingFrame, responses=PingResult)
    def post(self, request):
        s = LocationPingFrame(data=request.data)
        s.is_valid(raise_exception=True)
        result = services.location_ping_ingest(technician=request.user.technician, **s.validated_data)
        code = status.HTTP_201_CREATED if result["stored"] else status.HTTP_200_OK
        return Response(result, status=code)


class PrivateModeInput(serializers.Serializer):
    private = serializers.BooleanField()


class PrivateModeView(APIView):
    permission_classes = [IsTechnician]

    @extend_schema(request=PrivateModeInput, responses=PrivateModeInput)
    def post(self, request):
        s = PrivateModeInput(data=request.data)
        s.is_valid(raise_exception=True)
        tech = services.technician_private_mode_set(technician=request.user.technician, private=s.validated_data["private"])
        return Response({"private": tech.private_mode})
