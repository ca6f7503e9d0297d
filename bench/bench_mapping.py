"""Mapping's figures: district lookups per second, a realistic day (12 technicians x 120 jobs) against
a nearest-neighbour baseline, the Solomon VRPTW instances against their best known distances, and GPS
pings ingested per second through the socket with pushes to the dispatch room.

    python bench/bench_mapping.py            # Solomon: a representative subset (one or two per class)
    python bench/bench_mapping.py --all      # Solomon: all 56 instances (several minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from shapely.geometry import mapping  # noqa: E402

from hvaccrm.geo import DISTRICTS, DistrictIndex, default_geometries  # noqa: E402
from mapping import conf, solver, travel  # noqa: E402
from mapping.geo_fast import GridDistrictIndex  # noqa: E402
from mapping.services.districts import districts_parse  # noqa: E402
from mapping.solomon import instance_read, solution_distance  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
SUBSET = ["C101", "C105", "C201", "C205", "R101", "R105", "R201", "R205", "RC101", "RC105", "RC201", "RC205"]


def bench_lookup() -> None:
    rng = random.Random(42)
    points = [(rng.uniform(52.09, 52.37), rng.uniform(20.85, 21.28)) for _ in range(200_000)]
    sources = {"default": default_geometries()}
    official = SHARED / "warsaw-districts.geojson"
    if official.exists():
        data = json.loads(official.read_text(encoding="utf-8"))
        sources["official"] = {s: mapping(g) for s, g in districts_parse(data=data).items()}
    for name, geoms in sources.items():
        core = DistrictIndex(geoms, version=name)
        t = time.perf_counter()
        grid = GridDistrictIndex(core)
        build = time.perf_counter() - t
        t = time.perf_counter()
        expected = [core.lookup_exact(lat, lng) for lat, lng in points]
        core_rate = len(points) / (time.perf_counter() - t)
        t = time.perf_counter()
        many = core.lookup_many(points)
        many_rate = len(points) / (time.perf_counter() - t)
        lookup = grid.lookup
        t = time.perf_counter()
        got = [lookup(lat, lng) for lat, lng in points]
        grid_rate = len(points) / (time.perf_counter() - t)
        agree = sum(a == b for a, b in zip(expected, got, strict=True))
        print(f"district lookup [{name} boundaries]: exact prepared geometries (baseline) {core_rate:,.0f} points/s; "
              f"vectorised lookup_many {many_rate:,.0f} points/s; grid (district_for_point's path) {grid_rate:,.0f} points/s "
              f"(built in {build * 1000:.0f} ms, {grid.nx}x{grid.ny} cells); agreement {agree}/{len(points)}; "
              f"vectorised agrees {sum(a == b for a, b in zip(expected, many, strict=True))}/{len(points)}")


def realistic_day(seed: int):
    """12 technicians from their home districts, 120 jobs spread by district weight, shifts 8-18."""
    rng = random.Random(seed)
    slugs = list(DISTRICTS)
    weights = [DISTRICTS[s][4] for s in slugs]
    kinds = ["split_ac", "multi_split", "heat_pump", "gas_boiler", "ventilation", "chiller"]
    points, districts = [], []
    techs = []
    for k in range(12):
        slug = slugs[k % len(slugs)]
        points.append((DISTRICTS[slug][1], DISTRICTS[slug][2]))
        districts.append(slug)
        skills = set(rng.sample(kinds, 4)) | ({"fgas_certified"} if k % 3 else set())
        techs.append(dict(loc=k, skills=frozenset(skills)))
    jobs = []
    for i in range(120):
        slug = rng.choices(slugs, weights)[0]
        lat = DISTRICTS[slug][1] + rng.uniform(-0.012, 0.012)
        lng = DISTRICTS[slug][2] + rng.uniform(-0.018, 0.018)
        points.append((lat, lng))
        districts.append(slug)
        need = {rng.choice(kinds[:5])} | ({"fgas_certified"} if rng.random() < 0.25 else set())
        if rng.random() < 0.3:
            window = (8 * 3600, 18 * 3600)
        else:
            start = rng.choice([8, 9, 10, 11, 12, 13, 14]) * 3600
            window = (start, start + rng.choice([2, 3, 4]) * 3600)
        urgent = rng.random() < 0.05
        jobs.append(solver.Job(id=i + 1, location=12 + i, service=rng.choice([20, 30, 30, 45, 45, 60]) * 60,
                               windows=(window,), skills=frozenset(need), priority=100 if urgent else 50))
    matrix = travel.matrix_haversine(points, districts)
    vehicles = [solver.Vehicle(id=k + 1, start=t["loc"], end=t["loc"], shift=(8 * 3600, 18 * 3600),
                               skills=t["skills"], max_jobs=12) for k, t in enumerate(techs)]
    return vehicles, jobs, matrix


def bench_day(runs: int) -> None:
    times, ratios, unassigned, nn_unassigned, per_job = [], [], [], [], []
    for seed in range(runs):
        vehicles, jobs, matrix = realistic_day(seed)
        t = time.perf_counter()
        best = solver.solve(vehicles, jobs, matrix, exploration_level=conf.ROUTE_EXPLORATION_LEVEL, threads=1)
        times.append(time.perf_counter() - t)
        nn = solver.nearest_neighbour(vehicles, jobs, matrix)
        ratios.append(best.travel / nn.travel)
        served, nn_served = len(jobs) - len(best.unassigned), len(jobs) - len(nn.unassigned)
        per_job.append((best.travel / served) / (nn.travel / nn_served))
        unassigned.append(len(best.unassigned))
        nn_unassigned.append(len(nn.unassigned))
    print(f"realistic day (12 technicians x 120 jobs, windows, skills, max 12 jobs, {runs} seeded days, "
          f"exploration level {conf.ROUTE_EXPLORATION_LEVEL} as in production): "
          f"median solve {statistics.median(times):.2f} s (worst {max(times):.2f} s); "
          f"travel vs nearest-neighbour median {statistics.median(ratios):.3f} (worst {max(ratios):.3f}); "
          f"travel per served job vs NN {statistics.median(per_job):.3f}; "
          f"unassigned median {statistics.median(unassigned):.0f} (max {max(unassigned)}) vs NN {statistics.median(nn_unassigned):.0f}")


def bench_solomon(names: list[str], level: int, cap: float | None, threads: int) -> None:
    folder = SHARED / "vrptw" / "solomon"
    if not folder.exists():
        print("solomon: shared data not found, skipped")
        return
    bks = json.loads((SHARED / "vrptw" / "BKS.json").read_text())
    gaps, times = [], []
    for name in names:
        vehicles, jobs, matrix, coords = instance_read(folder / f"{name}.txt")
        t = time.perf_counter()
        sol = solver.solve(vehicles, jobs, matrix, exploration_level=level, threads=threads, timeout_s=cap)
        elapsed = time.perf_counter() - t
        dist = solution_distance(sol, jobs, coords)
        best = bks[f"{name}_distance"]["best_known_cost"]
        gap = 100 * (dist - best) / best
        gaps.append(gap)
        times.append(elapsed)
        print(f"  {name}: distance {dist:.2f} vs best {best:.2f} gap {gap:+.2f} %, {len(sol.routes)} routes, "
              f"{len(sol.unassigned)} unassigned, {elapsed:.2f} s", flush=True)
    print(f"solomon ({len(names)} instances{' of 56' if len(names) < 56 else ''}, exploration {level}, {threads} thread(s)"
          f"{f', time cap {cap:g} s' if cap else ''}): average gap {statistics.mean(gaps):.2f} %, "
          f"worst {max(gaps):.2f} %; time median {statistics.median(times):.2f} s, worst {max(times):.2f} s")


def bench_pings(devices: int, per_device: int) -> None:
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from hvaccrm.asgi import application
    from hvaccrm.models import District, Technician
    from hvaccrm.realtime.tickets import ticket_issue
    from mapping.models import LocationPing

    settings.WS_RATE_LIMIT = 10**9  # the bench measures ingestion, not the per-socket rate limit
    User = get_user_model()
    prefix = "bench-mapping-"
    User.objects.filter(username__startswith=prefix).delete()
    mokotow = District.objects.get(slug="mokotow")
    techs = []
    for k in range(devices):
        user = User.objects.create(username=f"{prefix}tech{k}")
        techs.append(Technician.objects.create(user=user, home_district=mokotow, on_shift=True,
                                               shift_start=timezone.datetime.min.time(),
                                               shift_end=timezone.datetime.max.time().replace(microsecond=0)))
    office = User.objects.create(username=f"{prefix}dispatcher", is_staff=True)
    office.groups.add(Group.objects.get_or_create(name="dispatcher")[0])

    async def connect(user):
        ticket = await sync_to_async(ticket_issue)(user_id=user.pk)
        comm = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
        ok, _ = await comm.connect()
        assert ok
        await comm.receive_from(timeout=5)  # hello
        return comm

    async def device(tech, start):
        comm = await connect(tech.user)
        stored = 0
        for i in range(per_device):
            frame = {"type": "location.ping", "id": str(i), "data": {
                "latitude": 52.19 + i * 0.00005, "longitude": 21.02, "accuracy": 8, "speed": 6, "heading": 0,
                "device_time": (start + timedelta(seconds=i)).isoformat(), "seq": i + 1}}
            await comm.send_to(text_data=json.dumps(frame))
            while True:
                reply = json.loads(await comm.receive_from(timeout=10))
                if reply.get("id") == str(i):
                    stored += reply["type"] == "ack" and reply["data"].get("stored", False)
                    break
        await comm.disconnect()
        return stored

    async def run():
        watcher = await connect(office)
        start = timezone.now() - timedelta(seconds=per_device + 5)
        t = time.perf_counter()
        stored = await asyncio.gather(*(device(tech, start) for tech in techs))
        elapsed = time.perf_counter() - t
        pushes = 0
        # receive_nothing waits without cancelling the app (a receive timeout would kill it)
        while not await watcher.receive_nothing(timeout=1):
            msg = json.loads(await watcher.receive_from())
            pushes += msg.get("type") == "location.updated"
        await watcher.disconnect()
        return sum(stored), elapsed, pushes

    try:
        stored, elapsed, pushes = asyncio.run(run())
        total = devices * per_device
        print(f"GPS pings through the socket ({devices} devices x {per_device} pings, each acked before the next): "
              f"{total / elapsed:,.0f} pings/s, {stored}/{total} stored; {pushes} location.updated pushes reached "
              f"dispatch in {elapsed:.1f} s (throttled to 1/s per technician)")
    finally:
        LocationPing.objects.filter(technician__in=techs).delete()
        User.objects.filter(username__startswith=prefix).delete()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true", help="all 56 Solomon instances instead of the subset")
    parser.add_argument("--level", type=int, default=5, help="VROOM exploration level for Solomon")
    parser.add_argument("--cap", type=float, default=7.5, help="time cap per Solomon instance (s); 0 = none")
    parser.add_argument("--threads", type=int, default=2, help="solver threads for Solomon (the machine has 2 cores)")
    parser.add_argument("--days", type=int, default=5, help="seeded realistic days")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: lookup,day,solomon,pings")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if "lookup" not in skip:
        bench_lookup()
    if "day" not in skip:
        bench_day(args.days)
    if "solomon" not in skip:
        folder = SHARED / "vrptw" / "solomon"
        names = sorted(p.stem for p in folder.glob("*.txt")) if args.all else SUBSET
        if not args.all:
            print(f"solomon: representative subset of {len(SUBSET)} (run with --all for the 56)")
        bench_solomon(names, args.level, args.cap or None, args.threads)
    if "pings" not in skip:
        bench_pings(devices=4, per_device=250)
    return 0


if __name__ == "__main__":
    sys.exit(main())
