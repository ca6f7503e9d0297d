from __future__ import annotations

import json
import random

import pytest
from shapely.geometry import mapping

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
