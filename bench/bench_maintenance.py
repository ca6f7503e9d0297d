"""Maintenance bench: the one generator plans 60 days for 500 and for 5,000 agreements (goal: 5,000
in at most 60 s) and counts its SQL queries (must not grow with the number of agreements).

Rows are created in bulk and marked (client names start with BENCH-MAINT, is_synthetic=True,
technicians bench-maint-*); they and the visits the runs planned are removed at the end.

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_maintenance.py
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from hvaccrm.models import Agreement, Client, District, Equipment, ServiceJob, Site, Technician  # noqa: E402
from hvaccrm.services import maintenance_visits_plan  # noqa: E402

MARK = "BENCH-MAINT"
TODAY = date(2026, 2, 20)  # the cooling season starts inside the 60-day horizon
SIZES = [int(x) for x in os.environ.get("BENCH_MAINT_SIZES", "500,5000").split(",")]
GOAL_S = 60.0
User = get_user_model()


def cleanup(first_job_id: int | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        if first_job_id is not None:
            cur.execute("DELETE FROM hvaccrm_servicejob WHERE id >= %s AND period_key IS NOT NULL", [first_job_id])
        cur.execute("DELETE FROM hvaccrm_servicejob WHERE client_id IN "
                    "(SELECT id FROM hvaccrm_client WHERE name LIKE %s AND is_synthetic)", [f"{MARK}%"])
        Agreement.objects.filter(client__name__startswith=MARK, client__is_synthetic=True).delete()
        Client.objects.filter(name__startswith=MARK, is_synthetic=True).delete()
        Technician.objects.filter(user__username__startswith="bench-maint-").delete()
        User.objects.filter(username__startswith="bench-maint-").delete()


def create(n: int) -> None:
    """n clients, each with a site, two units and one agreement covering both; 3 technicians a district."""
    districts = list(District.objects.order_by("pk"))
    users = User.objects.bulk_create([User(username=f"bench-maint-{i}") for i in range(3 * len(districts))])
    Technician.objects.bulk_create([Technician(user=u, home_district=districts[i % len(districts)], skills=["split_ac"])
                                    for i, u in enumerate(users)])
    clients = Client.objects.bulk_create([Client(name=f"{MARK} {i}", is_synthetic=True) for i in range(n)])
    sites = Site.objects.bulk_create([Site(client=c, street=f"Bench {i}", district=districts[i % len(districts)],
                                           latitude=52.2, longitude=21.0) for i, c in enumerate(clients)])
    units = Equipment.objects.bulk_create([Equipment(site=s, kind=k, refrigerant="R32", refrigerant_charge_kg=Decimal("1"))
                                           for s in sites for k in ("split_ac", "heat_pump")])
    agreements = Agreement.objects.bulk_create([
        Agreement(client=c, price=Decimal("500"), starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), visits_per_year=2)
        for c in clients])
    Agreement.sites.through.objects.bulk_create([Agreement.sites.through(agreement=a, site=s)
                                                 for a, s in zip(agreements, sites, strict=True)])
    # Units were made two per site in the sites' order: unit i belongs to agreement i // 2.
    Agreement.equipment.through.objects.bulk_create([
        Agreement.equipment.through(agreement=agreements[i // 2], equipment=u) for i, u in enumerate(units)])


def run(n: int) -> tuple[float, int, dict]:
    cleanup()
    create(n)
    first = (ServiceJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    try:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = maintenance_visits_plan(today=TODAY, horizon_days=60)
            seconds = time.perf_counter() - started
        return seconds, len(ctx.captured_queries), result
    finally:
        cleanup(first)


def main() -> int:
    figures = {}
    for n in SIZES:
        seconds, queries, result = run(n)
        figures[n] = (seconds, queries)
        print(f"{n:>6} agreements: {seconds:6.2f} s, {queries} queries, {result['created']} visits planned, "
              f"{result['deferred']} deferred (district days full), over {len(result['days'])} days")
    counts = {q for _s, q in figures.values()}
    flat = len(counts) == 1
    largest = max(SIZES)
    print(f"query count flat across sizes: {'yes' if flat else 'NO'} {sorted(counts)}")
    print(f"goal {largest} agreements in <= {GOAL_S:.0f} s: {'met' if figures[largest][0] <= GOAL_S else 'MISSED'}")
    return 0 if flat and figures[largest][0] <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
