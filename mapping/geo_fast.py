"""The fast district lookup now lives in the core (hvaccrm.geo.GridDistrictIndex): every app gets
it through district_for_point. These names stay for the mapping benchmark and tests."""

from __future__ import annotations

from hvaccrm.geo import DEFAULT_CELL_DEG, GridDistrictIndex, district_for_point, district_index

__all__ = ["DEFAULT_CELL_DEG", "GridDistrictIndex", "district_for_point_fast", "fast_index"]


def fast_index() -> GridDistrictIndex:
    """A grid for the core index in force."""
    return GridDistrictIndex(district_index())


def district_for_point_fast(lat: float, lng: float) -> str | None:
    return district_for_point(lat, lng)
