"""What the office's phone booking asks of the subsystems (the page is wiring, like the portal's):
triage from communications, the address from mapping's geocoder, slot proposals and their
acceptance from mapping. The job itself is made by the core's job_create, so its outbox rows (map,
notifications) are written in its transaction as for any other booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications.services.jobs import visit_when
from hvaccrm.closed_days import holiday_name
from hvaccrm.errors import ServiceError
from hvaccrm.geo import district_for_point
from hvaccrm.models import Client, District, Equipment, ServiceJob, Site
from hvaccrm.models.jobs import JobSource
from hvaccrm.models.outbox import Target
from hvaccrm.services import client_save, job_create, site_save
from hvaccrm.services.outbox import record
from integration.mail import told_key, visit_told
from integration.portal import classify
from mapping import conf as mapping_conf
from mapping import services as mapping
from mapping.models import SlotProposal

__all__ = ["PhoneBooking", "address_locate", "geocoder_configured", "point_district", "phone_booking_create", "phone_booking_slot_take", "triage", "window_text"]


def window_text(job: ServiceJob) -> str:
    """The job's date and time as the client reads it (communications' one wording, never "?")."""
    return visit_when(job)


def triage(text: str) -> dict[str, Any]:
    """The urgency the classifier suggests for the caller's words (the office may change it)."""
    return classify(text)


def address_locate(*, street: str, postal_code: str = "") -> dict | None:
    """The point and district of an address when a geocoder is configured (GEOCODER_URL); None: the
    office picks the point on the map."""
    return mapping.address_geocode(street=street, postal_code=postal_code) if street else None


def geocoder_configured() -> bool:
    return bool(mapping_conf.GEOCODER_URL)


def point_district(*, latitude: float, longitude: float) -> dict[str, Any]:
    """The district of a point the office picked on the map, or a clear refusal outside Warsaw (the
    same lookup `site_save` makes when the booking is saved)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return {"inside": False, "message": _("Coordinates out of range.")}
    slug = district_for_point(latitude, longitude)
    if slug is None:
        return {"inside": False, "message": _("This point is outside Warsaw: the company serves Warsaw only. "
                                              "Choose a point inside the city.")}
    name = District.objects.filter(slug=slug).values_list("name", flat=True).first() or slug
    return {"inside": True, "district": slug, "district_name": name,
            "message": _("District: %(name)s") % {"name": name}}


@dataclass(frozen=True)
class PhoneBooking:
    """What the office heard on the phone. Either `client` or a new client's name and phone; either
    `site` (the client's) or a street with a point (geocoded or picked on the map)."""

    service_type: str
    description: str
    urgency: str
    day: date
    from_hour: int
    to_hour: int
    client: Client | None = None
    client_name: str = ""
    phone: str = ""
    email: str = ""
    site: Site | None = None
    street: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    equipment: Equipment | None = None


def _window(b: PhoneBooking, now: datetime) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(b.day, time(b.from_hour)), tz)
    end = timezone.make_aware(datetime.combine(b.day, time(b.to_hour)), tz)
    if end <= start:
        raise ServiceError(_("The window must end after it starts."), fields={"to_hour": [_("After the start.")]})
    if end <= now:
        raise ServiceError(_("That window has passed; choose a later day or hour."), code="window_past",
                           fields={"day": [_("In the past.")]})
    name = holiday_name(b.day)
    if name:
        raise ServiceError(_("%(day)s is a public holiday (%(name)s): the company is closed.") % {"day": b.day, "name": name},
                           code="window_closed_day", fields={"day": [_("A closed day.")]})
    return start, end


def phone_booking_create(*, booking: PhoneBooking, actor, now: datetime | None = None) -> tuple[ServiceJob, list[SlotProposal]]:
    """Find or create the client and site, create the job with the caller's window and propose
    slots (technician, time, extra travel). Bad input (a past window, a holiday, a point outside
    Warsaw, another client's site or unit) is refused with a clear message and nothing is saved."""
    b = booking
    start, end = _window(b, now or timezone.now())
    with transaction.atomic():
        client = b.client
        if client is None:
            if not b.client_name or not b.phone:
                raise ServiceError(_("Choose a client or give a new client's name and phone."),
                                   fields={"client": [_("Required.")]})
            client = client_save(client=Client(name=b.client_name, phone=b.phone, email=b.email), actor=actor,
                                 reason="staff: phone booking")
        site = b.site
        if site is not None and site.client_id != client.pk:
            raise ServiceError(_("This site belongs to another client."), fields={"site": [_("Not this client's site.")]})
        if site is None:
            if not b.street or b.latitude is None:
                raise ServiceError(_("Give the address and its point (found by the geocoder or picked on the map)."),
                                   fields={"street": [_("Required.")]})
            site = site_save(site=Site(client=client, street=b.street, postal_code=b.postal_code,
                                       latitude=b.latitude, longitude=b.longitude), actor=actor,
                             reason="staff: phone booking")
        if b.equipment is not None and b.equipment.site.client_id != client.pk:
            raise ServiceError(_("This unit belongs to another client."), fields={"equipment": [_("Not this client's unit.")]})
        job = job_create(site=site, service_type=b.service_type, description=b.description, urgency=b.urgency,
                         source=JobSource.PHONE, equipment=b.equipment, requested_start=start, requested_end=end,
                         actor=actor, reason="phone booking")
    return job, mapping.slot_propose(job=job, days=3)


def phone_booking_slot_take(*, proposal_id: int, actor) -> ServiceJob:
    """The office books the slot the caller chose: the job is assigned and scheduled in it; the
    client is told (job.confirmed, with the real date and time) through the notifications outbox,
    or by e-mail when the client has an address and no portal user (job.confirmation_email)."""
    proposal = SlotProposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        raise ServiceError(_("That proposal is gone; propose slots again."), code="not_found", status_code=404)
    with transaction.atomic():
        job = mapping.slot_accept(proposal=proposal, actor=actor)
        client = job.client
        if client.email and not client.users.filter(is_active=True).exists():
            # No portal user to notify: the client hears by e-mail, owed in the booking's transaction.
            # Its key is the window it tells: a later change of that window is e-mailed (mail.py).
            told = visit_told(job)
            record(source="integration", target=Target.NOTIFICATIONS, kind="job.confirmation_email", obj=job,
                   payload={"job": job.pk, **({"key": told_key(told)} if told else {})})
    return job
