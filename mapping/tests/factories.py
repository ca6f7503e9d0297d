"""Factories of mapping's rows; core rows come from hvaccrm.tests.factories."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from hvaccrm.tests.factories import TechnicianFactory
from mapping.models import LocationPing


class LocationPingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocationPing

    technician = factory.SubFactory(TechnicianFactory)
    latitude = 52.19
    longitude = 21.02
    accuracy_m = 10.0
    device_time = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    seq = factory.Sequence(lambda n: n + 1)
