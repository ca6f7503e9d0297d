"""Districts as geometry: the project's default boundaries and the fast point lookup.

The default geometry ships with the project: a simplified copy of the official boundaries (public
administrative data) in hvaccrm/data/districts_default.geojson, made by scripts/districts_default.py
(topology kept, within tens of metres of the official lines). An operator can load the exact file
(`manage.py load_districts`), which replaces it in the database; every process picks the change up.
"""

from __future__ import annotations

import functools
import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

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

DEFAULT_GEOMETRY_FILE = Path(__file__).resolve().parent / "data" / "districts_default.geojson"


@functools.lru_cache(maxsize=1)
def default_geometries() -> dict[str, dict]:
    """GeoJSON MultiPolygon per slug from the shipped simplified official boundaries."""
    data = json.loads(DEFAULT_GEOMETRY_FILE.read_text(encoding="utf-8"))
    return {f["properties"]["slug"]: f["geometry"] for f in data["features"]}


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
        self._grid: GridDistrictIndex | None = None
        self._calls = 0

    def lookup(self, lat: float, lng: float) -> str | None:
        """The district of a point. After a few thousand lookups on the same boundaries the index
        builds a grid (about 0.3 s) whose cells mostly answer with one array read: same answers,
        several times faster; short-lived processes never pay for building it."""
        grid = self._grid
        if grid is not None:
            return grid.lookup(lat, lng)
        self._calls += 1
        if self._calls == GRID_AFTER_LOOKUPS:
            self._grid = GridDistrictIndex(self)
        return self.lookup_exact(lat, lng)

    def lookup_exact(self, lat: float, lng: float) -> str | None:
        """Prepared-geometry test of each district, smallest first (the grid's reference)."""
        for e in self.entries:
            minx, miny, maxx, maxy = e.bounds
            if minx <= lng <= maxx and miny <= lat <= maxy and shapely.contains_xy(e.geom, lng, lat):
                return e.slug
        return None

    def lookup_many(self, points: list[tuple[float, float]]) -> list[str | None]:
        """Vectorised lookup of many (lat, lng) points through the STR-tree."""
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


DEFAULT_CELL_DEG = 0.002  # about 140 m x 220 m in Warsaw


class GridDistrictIndex:
    """cells[j * nx + i] is a slug (pure cell), None (outside) or a tuple of (slug, geom) candidates."""

    def __init__(self, core: DistrictIndex, *, cell: float = DEFAULT_CELL_DEG) -> None:
        self.version = core.version
        entries = [(e.slug, e.geom) for e in core.entries]
        if not entries:
            self.x0 = self.y0 = 0.0
            self.nx = self.ny = 0
            self.inv = 1.0
            self.cells: list = []
            return
        bounds = np.array([g.bounds for _s, g in entries])
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        self.x0, self.y0, self.inv = float(x0), float(y0), 1.0 / cell
        self.nx = int(np.ceil((x1 - x0) / cell)) + 1
        self.ny = int(np.ceil((y1 - y0) / cell)) + 1
        ii, jj = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        xs, ys = x0 + ii.ravel() * cell, y0 + jj.ravel() * cell
        boxes = shapely.box(xs, ys, xs + cell, ys + cell)
        n = len(boxes)
        pure: list[str | None] = [None] * n
        candidates: list[list] = [[] for _ in range(n)]
        for slug, geom in entries:
            shapely.prepare(geom)
            touching = np.nonzero(shapely.intersects(geom, boxes))[0]
            if not len(touching):
                continue
            inside = shapely.contains_properly(geom, boxes[touching])
            for k, whole in zip(touching.tolist(), inside.tolist(), strict=True):
                if whole:
                    pure[k] = slug
                else:
                    candidates[k].append((slug, geom))
        order = {s: i for i, (s, _g) in enumerate(entries)}
        cells: list = []
        for k in range(n):
            if pure[k] is not None:
                cells.append(pure[k])
            elif candidates[k]:
                # Same order as the core index (smallest first) so ties on a border resolve alike.
                cells.append(tuple(sorted(candidates[k], key=lambda c: order[c[0]])))
            else:
                cells.append(None)
        self.cells = cells

    def lookup(self, lat: float, lng: float) -> str | None:
        i = int((lng - self.x0) * self.inv)
        j = int((lat - self.y0) * self.inv)
        if i < 0 or j < 0 or i >= self.nx or j >= self.ny:
            return None
        cell = self.cells[j * self.nx + i]
        if cell is None or cell.__class__ is str:
            return cell
        for slug, geom in cell:
            if shapely.contains_xy(geom, lng, lat):
                return slug
        return None

    def lookup_many(self, points: Sequence[tuple[float, float]]) -> list[str | None]:
        lookup = self.lookup
        return [lookup(lat, lng) for lat, lng in points]


_lock = threading.Lock()
_index: DistrictIndex | None = None
_checked_at = 0.0
VERSION_CHECK_SECONDS = 30.0
GRID_AFTER_LOOKUPS = 2000


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


EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres: enough for ranking technicians and estimating travel in a city.

    In the core because communications (alert routing) and mapping (tracking, travel times) both
    need it and may not import each other."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))
