"""factory-boy factories of the core rows, shared by every app's tests."""

from __future__ import annotations

from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from hvaccrm.models import Client, District, Equipment, ServiceJob, Site, Technician


def district(slug: str) -> District:
    return District.objects.get(slug=slug)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com" if "@" not in u.username else u.username)
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", "Correct-Horse-42")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    kind = "residential"
    name = factory.Sequence(lambda n: f"Klient {n}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    phone = "+48 600 100 200"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    client = factory.SubFactory(ClientFactory)
    street = factory.Sequence(lambda n: f"ul. Puławska {n + 1}")
    postal_code = "02-512"
    latitude = 52.1930
    longitude = 21.0250
    district = factory.LazyFunction(lambda: District.objects.get(slug="mokotow"))


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    site = factory.SubFactory(SiteFactory)
    kind = "split_ac"
    brand = "Daikin"
    model = "FTXM35"
    refrigerant = "R32"
    refrigerant_charge_kg = 1.2


class TechnicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Technician

    user = factory.SubFactory(UserFactory, role="technician")
    phone = "+48 601 200 300"
    skills = factory.LazyFunction(lambda: ["split_ac", "heat_pump", "gas_boiler", "fgas_certified"])
    home_district = factory.LazyFunction(lambda: District.objects.get(slug="mokotow"))
    shift_start = time(0, 0)
    shift_end = time(23, 59)
    # A valid category I F-gas certificate when the skills say so (the routing reads the certificate).
    fgas_certificate_number = factory.LazyAttributeSequence(
        lambda o, n: f"FGAZ-P/{n:05d}/26" if "fgas_certified" in o.skills else "")
    fgas_certificate_category = factory.LazyAttribute(lambda o: "I" if o.fgas_certificate_number else "")
    fgas_certificate_expires_on = factory.LazyAttribute(
        lambda o: date.today() + timedelta(days=3 * 365) if o.fgas_certificate_number else None)
    active = True
    on_shift = True


class ServiceJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceJob

    site = factory.SubFactory(SiteFactory)
    client = factory.SelfAttribute("site.client")
    service_type = "repair"
    urgency = "normal"
    description = "Klimatyzacja nie chłodzi"
    latitude = factory.SelfAttribute("site.latitude")
    longitude = factory.SelfAttribute("site.longitude")
    district = factory.SelfAttribute("site.district")
