"""Districts as geometry: the project's default boundaries and the fast point lookup.

The default geometry is made here, not copied: a Voronoi partition of one seed point per district
(placed by hand near each district's centre), clipped to a coarse outline of the city. It is good
enough to route alerts before an operator loads the official boundaries (`manage.py
load_districts`), which replace it in the database; every process picks the change up.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

# slug: (Polish name, seed latitude, seed longitude, affluence tier, weight)
DISTRICTS: dict[str, tuple[str, float, float, str, float]] = {
    "bemowo": ("Bemowo", 52.2545, 20.9110, "medium", 1.0),
    "bialoleka": ("Białołęka", 52.3200, 20.9900, "medium", 1.0),
    "bielany": ("Bielany", 52.2900, 20.9350, "medium", 1.0),
    "mokotow": ("Mokotów", 52.1930, 21.0250, "high", 1.3),
    "ochota": ("Ochota", 52.2140, 20.9750, "medium", 1.0),
    "praga-poludnie": ("Praga-Południe", 52.2390, 21.0850, "medium", 1.1),
    "praga-polnoc": ("Praga-Północ", 52.2600, 21.0350, "low", 0.9),
    "rembertow": ("Rembertów", 52.2600, 21.1600, "low", 0.7),
    "srodmiescie": ("Śródmieście", 52.2320, 21.0150, "high", 1.4),
    "targowek": ("Targówek", 52.2850, 21.0500, "low", 0.9),
    "ursus": ("Ursus", 52.1950, 20.8850, "low", 0.8),
    "ursynow": ("Ursynów", 52.1450, 21.0400, "high", 1.2),
    "wawer": ("Wawer", 52.1950, 21.1650, "medium", 0.9),
    "wesola": ("Wesoła", 52.2400, 21.2250, "medium", 0.7),
    "wilanow": ("Wilanów", 52.1600, 21.0850, "high", 1.3),
    "wlochy": ("Włochy", 52.1900, 20.9350, "medium", 0.9),
    "wola": ("Wola", 52.2360, 20.9650, "high", 1.2),
    "zoliborz": ("Żoliborz", 52.2700, 20.9850, "high", 1.1),
}

# A coarse outline of the city (lat, lng), clockwise from the north.
CITY_OUTLINE = [
    (52.368, 20.980), (52.360, 21.050), (52.330, 21.100), (52.300, 21.130), (52.290, 21.200),
    (52.270, 21.271), (52.220, 21.271), (52.170, 21.240), (52.120, 21.190), (52.100, 21.120),
    (52.098, 21.050), (52.120, 21.000), (52.150, 20.960), (52.160, 20.900), (52.180, 20.860),
    (52.210, 20.851), (52.240, 20.870), (52.270, 20.890), (52.300, 20.900), (52.320, 20.930),
    (52.350, 20.950),
]  # fmt: skip


@functools.lru_cache(maxsize=1)
def default_geometries() -> dict[str, dict]:
    """GeoJSON MultiPolygon per slug, built from the seed points and the outline."""
    outline = Polygon([(lng, lat) for lat, lng in CITY_OUTLINE])
    seeds = shapely.MultiPoint([(v[2], v[1]) for v in DISTRICTS.values()])
    cells = shapely.voronoi_polygons(seeds, extend_to=outline.buffer(0.5))
    result: dict[str, dict] = {}
    for slug, (_name, lat, lng, _tier, _weight) in DISTRICTS.items():
        seed = Point(lng, lat)
        cell = next(c for c in cells.geoms if c.contains(seed))
        clipped = cell.intersection(outline)
        if isinstance(clipped, Polygon):
            clipped = MultiPolygon([clipped])
        result[slug] = mapping(shapely.set_precision(clipped, 1e-6))
    return result


@functools.lru_cache(maxsize=1)
def default_neighbours() -> dict[str, list[str]]:
    """Districts whose default cells share a border."""
    geoms = {slug: shape(g) for slug, g in default_geometries().items()}
    out: dict[str, list[str]] = {slug: [] for slug in geoms}
    for a, ga in geoms.items():
        for b, gb in geoms.items():
            if a < b and ga.buffer(1e-5).intersects(gb):
                out[a].append(b)
                out[b].append(a)
    return out


@dataclass(frozen=True)
class _Entry:
    slug: str
    geom: object
    bounds: tuple[float, float, float, float]


class DistrictIndex:
    """Prepared district geometries for point lookups; thread-safe, refreshed on a version change."""

    def __init__(self, geometries: dict[str, dict], version: str = "") -> None:
        self.version = version
        entries = []
        for slug, gj in geometries.items():
            if not gj:
                continue
            geom = shape(gj)
            shapely.prepare(geom)
            entries.append(_Entry(slug, geom, geom.bounds))
        # Central, small districts first: most points in the city fall in them.
        entries.sort(key=lambda e: e.geom.area)
        self.entries = entries
        self.slugs = [e.slug for e in entries]
        self.geoms = [e.geom for e in entries]
        self.tree = shapely.STRtree(self.geoms)

    def lookup(self, lat: float, lng: float) -> str | None:
        for e in self.entries:
            minx, miny, maxx, maxy = e.bounds
            if minx <= lng <= maxx and miny <= lat <= maxy and shapely.contains_xy(e.geom, lng, lat):
                return e.slug
        return None

    def lookup_many(self, points: list[tuple[float, float]]) -> list[str | None]:
        """Vectorised lookup of many (lat, lng) points through the STR-tree."""
        import numpy as np

        if not points:
            return []
        arr = np.asarray(points, dtype=float)
        pts = shapely.points(arr[:, 1], arr[:, 0])
        point_idx, geom_idx = self.tree.query(pts, predicate="within")
        out: list[str | None] = [None] * len(points)
        for p, g in zip(point_idx.tolist(), geom_idx.tolist(), strict=True):
            if out[p] is None:
                out[p] = self.slugs[g]
        return out


_lock = threading.Lock()
_index: DistrictIndex | None = None
_checked_at = 0.0
VERSION_CHECK_SECONDS = 30.0


def _load_from_db() -> DistrictIndex:
    from django.db.models import Max

    from hvaccrm.models import District

    rows = list(District.objects.values_list("slug", "geometry"))
    version = str(District.objects.aggregate(v=Max("updated_at"))["v"])
    if not rows:
        return DistrictIndex(default_geometries(), version="default")
    return DistrictIndex(dict(rows), version=version)


def district_index() -> DistrictIndex:
    """The process's index; reloaded when the districts' version in the database changes."""
    global _index, _checked_at
    now = time.monotonic()
    if _index is not None and now - _checked_at < VERSION_CHECK_SECONDS:
        return _index
    with _lock:
        if _index is None or now - _checked_at >= VERSION_CHECK_SECONDS:
            from django.db.models import Max

            from hvaccrm.models import District

            version = str(District.objects.aggregate(v=Max("updated_at"))["v"])
            if _index is None or _index.version != version:
                _index = _load_from_db()
            _checked_at = now
    return _index


def district_index_reset() -> None:
    """Forget the cached index (after boundaries change in this process, and in tests)."""
    global _index, _checked_at
    with _lock:
        _index = None
        _checked_at = 0.0


def district_for_point(lat: float, lng: float) -> str | None:
    """The slug of the district containing the point, or None outside Warsaw."""
    return district_index().lookup(lat, lng)
