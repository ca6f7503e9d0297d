"""The F-gas register (CRO) reads: the card the operator must keep per unit, the CSV of all units
and the manager's report. Staff pages record who read them (hvaccrm.register_views)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from hvaccrm.models import Equipment, RefrigerantRecord
from hvaccrm.models.clients import F_GASES, GWP
from hvaccrm.models.maintenance import LeakResult

# Where the GWP values of hvaccrm.models.clients.GWP come from (100-year horizon). The register's
# CO2e uses them; a change of law means changing that one table.
GWP_SOURCES = {
    "R32": "Regulation (EU) No 517/2014, Annex I (IPCC AR4)",
    "R134a": "Regulation (EU) No 517/2014, Annex I (IPCC AR4)",
    "R410A": "Regulation (EU) No 517/2014, Annex IV method: 50% R32 + 50% R125 (AR4)",
    "R407C": "Regulation (EU) No 517/2014, Annex IV method: 23% R32 + 25% R125 + 52% R134a (AR4)",
    "R404A": "Regulation (EU) No 517/2014, Annex IV method: 44% R125 + 52% R143a + 4% R134a (AR4)",
    "R1234yf": "Regulation (EU) No 517/2014, Annex II (IPCC AR5: <1, listed as 4 in Annex IV practice)",
    "R290": "Regulation (EU) No 517/2014, Annex IV (natural refrigerant)",
    "R744": "by definition (CO2)",
}
DUE_SOON_DAYS = 30
CSV_HEADER = ["operator", "operator_nip", "site", "unit_id", "unit", "serial_number", "refrigerant", "charge_kg",
              "gwp", "co2e_t", "leak_check_interval_months", "date", "visit", "technician", "certificate_number",
              "added_kg", "recovered_kg", "leak_check_done", "leak_result", "leak_location", "repair"]


def register_units() -> QuerySet[Equipment]:
    """Units holding a fluorinated gas, with everything their card shows, in one query plus one."""
    records = RefrigerantRecord.objects.select_related("technician__user").order_by("performed_on", "id")
    return (Equipment.objects.filter(refrigerant__in=F_GASES).select_related("site__client")
            .prefetch_related(Prefetch("refrigerant_records", queryset=records)).order_by("site__client_id", "pk"))


def _technician(record: RefrigerantRecord) -> str:
    tech = record.technician
    return (tech.user.get_full_name() or tech.user.get_username()) if tech else ""


def register_card(*, equipment: Equipment) -> dict[str, Any]:
    """One unit's card: the operator, the site, the unit and every intervention on it (this unit's
    rows only, so another operator's work never appears)."""
    client, site = equipment.site.client, equipment.site
    return {
        "operator": client.name, "operator_nip": client.nip, "operator_address": client.billing_address,
        "site": site.address, "unit": equipment, "refrigerant": equipment.refrigerant,
        "charge_kg": equipment.refrigerant_charge_kg, "gwp": GWP.get(equipment.refrigerant, 0),
        "gwp_source": GWP_SOURCES.get(equipment.refrigerant, ""), "co2e_t": equipment.co2e_tonnes,
        "interval_months": equipment.leak_check_interval_months, "next_leak_check": equipment.next_leak_check_due,
        "interventions": [
            {"date": r.performed_on, "visit": r.job_id, "technician": _technician(r),
             "certificate_number": r.certificate_number, "added_kg": r.added_kg, "recovered_kg": r.recovered_kg,
             "leak_check_done": r.leak_check_done, "leak_result": r.get_leak_result_display() if r.leak_result else "",
             "leak_location": r.leak_location, "repair": r.repair}
            for r in equipment.refrigerant_records.all()
        ],
    }


def register_csv_rows() -> Iterator[list[Any]]:
    """Every F-gas unit, one row per intervention (a unit without any: one row with its data)."""
    yield CSV_HEADER
    for eq in register_units().iterator(chunk_size=500):
        card = register_card(equipment=eq)
        unit = [card["operator"], card["operator_nip"], card["site"], eq.pk, str(eq), eq.serial_number,
                card["refrigerant"], card["charge_kg"], card["gwp"], card["co2e_t"], card["interval_months"] or ""]
        if not card["interventions"]:
            yield unit + [""] * (len(CSV_HEADER) - len(unit))
        for i in card["interventions"]:
            yield unit + [i["date"], i["visit"], i["technician"], i["certificate_number"], i["added_kg"],
                          i["recovered_kg"], i["leak_check_done"], i["leak_result"], i["leak_location"], i["repair"]]


def maintenance_report(*, today: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """For managers: units whose leak check is due within 30 days, overdue ones, and units with a
    leak found this year."""
    today = today or timezone.localdate()
    due, overdue = [], []
    for eq in Equipment.objects.filter(refrigerant__in=F_GASES).select_related("site__client"):
        nxt = eq.next_leak_check_due
        if nxt is None:
            continue
        row = {"unit": eq, "client": eq.site.client.name, "next": nxt, "co2e_t": eq.co2e_tonnes}
        if nxt < today:
            overdue.append(row)
        elif nxt <= today + timedelta(days=DUE_SOON_DAYS):
            due.append(row)
    leaks = (RefrigerantRecord.objects.filter(performed_on__year=today.year,
                                              leak_result__in=[LeakResult.REPAIRED, LeakResult.NOT_REPAIRED])
             .select_related("equipment__site__client").order_by("-performed_on"))
    return {
        "due": sorted(due, key=lambda r: r["next"]), "overdue": sorted(overdue, key=lambda r: r["next"]),
        "leaks": [{"unit": r.equipment, "client": r.equipment.site.client.name, "date": r.performed_on,
                   "result": r.get_leak_result_display(), "where": r.leak_location,
                   "added_kg": r.added_kg or Decimal("0")} for r in leaks],
    }
