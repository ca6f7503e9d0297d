from __future__ import annotations

import pytest
from django.core.management import call_command
from shapely.geometry import shape

from hvaccrm.geo import DISTRICTS, default_geometries, district_for_point
from hvaccrm.models import District, Site
from hvaccrm.models.districts import DISTRICT_SLUGS, cache_tier_for_weight, weighted_priority

pytestmark = pytest.mark.django_db


def test_exactly_the_eighteen_districts_exist_after_migrate():
    assert sorted(District.objects.values_list("slug", flat=True)) == sorted(DISTRICT_SLUGS)
    assert len(DISTRICT_SLUGS) == 18 and set(DISTRICTS) == set(DISTRICT_SLUGS)


@pytest.mark.parametrize("slug", DISTRICT_SLUGS)
def test_district_of_names_the_district_of_a_point_inside_it(slug, capsys):
    point = shape(default_geometries()[slug]).representative_point()
    assert district_for_point(point.y, point.x) == slug
    call_command("district_of", str(point.y), str(point.x))
    assert capsys.readouterr().out.strip() == slug


@pytest.mark.parametrize(("lat", "lng"), [(50.0614, 19.9366), (52.4064, 16.9252), (52.30, 21.40), (0.0, 0.0)])
def test_district_of_a_point_outside_warsaw_is_none(lat, lng, capsys):
    call_command("district_of", str(lat), str(lng))
    assert capsys.readouterr().out.strip() == "none"


def test_a_site_outside_warsaw_is_kept_with_no_district_and_labelled_so(client_anna):
    site = Site.objects.create(client=client_anna, street="Rynek Główny 1", city="Kraków", latitude=50.0614, longitude=19.9366)
    assert site.district is None
    assert site.district_label in ("poza Warszawą", "outside Warsaw")


def test_every_district_has_neighbours_and_a_cache_ttl_by_the_tier_its_weight_gives():
    for d in District.objects.prefetch_related("neighbours"):
        assert d.neighbours.exists(), d.slug
        assert d.cache_ttl == {"high": 300, "medium": 600, "low": 900}[cache_tier_for_weight(d.weight)]


@pytest.mark.parametrize(("weight", "tier", "ttl"), [
    (3.0, "high", 300), (1.2, "high", 300), (1.19, "medium", 600), (1.0, "medium", 600), (0.9, "medium", 600),
    (0.89, "low", 900), (0.0, "low", 900),
])
def test_the_cache_tier_follows_the_weight_whatever_the_affluence_tier(weight, tier, ttl):
    d = District(slug="wola", affluence_tier="low", weight=weight)
    assert (d.cache_tier, d.cache_ttl) == (tier, ttl)


def test_the_weight_scales_a_jobs_priority_but_never_to_or_from_an_emergencys():
    assert weighted_priority(priority=50, weight=1.4) == 70
    assert weighted_priority(priority=50, weight=0.7) == 35
    assert weighted_priority(priority=75, weight=3.0) == 99  # below any emergency
    assert weighted_priority(priority=100, weight=0.5) == 100  # an emergency stays first anywhere
    assert weighted_priority(priority=50, weight=0.0) == 0
