from __future__ import annotations

import copy
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from hvaccrm.geo import district_for_point, district_index_reset
from hvaccrm.models import District, ServiceJob, Site
from hvaccrm.tests.factories import ServiceJobFactory, SiteFactory, district
from hvaccrm.tests.shared import SHARED_DATA
from mapping.services import districts_load, name_normalise

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English here (Polish is the default language)."""
    with translation.override("en"):
        yield

OFFICIAL = SHARED_DATA / "warsaw-districts.geojson"

# A well-known place in every district (checked against the official file).
KNOWN_PLACES = {
    "bemowo": (52.2468, 20.9110), "bialoleka": (52.3230, 20.9970), "bielany": (52.2940, 20.9300),
    "mokotow": (52.1880, 21.0230), "ochota": (52.2190, 20.9850), "praga-poludnie": (52.2350, 21.0850),
    "praga-polnoc": (52.2540, 21.0350), "rembertow": (52.2590, 21.1610), "srodmiescie": (52.2318, 21.0060),
    "targowek": (52.2780, 21.0530), "ursus": (52.1950, 20.8850), "ursynow": (52.1400, 21.0580),
    "wawer": (52.1960, 21.1760), "wesola": (52.2400, 21.2250), "wilanow": (52.1650, 21.0900),
    "wlochy": (52.1657, 20.9671), "wola": (52.2300, 20.9830), "zoliborz": (52.2690, 20.9850),
}  # fmt: skip
OUTSIDE = [(52.0810, 21.0240), (50.0600, 19.9400), (52.1700, 20.8000), (52.3330, 20.8860), (52.1050, 21.2610)]


@pytest.fixture
def official(tmp_path):
    def variant(mutate=None) -> str:
        data = json.loads(OFFICIAL.read_text(encoding="utf-8"))
        if mutate:
            mutate(data)
        path = tmp_path / "districts.geojson"
        path.write_text(json.dumps(data), encoding="utf-8")
        return str(path)

    yield variant
    district_index_reset()


def _snapshot():
    return (
        list(District.objects.order_by("slug").values_list("slug", "geometry", "geometry_source")),
        list(Site.objects.order_by("pk").values_list("pk", "district_id")),
        list(ServiceJob.objects.order_by("pk").values_list("pk", "district_id")),
    )


def test_names_are_matched_after_normalising_case_diacritics_spaces_and_hyphens():
    assert name_normalise("Praga Południe") == name_normalise("praga-poludnie") == "pragapoludnie"
    assert name_normalise("  ŻOLIBORZ ") == name_normalise("Zoliborz")
    assert name_normalise("Białołęka") == "bialoleka"


def test_every_known_place_lies_in_its_district_once_the_official_file_is_loaded(official, capsys):
    call_command("load_districts", official())
    out = capsys.readouterr().out
    assert "Loaded 18 districts" in out
    assert set(District.objects.values_list("geometry_source", flat=True)) == {"official"}
    for slug, (lat, lng) in KNOWN_PLACES.items():
        assert district_for_point(lat, lng) == slug, slug
    for lat, lng in OUTSIDE:
        assert district_for_point(lat, lng) is None
    # Neighbours follow the official borders: Śródmieście touches Wola across the boundary.
    assert "wola" in District.objects.get(slug="srodmiescie").neighbours.values_list("slug", flat=True)
    assert "wesola" not in District.objects.get(slug="srodmiescie").neighbours.values_list("slug", flat=True)


def test_loading_re_resolves_sites_and_open_jobs_and_reports_what_moved(official):
    # Placed by hand in the wrong district (as the default Voronoi cells might): Wola's roundabout.
    site = SiteFactory(latitude=52.2300, longitude=20.9830, district=district("ochota"))
    open_job = ServiceJobFactory(site=site, district=district("ochota"))
    done = ServiceJobFactory(site=site, district=district("ochota"), status="completed")
    outside = SiteFactory(latitude=52.0810, longitude=21.0240, district=district("ursynow"))
    report = districts_load(path=official())
    site.refresh_from_db()
    open_job.refresh_from_db()
    done.refresh_from_db()
    outside.refresh_from_db()
    assert site.district.slug == "wola" and open_job.district.slug == "wola"
    assert done.district.slug == "ochota"  # history is not rewritten
    assert outside.district is None
    assert {"site": site.pk, "from": "ochota", "to": "wola"} in report["sites_moved"]
    assert {"site": outside.pk, "from": "ursynow", "to": None} in report["sites_moved"]
    assert report["jobs_moved"] == [{"job": open_job.pk, "from": "ochota", "to": "wola"}]


def _self_intersecting(data):
    feature = next(f for f in data["features"] if f["properties"]["name"] == "Wola")
    ring = feature["geometry"]["coordinates"][0][0]
    ring[1], ring[len(ring) // 2] = copy.deepcopy(ring[len(ring) // 2]), copy.deepcopy(ring[1])


def _swapped_axes(data):
    feature = next(f for f in data["features"] if f["properties"]["name"] == "Ochota")
    feature["geometry"]["coordinates"] = [[[[y, x] for x, y in ring] for ring in poly] for poly in feature["geometry"]["coordinates"]]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_self_intersecting, "Wola: invalid geometry"),
        (_swapped_axes, "Ochota: coordinates are not in Warsaw"),
        (lambda d: d["features"].pop(3), "Districts missing from the file: Bemowo"),
        (lambda d: d["features"][2]["properties"].update(name="Atlantyda"), "is not a Warsaw district"),
        (lambda d: d.update(type="Feature"), "not a GeoJSON FeatureCollection"),
        (lambda d: d["features"][2].update(geometry={"type": "Point", "coordinates": [21.0, 52.2]}), "non-empty (Multi)Polygon"),
    ],
)
def test_a_broken_file_is_refused_with_a_clear_message_and_changes_nothing(official, mutate, expected):
    site = SiteFactory(latitude=52.2300, longitude=20.9830, district=district("ochota"))
    ServiceJobFactory(site=site, district=district("ochota"))
    before = _snapshot()
    with pytest.raises(CommandError) as exc:
        call_command("load_districts", official(mutate))
    assert "Nothing changed" in str(exc.value) and expected in str(exc.value)
    assert _snapshot() == before


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot be read as JSON"):
        call_command("load_districts", str(path))


def test_the_refusal_is_in_polish_by_default(official):
    with translation.override("pl"), pytest.raises(CommandError) as exc:
        call_command("load_districts", official(_swapped_axes))
    assert "Nic nie zmieniono" in str(exc.value) and "Ochota: współrzędne nie leżą w Warszawie" in str(exc.value)
