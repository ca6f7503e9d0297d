from __future__ import annotations

import json
import random

import pytest
from shapely.geometry import Point, mapping, shape

from hvaccrm.geo import DistrictIndex, default_geometries, district_for_point, district_index_reset
from hvaccrm.tests.shared import SHARED_DATA
from mapping.geo_fast import GridDistrictIndex, district_for_point_fast
from mapping.services.districts import districts_parse

OFFICIAL = SHARED_DATA / "warsaw-districts.geojson"


def _points(n: int, seed: int = 7):
    rng = random.Random(seed)
    return [(rng.uniform(52.05, 52.40), rng.uniform(20.80, 21.32)) for _ in range(n)]


@pytest.mark.parametrize("source", ["default", "official"])
def test_the_grid_answers_exactly_as_the_core_index(source):
    if source == "official":
        geoms = {s: mapping(g) for s, g in districts_parse(data=json.loads(OFFICIAL.read_text())).items()}
    else:
        geoms = default_geometries()
    core = DistrictIndex(geoms, version="t")
    grid = GridDistrictIndex(core)
    points = _points(20_000)
    assert [grid.lookup(*p) for p in points] == [core.lookup_exact(*p) for p in points]
    # Exactly on the lines of the grid, too.
    edge = [(grid.y0 + j / grid.inv, grid.x0 + i / grid.inv) for i in range(0, grid.nx, 7) for j in range(0, grid.ny, 7)]
    assert [grid.lookup(*p) for p in edge] == [core.lookup_exact(*p) for p in edge]


@pytest.mark.django_db
def test_the_fast_lookup_follows_the_database_boundaries():
    district_index_reset()
    for lat, lng in _points(2_000, seed=3):
        assert district_for_point_fast(lat, lng) == district_for_point(lat, lng)


def test_the_shipped_default_agrees_with_the_official_boundaries_on_99_percent_of_warsaw():
    data = json.loads(OFFICIAL.read_text())
    city = next(shape(f["geometry"]) for f in data["features"] if f["properties"]["name"] == "Warszawa")
    official = DistrictIndex({s: mapping(g) for s, g in districts_parse(data=data).items()}, version="o")
    default = DistrictIndex(default_geometries(), version="d")
    rng = random.Random(11)
    minx, miny, maxx, maxy = city.bounds
    points: list[tuple[float, float]] = []
    while len(points) < 2_000:
        lng, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if city.contains(Point(lng, lat)):
            points.append((lat, lng))
    agree = sum(official.lookup_exact(*p) == default.lookup_exact(*p) for p in points)
    assert agree / len(points) >= 0.99, f"{agree}/{len(points)}"


def test_the_shipped_default_names_its_public_source_and_keeps_one_border_between_neighbours():
    from hvaccrm.geo import DEFAULT_GEOMETRY_FILE

    meta = json.loads(DEFAULT_GEOMETRY_FILE.read_text())["metadata"]
    assert "official boundaries" in meta["source"] and "public administrative data" in meta["source"]
    geoms = {s: shape(g) for s, g in default_geometries().items()}
    assert len(geoms) == 18 and all(g.is_valid for g in geoms.values())
    slugs = sorted(geoms)
    overlap = sum(geoms[a].intersection(geoms[b]).area for i, a in enumerate(slugs) for b in slugs[i + 1:])
    assert overlap < 1e-9
