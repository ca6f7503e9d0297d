"""A site's point on the map (picked by staff or geocoded) and the district it falls in."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.geo import district_for_point
from hvaccrm.models import District, Site


def site_location_set(*, site: Site, latitude: float | None, longitude: float | None) -> Site:
    """Store the point and resolve its district (none outside Warsaw); clearing both is allowed."""
    if (latitude is None) != (longitude is None):
        raise ServiceError(_("Give both latitude and longitude, or neither."), fields={"latitude": [_("Required.")]})
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ServiceError(_("Coordinates out of range."), fields={"latitude": [_("Out of range.")]})
    slug = district_for_point(latitude, longitude) if latitude is not None else None
    with transaction.atomic():
        site.latitude, site.longitude = latitude, longitude
        site.district = District.objects.filter(slug=slug).first() if slug else None
        site.save(update_fields=["latitude", "longitude", "district"])
    return site
