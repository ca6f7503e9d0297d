"""Mapping's figures: district lookups per second, a realistic day (12 technicians x 120 jobs) against
the old core, the Solomon VRPTW instances against their best known distances (old core VROOM and the
PyVRP core side by side), and GPS pings ingested per second through the socket with pushes to the
dispatch room.

    python bench/bench_mapping.py            # Solomon: the tuning subset (one or two per class)
    python bench/bench_mapping.py --all      # Solomon: the subset, then the 44 held out (about 12 min
                                             # quiet: days 4 min, Solomon 6 min, lookup and pings 1 min)
    python bench/bench_mapping.py --cpu ...  # caps in CPU seconds of the process (a loaded machine)

Realistic days give both cores the same cap, ROUTE_TIMEOUT_S; the old core stops once converged.
Days of tuning seeds (0, 1, ...) and of held-out seeds (100, 101, ...) are reported apart.
Solomon gaps are on the unscaled Euclidean distance of the returned routes.
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
from mapping.solver import search as solver_search  # noqa: E402
from mapping.solver_vroom import solve_vroom  # noqa: E402
from mapping.tests.validator import violations  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
# The knobs (time cap, convergence) were tuned on this subset only; the other 44 are reported apart.
# Realistic days: the knobs were tuned on days of these seeds (TUNING_DAY_SEEDS[:n]); HELD_OUT_DAY_SEEDS are reported apart.
TUNING_DAY_SEEDS = list(range(0, 50))
HELD_OUT_DAY_SEEDS = list(range(100, 150))
# Stored distance-only bests that lie below the proven optimum under one-decimal truncated distances
# (branch-and-price, vroom-scripts' BKS.json keys "R109.100" 1146.9 and "RC103.100" 1258, comment
# "CR+KLM"): truncation only shortens edges, so that optimum is a lower bound for exact distances and
# the stored value cannot be reached. The file is read as it is; the bench reports the gap against it
# and, apart, the worst gap without these instances (docs/mapping.md, "R109 and RC103").
BELOW_PROVEN_FLOOR = {"R109": 1146.9, "RC103": 1258.0}
CPU = False  # --cpu: budgets in CPU seconds of this process (PyVRP's clock), for a loaded machine
OLD_CAP_FACTOR = 1  # --cpu: the old core's wall-clock cap is stretched so that load does not cut it short
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


def realistic_day(seed: int, *, techs: int = 12, n_jobs: int = 120):
    """Technicians from their home districts, jobs spread by district weight, shifts 8-18 (a third of
    them 10-18 or 12-20, so routes cross the hour bands), windows, skills, urgent jobs. Returns the
    averaged-day matrix the old core planned with and the hour bands."""
    rng = random.Random(seed)
    slugs = list(DISTRICTS)
    weights = [DISTRICTS[s][4] for s in slugs]
    kinds = ["split_ac", "multi_split", "heat_pump", "gas_boiler", "ventilation", "chiller"]
    points, districts = [], []
    crew = []
    for k in range(techs):
        slug = slugs[k % len(slugs)]
        points.append((DISTRICTS[slug][1] + rng.uniform(-0.01, 0.01), DISTRICTS[slug][2] + rng.uniform(-0.01, 0.01)))
        districts.append(slug)
        skills = set(rng.sample(kinds, 4)) | ({"fgas_certified"} if k % 3 else set())
        begin = [8, 8, 10, 12][k % 4]
        crew.append(dict(loc=k, skills=frozenset(skills), shift=(begin * 3600, (begin + (10 if begin == 8 else 8)) * 3600)))
    jobs = []
    for i in range(n_jobs):
        slug = rng.choices(slugs, weights)[0]
        lat = DISTRICTS[slug][1] + rng.uniform(-0.012, 0.012)
        lng = DISTRICTS[slug][2] + rng.uniform(-0.018, 0.018)
        points.append((lat, lng))
        districts.append(slug)
        need = {rng.choice(kinds[:5])} | ({"fgas_certified"} if rng.random() < 0.25 else set())
        if rng.random() < 0.3:
            window = (8 * 3600, 18 * 3600)
        else:
            start = rng.choice([8, 9, 10, 11, 12, 13, 14, 15, 16]) * 3600
            window = (start, start + rng.choice([2, 3, 4]) * 3600)
        urgent = rng.random() < 0.05
        jobs.append(solver.Job(id=i + 1, location=techs + i, service=rng.choice([20, 30, 30, 45, 45, 60]) * 60,
                               windows=(window,), skills=frozenset(need), priority=100 if urgent else 50))
    matrix = travel.matrix_haversine(points, districts)
    bands = travel.bands_haversine(points, districts)
    vehicles = [solver.Vehicle(id=k + 1, start=t["loc"], end=t["loc"], shift=t["shift"], skills=t["skills"],
                               max_jobs=12) for k, t in enumerate(crew)]
    return vehicles, jobs, matrix, bands


def _under_real_times(vehicles, solution, jobs, bands) -> tuple[int, solver.Solution]:
    """A plan made with one averaged matrix, re-timed with the hour-dependent times: how many of its
    stops they make impossible, and the plan without them (travel in real times)."""
    by_v = {v.id: v for v in vehicles}
    by_j = {j.id: j for j in jobs}
    timed = [solver.schedule(by_v[r.vehicle], [by_j[s.job] for s in r.stops], bands) for r in solution.routes]
    routes = [plan for plan, _dropped in timed]
    kept = {s.job for plan in routes for s in plan.stops}
    return (sum(len(dropped) for _plan, dropped in timed),
            solver.Solution(routes=routes, unassigned={j.id: "late" for j in jobs if j.id not in kept},
                            travel=sum(plan.travel for plan in routes)))


def bench_days(seeds: list[int], techs: int, n_jobs: int, label: str) -> dict:
    """Old core (VROOM level 3) and PyVRP under the same cap, ROUTE_TIMEOUT_S: the old core stops on
    its own once its search has converged (a longer cap or level 5 do not help it); PyVRP, an anytime
    search, uses the whole cap, and is also shown stopped at the old core's own time. With --cpu the
    cap is CPU seconds of this process (PyVRP's clock; the old core converges well within it)."""
    cap = conf.ROUTE_TIMEOUT_S
    rows = []
    for seed in seeds:
        vehicles, jobs, matrix, bands = realistic_day(seed, techs=techs, n_jobs=n_jobs)
        t, c = time.perf_counter(), time.process_time()
        old = solve_vroom(vehicles, jobs, matrix, exploration_level=3, threads=1, timeout_s=cap * OLD_CAP_FACTOR)
        old_s, old_cpu = time.perf_counter() - t, time.process_time() - c
        runs_ = {}
        for key, tt, budget in (("short", matrix, max(old_cpu if CPU else old_s, 0.5)), ("new", matrix, cap),
                                ("timed", bands, cap)):
            t, c = time.perf_counter(), time.process_time()
            runs_[key] = solver.solve(vehicles, jobs, tt, timeout_s=budget, converged_iterations=None, seed=seed)
            runs_[key + "_s"], runs_[key + "_cpu"] = time.perf_counter() - t, time.process_time() - c
        bad = (violations(vehicles, jobs, matrix, old) + violations(vehicles, jobs, matrix, runs_["new"])
               + violations(vehicles, jobs, matrix, runs_["short"]) + violations(vehicles, jobs, bands, runs_["timed"]))
        late, old_timed = _under_real_times(vehicles, old, jobs, bands)
        rows.append(dict(old=old, old_s=old_s, old_cpu=old_cpu, bad=len(bad), n=len(jobs), **runs_,
                         old_late=late, old_timed=old_timed))
    _days_report(rows, techs, n_jobs, cap, f"{label}, seeds {seeds[0]}-{seeds[-1]}")
    return {"ratio": [r["new"].travel / r["old"].travel for r in rows]}


def _days_report(rows: list[dict], techs: int, n_jobs: int, cap: float, label: str) -> None:
    def served(r, key):
        return r["n"] - len(r[key].unassigned)

    def line(key: str, title: str, base: str = "old") -> str:
        ratio = [r[key].travel / r[base].travel for r in rows]
        per_job = [(r[key].travel / served(r, key)) / (r[base].travel / served(r, base)) for r in rows]
        fewer = sum(served(r, key) < served(r, base) for r in rows)
        return (f"  {title}: time median {statistics.median(r[key + '_s'] for r in rows):.2f} s "
                f"(CPU {statistics.median(r[key + '_cpu'] for r in rows):.2f} s); served "
                f"{statistics.mean(served(r, key) for r in rows):.1f} (fewer than the old plan on {fewer} days); "
                f"travel vs old plan median {statistics.median(ratio):.3f} (worst {max(ratio):.3f}); "
                f"per served job {statistics.median(per_job):.3f}")

    print(f"realistic day ({techs} technicians x {n_jobs} jobs, {len(rows)} seeded days: {label}; windows, skills, "
          f"max 12 jobs, shifts 8-18/10-18/12-20; cap ROUTE_TIMEOUT_S = {cap:g} {'CPU ' if CPU else ''}s for both cores):\n"
          f"  old core (VROOM level 3): time median {statistics.median(r['old_s'] for r in rows):.2f} s "
          f"(CPU {statistics.median(r['old_cpu'] for r in rows):.2f} s); "
          f"served {statistics.mean(served(r, 'old') for r in rows):.1f} jobs; "
          f"{statistics.mean(r['old_late'] for r in rows):.1f} stops per day late under the hour-dependent times "
          f"(re-timed without them: served {statistics.mean(served(r, 'old_timed') for r in rows):.1f})\n"
          + line("new", "PyVRP, same cap and matrix") + "\n"
          + line("short", "PyVRP stopped at the old core's own time") + "\n"
          + line("timed", "PyVRP with hour bands vs the old plan re-timed (both in real times)", "old_timed") + "\n"
          f"  validator violations (all four): {sum(r['bad'] for r in rows)}")


def bench_solomon(names: list[str], cap: float, label: str, folder: Path | None = None,
                  bks_file: Path | None = None) -> None:
    """Old core and PyVRP on Solomon-format instances. The shared Solomon set is compared with the
    distance-only bests (`<name>_distance`); another folder (`--vrptw-dir`, e.g. vroom-scripts'
    homberger_200 with its BKS.json) with the bests stored under the instance's own name, which for
    those families are hierarchical (fewest vehicles first), so a distance-only solver may go below."""
    folder = folder or SHARED / "vrptw" / "solomon"
    if not folder.exists():
        print(f"{folder}: instances not found, skipped")
        return
    bks = json.loads((bks_file or SHARED / "vrptw" / "BKS.json").read_text())
    results: dict[str, dict[str, list[float]]] = {k: {"gap": [], "time": [], "sound": []} for k in ("old", "new")}
    bad = 0
    for name in names:
        vehicles, jobs, matrix, coords = instance_read(folder / f"{name}.txt")
        best = bks[f"{name}_distance" if f"{name}_distance" in bks else name]["best_known_cost"]
        floor = BELOW_PROVEN_FLOOR.get(name)
        line = [f"  {name}{f' (stored best {best} below the proven floor {floor})' if floor and best < floor else ''}:"]
        for key in ("old", "new"):
            t, c = time.perf_counter(), time.process_time()
            if key == "old":
                sol = solve_vroom(vehicles, jobs, matrix, exploration_level=3, threads=1, timeout_s=cap * OLD_CAP_FACTOR)
            else:
                sol = solver.solve(vehicles, jobs, matrix, timeout_s=cap, required=True, converged_iterations=None)
            elapsed = (time.process_time() - c) if CPU else (time.perf_counter() - t)
            bad += len(violations(vehicles, jobs, matrix, sol)) + len(sol.unassigned)
            gap = 100 * (solution_distance(sol, jobs, coords) - best) / best
            results[key]["gap"].append(gap)
            results[key]["sound"].extend([] if floor and best < floor else [gap])
            results[key]["time"].append(elapsed)
            line.append(f"{key} {gap:+.2f} % {elapsed:.1f} s;")
        print(" ".join(line), flush=True)
    for key, title in (("old", "old core (VROOM level 3)"), ("new", "PyVRP")):
        r = results[key]
        sound = r["sound"] or [0.0]
        print(f"solomon {label} ({len(names)} instances, cap {cap:g} {'CPU ' if CPU else ''}s) {title}: average gap "
              f"{statistics.mean(r['gap']):.2f} %, worst {max(r['gap']):.2f} % (worst {max(sound):.2f} % without the "
              f"{len(r['gap']) - len(r['sound'])} stored bests below a proven floor); "
              f"time mean {statistics.mean(r['time']):.2f} s, worst {max(r['time']):.2f} s{' CPU' if CPU else ''}")
    print(f"solomon {label}: validator violations + unassigned jobs {bad}")


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
            if msg.get("type") == "locations.updated":  # batched: one frame an interval, many positions
                pushes += len(msg["data"]["locations"])
        await watcher.disconnect()
        return sum(stored), elapsed, pushes

    try:
        stored, elapsed, pushes = asyncio.run(run())
        total = devices * per_device
        print(f"GPS pings through the socket ({devices} devices x {per_device} pings, each acked before the next): "
              f"{total / elapsed:,.0f} pings/s, {stored}/{total} stored; {pushes} positions reached "
              f"dispatch in {elapsed:.1f} s (locations.updated batches, one per GPS_PUSH_INTERVAL_S)")
    finally:
        LocationPing.objects.filter(technician__in=techs).delete()
        User.objects.filter(username__startswith=prefix).delete()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true", help="all 56 Solomon instances instead of the subset")
    parser.add_argument("--cap", type=float, default=4.5, help="time cap per Solomon instance and solver (s)")
    parser.add_argument("--days", type=int, default=2, help="seeded realistic days of each size, tuning and held out")
    parser.add_argument("--cpu", action="store_true", help="caps in CPU seconds of this process (loaded machine)")
    parser.add_argument("--only", default="", help="comma list of Solomon instances (development)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: lookup,day,solomon,pings")
    parser.add_argument("--vrptw-dir", default="", help="also run every Solomon-format instance of this folder "
                        "against its BKS.json (e.g. vroom-scripts' benchmarks/VRPTW/homberger_200 with "
                        "benchmarks/VRPTW/BKS.json copied beside it; not shipped)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.cpu:
        global CPU, OLD_CAP_FACTOR
        CPU, OLD_CAP_FACTOR = True, 20
        solver_search.CLOCK = time.process_time
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    if "lookup" not in skip:
        bench_lookup()
    if "day" not in skip:
        for techs, n_jobs in ((12, 120), (30, 300)):
            bench_days(TUNING_DAY_SEEDS[:args.days], techs, n_jobs, "tuning")
            bench_days(HELD_OUT_DAY_SEEDS[:args.days], techs, n_jobs, "held out")
    if "solomon" not in skip:
        if args.only:
            bench_solomon(args.only.split(","), args.cap, "chosen")
        else:
            bench_solomon(SUBSET, args.cap, "tuning subset")
            if args.all:
                folder = SHARED / "vrptw" / "solomon"
                rest = sorted(p.stem for p in folder.glob("*.txt") if p.stem not in SUBSET)
                bench_solomon(rest, args.cap, "held out")
    if args.vrptw_dir:
        extra = Path(args.vrptw_dir)
        bench_solomon(sorted(p.stem for p in extra.glob("*.txt")), args.cap, f"from {extra.name}", extra,
                      extra / "BKS.json")
    if "pings" not in skip:
        bench_pings(devices=4, per_device=250)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
