"""Addresses to points through a Nominatim-compatible service (GEOCODER_URL), when configured."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

from hvaccrm.geo import district_for_point
from mapping import conf

logger = logging.getLogger(__name__)


def address_geocode(*, street: str, postal_code: str = "", city: str = "Warszawa") -> dict | None:
    """{"latitude", "longitude", "district", "label"} or None (no service, no match, or a failure:
    staff then pick the point on the map)."""
    if not conf.GEOCODER_URL:
        return None
    query = urllib.parse.urlencode({
        "street": street, "postalcode": postal_code, "city": city, "country": "Polska", "format": "jsonv2",
        "limit": 1,
    })
    url = f"{conf.GEOCODER_URL.rstrip('/')}/search?{query}"
    request = urllib.request.Request(url, headers={"User-Agent": conf.GEOCODER_USER_AGENT})  # noqa: S310 - configured URL
    try:
        with urllib.request.urlopen(request, timeout=conf.GEOCODER_TIMEOUT_S) as resp:  # noqa: S310 - configured URL
            results = json.loads(resp.read().decode("utf-8"))
        if not results:
            return None
        lat, lng = float(results[0]["lat"]), float(results[0]["lon"])
    except Exception:  # a geocoder outage must never block saving an address
        logger.warning("geocoding failed for %r", street, exc_info=True)
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return {"latitude": lat, "longitude": lng, "district": district_for_point(lat, lng),
            "label": results[0].get("display_name", "")}
