"""The F-gas register: the card per unit, the CSV of all units, the manager's report; staff only."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from decimal import Decimal

import pytest

from hvaccrm.models import AccessRecord, ServiceJob
from hvaccrm.register import maintenance_report, register_card, register_units
from hvaccrm.services import job_assign, job_transition
from hvaccrm.tests.factories import ClientFactory, EquipmentFactory, SiteFactory, TechnicianFactory, district

pytestmark = pytest.mark.django_db


def _intervention(unit, tech, **report):
    job = ServiceJob.objects.create(client_id=unit.site.client_id, site=unit.site, equipment=unit,
                                    service_type="maintenance", district=unit.site.district)
    job_assign(job=job, technician=tech)
    for status in ("en_route", "on_site", "completed"):
        job_transition(job=job, to_status=status, report={"refrigerant": unit.refrigerant, **report}
                       if status == "completed" else None)
    return job


@pytest.fixture
def units():
    tech = TechnicianFactory(home_district=district("mokotow"), shift_start=time(8), shift_end=time(16),
                             skills=["split_ac", "fgas_certified"])
    ours = EquipmentFactory(site=SiteFactory(client=ClientFactory(name="Biuro Alfa")), refrigerant="R410A",
                            refrigerant_charge_kg=Decimal("4.0"), serial_number="ALFA-1")
    theirs = EquipmentFactory(site=SiteFactory(client=ClientFactory(name="Sklep Beta")), refrigerant="R410A",
                              refrigerant_charge_kg=Decimal("4.0"), serial_number="BETA-1")
    first = _intervention(ours, tech, leak_check="no_leak")
    second = _intervention(ours, tech, leak_check="leak_found_repaired", refrigerant_added_kg="0.5",
                           leak_location="valve", leak_repair="valve core replaced")
    _intervention(theirs, tech, leak_check="no_leak", refrigerant_recovered_kg="1.5")
    return ours, theirs, tech, [first, second]


def test_a_units_card_holds_every_intervention_and_nothing_of_other_operators(units):
    ours, _theirs, tech, jobs = units
    card = register_card(equipment=register_units().get(pk=ours.pk))
    assert card["operator"] == "Biuro Alfa" and card["co2e_t"] == Decimal("8.35") and card["gwp"] == 2088
    assert [i["visit"] for i in card["interventions"]] == [j.pk for j in jobs]
    assert {i["certificate_number"] for i in card["interventions"]} == {tech.fgas_certificate_number}
    assert card["interventions"][1]["added_kg"] == Decimal("0.50")
    assert card["interventions"][1]["leak_location"] == "valve"


def test_the_printable_card_is_for_staff_only_and_leaves_an_access_trail(client, units, dispatcher, anna_user):
    ours, *_ = units
    client.force_login(anna_user)
    assert client.get(f"/admin/fgas-register/{ours.pk}/").status_code in (302, 404)
    client.force_login(dispatcher)
    page = client.get(f"/admin/fgas-register/{ours.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Biuro Alfa" in html and "Sklep Beta" not in html and "valve core replaced" in html
    assert AccessRecord.objects.filter(actor=dispatcher, object_id=str(ours.pk),
                                       subject_client_id=ours.site.client_id).exists()


def test_the_csv_lists_all_units_one_row_per_intervention(client, units, manager):
    ours, theirs, *_ = units
    client.force_login(manager)
    response = client.get("/admin/fgas-register.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["operator"] for r in rows].count("Biuro Alfa") == 2
    assert [r["operator"] for r in rows].count("Sklep Beta") == 1
    assert {r["unit_id"] for r in rows} >= {str(ours.pk), str(theirs.pk)}
    assert AccessRecord.objects.filter(actor=manager, action="export").exists()


def test_the_manager_report_lists_leaks_this_year(client, units, manager):
    ours, *_ = units
    report = maintenance_report(today=date.today())
    assert [r["unit"].pk for r in report["leaks"]] == [ours.pk]
    client.force_login(manager)
    assert client.get("/admin/fgas-register/").status_code == 200


def test_the_office_creates_renews_and_ends_an_agreement_in_the_admin(client, administrator):
    from hvaccrm.models import Agreement

    owner = ClientFactory()
    site = SiteFactory(client=owner)
    unit = EquipmentFactory(site=site)
    client.force_login(administrator)
    form = {"client": owner.pk, "sites": [site.pk], "equipment": [unit.pk], "visits_per_year": 1, "price": "400",
            "starts_on": "2026-06-01", "ends_on": "2026-05-01"}
    refused = client.post("/admin/hvaccrm/agreement/add/", form)
    assert refused.status_code == 200 and not Agreement.objects.exists()
    assert client.post("/admin/hvaccrm/agreement/add/", {**form, "ends_on": "2027-06-01"}).status_code == 302
    agreement = Agreement.objects.get()
    assert list(agreement.equipment.all()) == [unit]
    client.post("/admin/hvaccrm/agreement/", {"action": "renew", "_selected_action": [agreement.pk]})
    assert Agreement.objects.count() == 2
    client.post("/admin/hvaccrm/agreement/", {"action": "end_today", "_selected_action": [agreement.pk]})
    agreement.refresh_from_db()
    assert agreement.state == "ended"
    assert client.get("/admin/hvaccrm/agreement/").status_code == 200
