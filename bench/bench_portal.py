"""Portal bench: server time of the client dashboard and the visits list with 10,000 clients and
100,000 jobs in the database (p50/p95, goal p95 < 100 ms), and SQL queries per page for a client
with few and with many objects (must be equal).

Rows are created in bulk, marked (client names start with BENCH-PORTAL, is_synthetic=True, users
named bench-portal-*), and removed at the end. The access-trail entries the page views write stay:
the trail is append-only by design (a database trigger refuses deletes).

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_portal.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("AXES_ENABLED", "false")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from hvaccrm.models import Client, District, Equipment, ServiceJob, Site, Technician  # noqa: E402

N_CLIENTS = int(os.environ.get("BENCH_PORTAL_CLIENTS", 10_000))
N_JOBS = int(os.environ.get("BENCH_PORTAL_JOBS", 100_000))
N_USERS = 20  # clients with a portal login whose pages are timed
HEAVY_JOBS = 200  # each timed client has this many visits (the rest is spread over everyone else)
REQUESTS = 10  # per timed client and page
MARK = "BENCH-PORTAL"
User = get_user_model()


def cleanup() -> None:
    """Remove the marked rows. Jobs go by SQL: the ORM's cascade collector would load all 100,000."""
    with transaction.atomic():
        clients = Client.objects.filter(name__startswith=MARK, is_synthetic=True)
        with connection.cursor() as cur:
            cur.execute("DELETE FROM hvaccrm_servicejob WHERE is_synthetic AND client_id IN "
                        "(SELECT id FROM hvaccrm_client WHERE name LIKE %s AND is_synthetic)", [f"{MARK}%"])
        clients.delete()  # sites, equipment, consents cascade
        Technician.objects.filter(user__username__startswith="bench-portal-").delete()
        User.objects.filter(username__startswith="bench-portal-").delete()


def create() -> tuple[list, Client, Client]:
    rng = random.Random(7)
    districts = list(District.objects.all()) or [None]
    tech_user = User.objects.create(username="bench-portal-tech", first_name="Tomasz", last_name="Bench")
    tech = Technician.objects.create(user=tech_user, home_district=districts[0] if districts[0] else District.objects.first())
    clients = Client.objects.bulk_create(
        [Client(name=f"{MARK} {i:05d}", email=f"bench{i}@portal.bench", is_synthetic=True) for i in range(N_CLIENTS)],
        batch_size=2000)
    sites = Site.objects.bulk_create(
        [Site(client=c, street=f"ul. Benchowa {i}", postal_code="00-001", district=districts[i % len(districts)],
              latitude=52.2, longitude=21.0) for i, c in enumerate(clients)], batch_size=2000)
    units = Equipment.objects.bulk_create(
        [Equipment(site=s, kind="split_ac", brand="Daikin", model="FTXM35", refrigerant="R32",
                   refrigerant_charge_kg=1.2, installed_on=timezone.localdate() - timedelta(days=900),
                   last_maintenance_on=timezone.localdate() - timedelta(days=200)) for s in sites], batch_size=2000)
    heavy = list(range(N_USERS))
    now = timezone.now()
    jobs = []
    for i in heavy:  # the timed clients: HEAVY_JOBS visits each, mixed statuses over ten months
        for n in range(HEAVY_JOBS):
            status = ["completed", "completed", "completed", "cancelled", "new", "scheduled"][n % 6]
            start = now + timedelta(hours=rng.randint(-24 * 300, 24 * 30))
            jobs.append(ServiceJob(
                client_id=clients[i].pk, site_id=sites[i].pk, equipment_id=units[i].pk, service_type="maintenance",
                status=status, source="portal", description="bench", is_synthetic=True,
                technician=tech if status == "scheduled" else None,
                scheduled_start=start if status != "new" else None,
                scheduled_end=start + timedelta(hours=2) if status != "new" else None,
                requested_start=start, requested_end=start + timedelta(hours=4),
                completed_at=start if status == "completed" else None, district_id=sites[i].district_id))
    ServiceJob.objects.bulk_create(jobs, batch_size=5000)
    # Everyone else's visits in one INSERT ... SELECT (far faster than building 100,000 objects).
    light = N_USERS  # a client with only three visits: its pages must cost the same number of queries
    heavy_ids = [clients[i].pk for i in heavy] + [clients[light].pk]
    ServiceJob.objects.bulk_create([ServiceJob(
        client_id=clients[light].pk, site_id=sites[light].pk, service_type="repair", status=status, source="portal",
        is_synthetic=True, requested_start=now + timedelta(days=d), requested_end=now + timedelta(days=d, hours=4),
        completed_at=now if status == "completed" else None) for d, status in ((-30, "completed"), (3, "new"), (-60, "cancelled"))])
    with connection.cursor() as cur:
        cur.execute("""
            WITH bench AS (
                SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id AS client_id, s.id AS site_id,
                       e.id AS equipment_id, s.district_id
                FROM hvaccrm_client c JOIN hvaccrm_site s ON s.client_id = c.id JOIN hvaccrm_equipment e ON e.site_id = s.id
                WHERE c.name LIKE %(mark)s AND c.is_synthetic AND NOT (c.id = ANY(%(heavy)s))),
            total AS (SELECT count(*) AS n FROM bench),
            g AS (SELECT i, (ARRAY['completed','completed','completed','cancelled','new','scheduled'])[1 + i %% 6] AS status,
                         now() + ((i * 37) %% (24 * 330) - 24 * 300) * interval '1 hour' AS start
                  FROM generate_series(1, %(n)s) i)
            INSERT INTO hvaccrm_servicejob (client_id, site_id, equipment_id, service_type, urgency, priority, description,
                status, source, technician_id, estimated_duration_min, report, is_synthetic, created_at, updated_at,
                requested_start, requested_end, scheduled_start, scheduled_end, completed_at, district_id)
            SELECT b.client_id, b.site_id, b.equipment_id, 'maintenance', 'normal', 50, 'bench', g.status, 'portal',
                   CASE WHEN g.status = 'scheduled' THEN %(tech)s END, 60, '{}'::jsonb, true, now(), now(),
                   g.start, g.start + interval '4 hours',
                   CASE WHEN g.status <> 'new' THEN g.start END, CASE WHEN g.status <> 'new' THEN g.start + interval '2 hours' END,
                   CASE WHEN g.status = 'completed' THEN g.start END, b.district_id
            FROM g JOIN bench b ON b.rn = 1 + (g.i * 7919) %% (SELECT n FROM total)
        """, {"mark": f"{MARK}%", "heavy": heavy_ids, "n": N_JOBS - len(heavy) * HEAVY_JOBS, "tech": tech.pk})
    users = []
    for i in heavy:
        user = User.objects.create(username=f"bench-portal-{i}", email=f"bench{i}@portal.bench")
        clients[i].users.add(user)
        users.append(user)
    light_index = light
    light_user = User.objects.create(username="bench-portal-light", email="light@portal.bench")
    clients[light_index].users.add(light_user)
    return users, light_user, clients[light_index]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def measure(users, path: str) -> list[float]:
    times = []
    for user in users:
        http = HttpClient()
        http.force_login(user)
        assert http.get(path).status_code == 200  # warm-up
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = http.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    return times


def queries(user, path: str) -> int:
    http = HttpClient()
    http.force_login(user)
    http.get(path)
    with CaptureQueriesContext(connection) as ctx:
        http.get(path)
    return len(ctx.captured_queries)


def main() -> int:
    setup_test_environment()
    cleanup()
    started = time.monotonic()
    try:
        users, light_user, _ = create()
        with connection.cursor() as cur:
            cur.execute("ANALYZE hvaccrm_servicejob; ANALYZE hvaccrm_client; ANALYZE hvaccrm_site; ANALYZE hvaccrm_equipment")
        print(f"load average before timing: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"portal bench data: {Client.objects.count()} clients, {ServiceJob.objects.count()} jobs in the database "
              f"(created in {time.monotonic() - started:.1f} s)")
        ok = True
        for label, path in (("dashboard", "/portal/"), ("visits list", "/portal/visits/"),
                            ("past visits", "/portal/visits/?show=past")):
            times = measure(users, path)
            p95 = pct(times, 95)
            heavy_q, light_q = queries(users[0], path), queries(light_user, path)
            print(f"portal {label}: n={len(times)} p50={statistics.median(times):.1f} ms p95={p95:.1f} ms "
                  f"max={max(times):.1f} ms (goal p95 < 100 ms: {'ok' if p95 < 100 else 'MISSED'})")
            print(f"portal {label} SQL queries: {light_q} for a client with <=5 visits, {heavy_q} for a client with "
                  f"{HEAVY_JOBS} visits ({'constant' if heavy_q == light_q else 'GROWS'})")
            ok = ok and heavy_q == light_q
        return 0 if ok else 1
    finally:
        cleanup()
        print(f"portal bench rows removed; total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
