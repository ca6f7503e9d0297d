"""Inbound socket frames of the mapping app: GPS pings from technicians' devices."""

from __future__ import annotations

from rest_framework import serializers

from hvaccrm.realtime.registry import register_frame
from mapping.services import location_ping_ingest


class LocationPingFrame(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    accuracy = serializers.FloatField()
    speed = serializers.FloatField(required=False, allow_null=True, default=None)
    heading = serializers.FloatField(required=False, allow_null=True, default=None)
    device_time = serializers.DateTimeField()
    seq = serializers.IntegerField(min_value=0, max_value=2**62)


def user_is_technician(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and hasattr(user, "technician")


@register_frame("location.ping", serializer=LocationPingFrame, allow=user_is_technician)
def location_ping(*, user, data, connection) -> dict:
    return location_ping_ingest(technician=user.technician, **data)
