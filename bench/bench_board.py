"""Day board bench: server time of /mapping/board/ for a day with 30 technicians and 200 jobs
(p50/p95, goal p95 < 300 ms) and its SQL queries, which must not grow with the jobs (goal <= 15).

Rows are created marked (technicians' users bench-board-*, clients BENCH-BOARD, is_synthetic=True) on
a day far ahead (nobody else's plan), planned once by the optimiser, and removed at the end.

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_board.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
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

from hvaccrm.geo import DISTRICTS  # noqa: E402
from hvaccrm.models import Client, District, ServiceJob, Site, Technician  # noqa: E402
from mapping.models import DayPlan  # noqa: E402
from mapping.services import day_plan  # noqa: E402

N_TECHS = int(os.environ.get("BENCH_BOARD_TECHS", 30))
N_JOBS = int(os.environ.get("BENCH_BOARD_JOBS", 200))
REQUESTS = int(os.environ.get("BENCH_BOARD_REQUESTS", 30))
MARK = "BENCH-BOARD"
DAY = timezone.localdate() + timedelta(days=400)  # nobody else plans this far ahead
User = get_user_model()


def cleanup() -> None:
    with transaction.atomic():
        DayPlan.objects.filter(day__in=[DAY, DAY + timedelta(days=1)]).delete()
        ServiceJob.objects.filter(is_synthetic=True, client__name__startswith=MARK).delete()
        Client.objects.filter(name__startswith=MARK, is_synthetic=True).delete()
        Technician.objects.filter(user__username__startswith="bench-board-").delete()
        User.objects.filter(username__startswith="bench-board-").delete()


def create(day, n_jobs: int) -> None:
    rng = random.Random(15)
    districts = list(District.objects.all())
    client = Client.objects.create(name=f"{MARK} client", is_synthetic=True)
    sites = []
    for slug, (_name, lat, lng, _tier, _w) in DISTRICTS.items():
        sites.append(Site.objects.create(client=client, street=f"{MARK} {slug}", latitude=lat + rng.uniform(-0.005, 0.005),
                                         longitude=lng + rng.uniform(-0.005, 0.005),
                                         district=next(d for d in districts if d.slug == slug)))
    tz = timezone.get_current_timezone()
    jobs = []
    for i in range(n_jobs):
        site = sites[i % len(sites)]
        start = timezone.make_aware(datetime.combine(day, clock(8 + i % 8)), tz)
        jobs.append(ServiceJob(client=client, site=site, service_type="maintenance", status="new",
                               requested_start=start, requested_end=start + timedelta(hours=2),
                               estimated_duration_min=30, latitude=site.latitude, longitude=site.longitude,
                               district=site.district, is_synthetic=True, description=f"{MARK} {i}"))
    ServiceJob.objects.bulk_create(jobs)


def main() -> int:
    setup_test_environment()
    cleanup()
    office = User.objects.create_user(username="bench-board-dispatcher", password=None, is_staff=True,
                                      is_superuser=True)
    districts = list(District.objects.all())
    for i in range(N_TECHS):
        user = User.objects.create_user(username=f"bench-board-{i}", password=None)
        Technician.objects.create(user=user, home_district=districts[i % len(districts)], shift_start=clock(8),
                                  shift_end=clock(18), skills=["split_ac"], active=True)
    http = HttpClient()
    http.force_login(office)
    try:
        figures = {}
        for day, n in ((DAY + timedelta(days=1), 20), (DAY, N_JOBS)):
            create(day, n)
            t0 = time.perf_counter()
            day_plan(day=day, reason="bench", timeout_s=float(os.environ.get("BENCH_BOARD_SOLVE_S", 5)))
            solve = time.perf_counter() - t0
            url = f"/mapping/board/?day={day.isoformat()}"
            http.get(url)  # warm caches and templates
            times = []
            for _ in range(REQUESTS):
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    response = http.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
            times.sort()
            figures[n] = {"p50_ms": round(statistics.median(times), 1),
                          "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                          "queries": len(ctx.captured_queries), "plan_s": round(solve, 1),
                          "stops": response.content.count(b'class="stop ')}
        for n, f in figures.items():
            print(f"{N_TECHS} technicians, {n} jobs: {f}")
        big = figures[N_JOBS]
        ok = big["p95_ms"] < 300 and big["queries"] <= 15 and big["queries"] == figures[20]["queries"]
        print("goal p95 < 300 ms, <= 15 queries, flat with the jobs:", "met" if ok else "NOT met")
        return 0 if ok else 1
    finally:
        cleanup()
        User.objects.filter(username="bench-board-dispatcher").delete()


if __name__ == "__main__":
    sys.exit(main())
