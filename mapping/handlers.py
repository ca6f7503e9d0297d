"""Inbound socket frames of the mapping app: GPS pings from technicians' devices."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
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


_NUMBER = (int, float)


def _ping_fields(data: dict) -> dict[str, Any] | None:
    """LocationPingFrame's validated data for the frame a device sends (JSON numbers, an ISO time
    with its offset), or None for anything else, which the serializer then decides (and words
    the errors of). A DRF serializer instance copies its fields each time: most of a frame's
    validation CPU, 40 times a second at the issue's fleet."""
    try:
        lat, lon, acc, seq, when = (
            data["latitude"],
            data["longitude"],
            data["accuracy"],
            data["seq"],
            data["device_time"],
        )
    except KeyError:
        return None
    speed, heading = data.get("speed"), data.get("heading")
    if not (
        type(lat) in _NUMBER
        and type(lon) in _NUMBER
        and type(acc) in _NUMBER
        and type(seq) is int
        and 0 <= seq <= 2**62
        and (speed is None or type(speed) in _NUMBER)
        and (heading is None or type(heading) in _NUMBER)
        and type(when) is str
        and len(when) <= 64
    ):
        return None
    try:
        at = parse_datetime(when)  # what the serializer's DateTimeField parses with
    except ValueError:
        return None
    if at is None or at.tzinfo is None:
        return None  # naive: the serializer makes it aware (or refuses an ambiguous local time)
    return {
        "latitude": float(lat),
        "longitude": float(lon),
        "accuracy": float(acc),
        "speed": None if speed is None else float(speed),
        "heading": None if heading is None else float(heading),
        "device_time": at.astimezone(timezone.get_current_timezone()),
        "seq": seq,
    }


class LocationPingInput:
    """The consumer's serializer interface (is_valid, validated_data, errors) over _ping_fields,
    with LocationPingFrame behind it for every frame the fast reading does not take."""

    def __init__(self, *, data: dict) -> None:
        self.data_in, self.validated_data, self.errors = data, None, {}

    def is_valid(self) -> bool:
        self.validated_data = _ping_fields(self.data_in)
        if self.validated_data is not None:
            return True
        serializer = LocationPingFrame(data=self.data_in)
        valid = serializer.is_valid()
        self.validated_data, self.errors = (serializer.validated_data if valid else None), serializer.errors
        return valid


def user_is_technician(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and hasattr(user, "technician")


@register_frame("location.ping", serializer=LocationPingInput, allow=user_is_technician)
def location_ping(*, user, data, connection) -> dict:
    # user.technician is read once per socket (the user object lives as long as the socket, or until
    # its rights change) and is the snapshot location_ping_ingest checks against and refreshes.
    return location_ping_ingest(technician=user.technician, **data)
