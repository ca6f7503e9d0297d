"""Changing a district's weight: checked, saved and logged with who and why in one transaction;
bad input is refused (a form error in the admin) with nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hvaccrm.errors import ServiceError
from hvaccrm.models import AccessRecord, District
from hvaccrm.services import district_weight_set

pytestmark = pytest.mark.django_db


def _trail(d: District):
    return AccessRecord.objects.filter(object_type="hvaccrm.district", object_id=str(d.pk))


def test_a_new_weight_is_saved_with_a_trail_row_saying_who_the_old_and_new_weight_and_why(administrator):
    d = District.objects.get(slug="ursus")
    before = d.weight
    district_weight_set(district=d, weight=1.25, actor=administrator, reason="more calls since spring")
    d.refresh_from_db()
    row = _trail(d).get()
    assert d.weight == 1.25 and d.cache_ttl == 300
    assert row.actor == administrator and row.action == "change" and row.fields == ["weight"]
    assert row.purpose == f"weight {before:g} -> 1.25: more calls since spring"


def test_setting_the_weight_a_district_already_has_logs_nothing(administrator):
    d = District.objects.get(slug="ursus")
    district_weight_set(district=d, weight=d.weight, actor=administrator, reason="no change")
    assert not _trail(d).exists()


@pytest.mark.parametrize(("weight", "reason", "field"), [
    (-0.5, "x", "weight"), (50.0, "x", "weight"), (float("nan"), "x", "weight"), (float("inf"), "x", "weight"),
    (1.5, "  ", "reason"),
])
def test_a_bad_weight_or_no_reason_is_refused_and_nothing_is_saved(administrator, weight, reason, field):
    d = District.objects.get(slug="ursus")
    before = d.weight
    with pytest.raises(ServiceError) as refused:
        district_weight_set(district=d, weight=weight, actor=administrator, reason=reason)
    assert field in refused.value.fields
    d.refresh_from_db()
    assert d.weight == before and not _trail(d).exists()


def _post(client, d: District, **change):
    form = {"name": d.name, "affluence_tier": d.affluence_tier, "weight": str(d.weight), "reason": "",
            "neighbours": [n.pk for n in d.neighbours.all()], **change}
    return client.post(reverse("admin:hvaccrm_district_change", args=[d.pk]), form)


def test_the_district_admin_sets_the_weight_through_the_service_with_the_reason(client, administrator):
    d = District.objects.get(slug="wesola")
    client.force_login(administrator)
    response = _post(client, d, weight="1.3", reason="new estates, many heat pumps")
    assert response.status_code == 302, response.content.decode()[:2000]
    d.refresh_from_db()
    assert d.weight == 1.3 and _trail(d).get().purpose.endswith("new estates, many heat pumps")


@pytest.mark.parametrize(("change", "field"), [
    ({"weight": "-1", "reason": "x"}, "weight"), ({"weight": "1000", "reason": "x"}, "weight"),
    ({"weight": "1.5", "reason": ""}, "reason"),
])
def test_a_bad_weight_in_the_admin_is_a_form_error_and_nothing_is_saved(client, administrator, change, field):
    d = District.objects.get(slug="wesola")
    before = d.weight
    client.force_login(administrator)
    response = _post(client, d, name="Wesoła!", **change)
    assert response.status_code == 200
    assert field in response.context_data["adminform"].form.errors
    d.refresh_from_db()
    assert (d.weight, d.name) == (before, "Wesoła") and not _trail(d).exists()


def test_other_district_fields_save_without_a_reason_or_a_trail_row(client, administrator):
    d = District.objects.get(slug="wesola")
    client.force_login(administrator)
    assert _post(client, d, affluence_tier="high").status_code == 302
    d.refresh_from_db()
    assert d.affluence_tier == "high" and not _trail(d).exists()
