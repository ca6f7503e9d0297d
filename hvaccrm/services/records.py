"""Staff writes of the core's records (clients, sites, equipment, technicians): the admin calls
these, as the API and the portal call theirs, so every change is checked the same way, lands in
one transaction with its access-trail row and its consequences (a moved site moves its open jobs).

Each `*_check` raises ServiceError without writing anything: forms call it from `clean()` so a
refused change is a form error before anything is saved; the `*_save` functions call it again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.geo import district_for_point
from hvaccrm.models import Client, District, Equipment, ServiceJob, Site, Technician
from hvaccrm.models.jobs import OPEN_STATUSES
from hvaccrm.services.access import access_record
from hvaccrm.services.jobs import job_location_set


def _validated(obj: Model, *, exclude: Iterable[str] = ()) -> None:
    """The model's own rules (field validators, clean(), constraints) as a ServiceError."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {}
        raise ServiceError(_("Please correct the errors below."), fields=fields) from exc


def _trail(*, actor, obj: Model, created: bool, client_id: int | None, fields: Iterable[str], purpose: str) -> None:
    access_record(actor=actor, action="create" if created else "change", obj=obj, subject_client_id=client_id,
                  purpose=purpose, fields=list(fields))


def client_save(*, client: Client, actor, fields: Iterable[str] = (), reason: str = "") -> Client:
    """Create or change a client's record; the trail says who and which fields."""
    _validated(client, exclude=["users"])
    created = client.pk is None
    with transaction.atomic():
        client.save()
        _trail(actor=actor, obj=client, created=created, client_id=client.pk, fields=fields,
               purpose=reason or "staff: client record saved")
    return client


def site_check(*, latitude: float | None, longitude: float | None) -> str | None:
    """The district of a site's point; a point outside Warsaw, or half a point, is refused."""
    if (latitude is None) != (longitude is None):
        raise ServiceError(_("Give both latitude and longitude, or neither."), fields={"latitude": [_("Required.")]})
    if latitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ServiceError(_("Coordinates out of range."), fields={"latitude": [_("Out of range.")]})
    slug = district_for_point(latitude, longitude)
    if slug is None:
        msg = _("This point is outside Warsaw: we serve the 18 districts of Warsaw only.")
        raise ServiceError(msg, code="outside_warsaw", fields={"latitude": [msg]})
    return slug


def site_save(*, site: Site, actor, fields: Iterable[str] = (), reason: str = "") -> Site:
    """Create or change a site; its district follows from its point, and open jobs at the site
    move with it (the map and the client's page are told)."""
    slug = site_check(latitude=site.latitude, longitude=site.longitude)
    site.district = District.objects.filter(slug=slug).first() if slug else None
    _validated(site)
    created = site.pk is None
    with transaction.atomic():
        site.save()
        _trail(actor=actor, obj=site, created=created, client_id=site.client_id, fields=fields,
               purpose=reason or "staff: site saved")
        if not created and site.latitude is not None and {"latitude", "longitude"} & set(fields):
            for job in ServiceJob.objects.filter(site=site, status__in=OPEN_STATUSES):
                job_location_set(job=job, latitude=site.latitude, longitude=site.longitude)
    return site


def site_delete(*, site: Site, actor) -> None:
    """Delete a site that no job refers to (jobs keep their site: cancel them first)."""
    with transaction.atomic():
        access_record(actor=actor, action="erase", obj=site, subject_client_id=site.client_id,
                      purpose="staff: site deleted")
        try:
            site.delete()
        except ProtectedError as exc:
            raise ServiceError(_("Jobs refer to this site; it cannot be deleted."), code="protected") from exc


def equipment_check(*, equipment: Equipment) -> None:
    _validated(equipment)


def equipment_save(*, equipment: Equipment, actor, fields: Iterable[str] = (), reason: str = "") -> Equipment:
    equipment_check(equipment=equipment)
    created = equipment.pk is None
    with transaction.atomic():
        equipment.save()
        client_id = Site.objects.filter(pk=equipment.site_id).values_list("client_id", flat=True).first()
        _trail(actor=actor, obj=equipment, created=created, client_id=client_id, fields=fields,
               purpose=reason or "staff: equipment saved")
    return equipment


def equipment_delete(*, equipment: Equipment, actor) -> None:
    with transaction.atomic():
        client_id = Site.objects.filter(pk=equipment.site_id).values_list("client_id", flat=True).first()
        access_record(actor=actor, action="erase", obj=equipment, subject_client_id=client_id,
                      purpose="staff: equipment deleted")
        equipment.delete()


def technician_save(*, technician: Technician, actor, fields: Iterable[str] = (), reason: str = "") -> Technician:
    """Create or change a technician (a member of staff, not a client: no access-trail subject)."""
    _validated(technician)
    created = technician.pk is None
    with transaction.atomic():
        technician.save()
        _trail(actor=actor, obj=technician, created=created, client_id=None, fields=fields,
               purpose=reason or "staff: technician saved")
    return technician
