"""Official district boundaries: validate a GeoJSON file, store it, re-resolve sites and open jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from hvaccrm.errors import ServiceError
from hvaccrm.geo import DISTRICTS, DistrictIndex, district_index_reset
from hvaccrm.models import District, ServiceJob, Site
from hvaccrm.models.jobs import OPEN_STATUSES
from hvaccrm.services import job_location_set
from hvaccrm.text import text_fold

CITY_NAMES = {"warszawa", "warsaw", "mstwarszawa"}
# Warsaw lies well inside this box; a file in another projection or with swapped axes does not.
PLAUSIBLE_BOUNDS = (20.5, 51.9, 21.6, 52.6)  # min lng, min lat, max lng, max lat


def name_normalise(name: str) -> str:
    """The core's folding (case, diacritics), then spaces, hyphens and punctuation removed."""
    return "".join(c for c in text_fold(name) if c.isalnum())


SLUG_BY_NAME = {name_normalise(v[0]): slug for slug, v in DISTRICTS.items()}


def _refuse(message: str) -> ServiceError:
    return ServiceError(message, code="invalid_geometry")


def districts_parse(*, data: dict[str, Any]) -> dict[str, MultiPolygon]:
    """Validate a FeatureCollection; return a valid MultiPolygon per slug or raise with the reason."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise _refuse(_("The file is not a GeoJSON FeatureCollection."))
    found: dict[str, MultiPolygon] = {}
    for number, feature in enumerate(data["features"], start=1):
        props = (feature or {}).get("properties") or {}
        raw_name = str(props.get("name") or props.get("nazwa") or "")
        key = name_normalise(raw_name)
        if key in CITY_NAMES:
            continue  # the whole-city outline is not a district
        slug = SLUG_BY_NAME.get(key)
        if slug is None:
            raise _refuse(_("Feature %(n)d: %(name)r is not a Warsaw district.") % {"n": number, "name": raw_name})
        if slug in found:
            raise _refuse(_("District %(name)s appears twice.") % {"name": raw_name})
        try:
            geom = shape(feature.get("geometry") or {})
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise _refuse(_("%(name)s: the geometry cannot be read (%(err)s).") % {"name": raw_name, "err": exc}) from exc
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        if not isinstance(geom, MultiPolygon) or geom.is_empty:
            raise _refuse(_("%(name)s: a district must be a non-empty (Multi)Polygon.") % {"name": raw_name})
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            raise _refuse(_("%(name)s: invalid geometry (%(why)s).") % {"name": raw_name, "why": reason})
        minx, miny, maxx, maxy = geom.bounds
        bx0, by0, bx1, by1 = PLAUSIBLE_BOUNDS
        if minx < bx0 or miny < by0 or maxx > bx1 or maxy > by1:
            raise _refuse(
                _("%(name)s: coordinates are not in Warsaw (expected WGS84 longitude, latitude).") % {"name": raw_name}
            )
        found[slug] = geom
    missing = sorted(set(DISTRICTS) - set(found))
    if missing:
        raise _refuse(_("Districts missing from the file: %(names)s.") % {"names": ", ".join(DISTRICTS[s][0] for s in missing)})
    return found


def districts_load(*, path: str | Path | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Replace the district boundaries with the file's; re-resolve the district of every site and
    open job. All or nothing: an invalid file raises ServiceError and changes nothing."""
    if data is None:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            raise _refuse(_("The file cannot be read as JSON: %(err)s") % {"err": exc}) from exc
    geoms = districts_parse(data=data)
    index = DistrictIndex({slug: mapping(g) for slug, g in geoms.items()}, version="loading")
    sites_moved: list[dict[str, Any]] = []
    jobs_moved: list[dict[str, Any]] = []
    with transaction.atomic():
        by_slug = {d.slug: d for d in District.objects.select_for_update()}
        for slug, geom in geoms.items():
            district = by_slug[slug]
            district.geometry = mapping(shapely.set_precision(geom, 1e-7))
            district.geometry_source = "official"
            district.save(update_fields=["geometry", "geometry_source", "updated_at"])
        _neighbours_set(by_slug, geoms)
        id_by_slug = {slug: d.pk for slug, d in by_slug.items()}
        slug_by_id = {pk: slug for slug, pk in id_by_slug.items()}
        for site in Site.objects.filter(latitude__isnull=False).only("pk", "latitude", "longitude", "district_id"):
            new = index.lookup(site.latitude, site.longitude)
            old = slug_by_id.get(site.district_id)
            if new != old:
                Site.objects.filter(pk=site.pk).update(district_id=id_by_slug.get(new) if new else None)
                sites_moved.append({"site": site.pk, "from": old, "to": new})
        jobs = ServiceJob.objects.filter(status__in=OPEN_STATUSES, latitude__isnull=False)
        for job in jobs.only("pk", "latitude", "longitude", "district_id"):
            new = index.lookup(job.latitude, job.longitude)
            old = slug_by_id.get(job.district_id)
            if new == old:
                continue
            if new:
                job_location_set(job=job, district_slug=new, source="mapping")
            else:
                ServiceJob.objects.filter(pk=job.pk).update(district=None)
            jobs_moved.append({"job": job.pk, "from": old, "to": new})
        # Every process reloads its index when the districts' version changes; this one at once.
        transaction.on_commit(district_index_reset)
    district_index_reset()
    return {"districts": len(geoms), "sites_moved": sites_moved, "jobs_moved": jobs_moved}


def _neighbours_set(by_slug: dict[str, District], geoms: dict[str, MultiPolygon]) -> None:
    """Districts whose official boundaries touch (a 20 m tolerance closes digitising gaps)."""
    slugs = sorted(geoms)
    grown = {s: geoms[s].buffer(0.0003) for s in slugs}
    for a in slugs:
        others = [by_slug[b] for b in slugs if b != a and grown[a].intersects(geoms[b])]
        by_slug[a].neighbours.set(others)
