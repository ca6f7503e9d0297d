"""Pages bench (issue 21): CPU time per request of every page and API endpoint the load suite's
client requests (proof/test_load_day.py), in-process through Django's test client with the full
middleware, on data of the load suite's size (the demo seed and proof/load_seed.py's 200
technicians, 50 dispatchers and 500 portal users).

The web processes are CPU-bound at the issue's population, so the figure is CPU seconds
(time.process_time) per request, not wall time. The endpoints are interleaved round by round, so a
change of the machine's load touches all of them alike. Queries per request are printed beside.

The database named by DATABASE_URL is seeded once if it has no load people (seed_demo --once, then
load_seed accounts 200 50 500 and the seed's outbox rows run); a second run reuses them. Access
trail rows the office pages write stay (the trail is append-only).

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_pages.py
  BENCH_PAGES_ROUNDS=30 (requests per endpoint), BENCH_PAGES_ONLY=board,inbox (a subset),
  BENCH_PAGES_DUMP=folder (write each GET's body there, to diff two trees' HTML),
  BENCH_PAGES_PROFILE=board (cProfile that endpoint instead: top functions by own CPU time and
  cumulative time; with BENCH_PAGES_PYINSTRUMENT=1 pyinstrument's call tree instead),
  BENCH_PAGES_MIDDLEWARE=1 (each middleware's share: the endpoints through a handler without it),
  BENCH_PAGES_JSON=out.json (the figures, for an A/B between two trees).
DEBUG=true as the load stack runs (proof/test_load_day.py's environment); DEBUG=false is allowed.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")  # the seed's outbox rows, run here

from common import django_setup

django_setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from hvaccrm.models import Technician  # noqa: E402
from proof import load_seed  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_PAGES_ROUNDS", 30))
User = get_user_model()
# name: (method, path, who) as proof/test_load_day.py requests them
ENDPOINTS = {
    "inbox": ("get", "/communications/inbox/", "office"),
    "board": ("get", "/mapping/board/", "office"),
    "notifications": ("get", "/api/communications/notifications/?undelivered=true", "office"),
    "ws-ticket": ("post", "/api/core/ws-ticket/", "device"),
    "portal": ("get", "/portal/", "portal"),
    "portal-visits": ("get", "/portal/visits/", "portal"),
    "portal-messages": ("get", "/portal/messages/", "portal"),
    "portal-agreements": ("get", "/portal/agreements/", "portal"),
    "portal-notifications": ("get", "/portal/notifications/", "portal"),
}


def seed() -> None:
    if Technician.objects.filter(user__username=f"{load_seed.PREFIX}tech-0").exists():
        return
    started = time.monotonic()
    call_command("seed_demo", "--once")
    load_seed.accounts(200, 50, 500)
    load_seed.outbox_drain()
    print(f"seeded the load suite's data in {time.monotonic() - started:.0f} s")


HOST = {"HTTP_HOST": "127.0.0.1"}  # as the load client calls it (ALLOWED_HOSTS)


def clients() -> dict[str, list[HttpClient]]:
    """Signed-in clients: 5 dispatchers, 5 devices (knox tokens), 10 portal users of different clients."""
    out: dict[str, list[HttpClient]] = {"office": [], "device": [], "portal": []}
    for i in range(5):
        office = HttpClient(**HOST)
        office.force_login(User.objects.get(username=f"{load_seed.PREFIX}office-{i}"))
        out["office"].append(office)
        token = AuthToken.objects.create(User.objects.get(username=f"{load_seed.PREFIX}tech-{i}"))[1]
        out["device"].append(HttpClient(HTTP_AUTHORIZATION=f"Token {token}", **HOST))
    for i in range(10):
        portal = HttpClient(**HOST)
        portal.force_login(User.objects.get(username=f"{load_seed.PREFIX}portal-{i}"))
        out["portal"].append(portal)
    return out


def call(http: HttpClient, method: str, path: str):
    response = getattr(http, method)(path)
    assert response.status_code < 400, (path, response.status_code, response.content[:300])
    return response


def measure(names: list[str], people: dict[str, list[HttpClient]]) -> dict[str, dict]:
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm-up: templates compiled, per-process caches filled
        method, path, who = ENDPOINTS[name]
        for http in people[who]:
            call(http, method, path)
    for r in range(ROUNDS):
        for name in names:
            method, path, who = ENDPOINTS[name]
            http = people[who][r % len(people[who])]
            started = time.process_time()
            call(http, method, path)
            cpu[name].append((time.process_time() - started) * 1e3)
    figures = {}
    for name in names:
        method, path, who = ENDPOINTS[name]
        with CaptureQueriesContext(connection) as ctx:
            response = call(people[who][0], method, path)
        values = sorted(cpu[name])
        figures[name] = {
            "median_ms": round(statistics.median(values), 2),
            "mean_ms": round(statistics.mean(values), 2),
            "p90_ms": round(values[int(0.9 * (len(values) - 1))], 2),
            "queries": len(ctx.captured_queries),
            "bytes": len(response.content),
        }
    return figures


def profile(name: str, people: dict[str, list[HttpClient]]) -> None:
    method, path, who = ENDPOINTS[name]
    for http in people[who]:
        call(http, method, path)
    if os.environ.get("BENCH_PAGES_PYINSTRUMENT"):  # sampling: less overhead than cProfile, a call tree
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0005, async_mode="disabled")  # wall time: waits on PostgreSQL show too
        with sampler:
            for r in range(ROUNDS):
                call(people[who][r % len(people[who])], method, path)
        print(sampler.output_text(show_all=False, short_mode=False))
        return
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for r in range(ROUNDS):
        call(people[who][r % len(people[who])], method, path)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"--- {name}: {ROUNDS} requests, by own CPU time ---")
    stats.sort_stats("tottime").print_stats(30)
    print(f"--- {name}: by cumulative CPU time ---")
    stats.sort_stats("cumulative").print_stats(60)


def middleware_shares(names: list[str]) -> None:
    """Each middleware's share of the CPU per request: the same endpoints through a handler without
    it (measurement only: the served stack keeps every one), rounds interleaved with the full one."""
    from django.conf import settings
    from django.test import override_settings

    configs = {"(all)": list(settings.MIDDLEWARE)}
    for m in settings.MIDDLEWARE:
        if m.rsplit(".", 1)[1] not in ("SessionMiddleware", "AuthenticationMiddleware"):  # the pages need them
            configs[f"without {m.rsplit('.', 1)[1]}"] = [x for x in settings.MIDDLEWARE if x != m]
    people = {}
    for label, chain in configs.items():
        with override_settings(MIDDLEWARE=chain):  # a test client loads its handler's chain on its first request
            people[label] = clients()
            for name in names:
                method, path, who = ENDPOINTS[name]
                call(people[label][who][0], method, path)
    cpu = {(label, name): [] for label in configs for name in names}
    for _round in range(ROUNDS):
        for label in configs:
            for name in names:
                method, path, who = ENDPOINTS[name]
                started = time.process_time()
                call(people[label][who][0], method, path)
                cpu[label, name].append((time.process_time() - started) * 1e3)
    print(
        f"middleware shares, median CPU ms per request over {ROUNDS} interleaved rounds (load {os.getloadavg()[0]:.2f})"
    )
    print(f"  {'handler':42} " + " ".join(f"{n:>12}" for n in names))
    full = {n: statistics.median(cpu["(all)", n]) for n in names}
    for label in configs:
        values = [statistics.median(cpu[label, n]) for n in names]
        extra = (
            ""
            if label == "(all)"
            else "  saves " + " ".join(f"{full[n] - v:+.2f}" for n, v in zip(names, values, strict=True))
        )
        print(f"  {label:42} " + " ".join(f"{v:12.2f}" for v in values) + extra)


def main() -> int:
    seed()
    only = [n for n in os.environ.get("BENCH_PAGES_ONLY", "").split(",") if n]
    names = only or list(ENDPOINTS)
    people = clients()
    if os.environ.get("BENCH_PAGES_DUMP"):  # each answer's body, to diff two trees' output
        folder = Path(os.environ["BENCH_PAGES_DUMP"])
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            method, path, who = ENDPOINTS[name]
            if method == "get":
                (folder / f"{name}.html").write_bytes(call(people[who][0], method, path).content)
        return 0
    if os.environ.get("BENCH_PAGES_MIDDLEWARE"):
        middleware_shares(names)
        return 0
    if os.environ.get("BENCH_PAGES_PROFILE"):
        profile(os.environ["BENCH_PAGES_PROFILE"], people)
        return 0
    load_before = os.getloadavg()
    figures = measure(names, people)
    load_after = os.getloadavg()
    print(
        f"CPU per request, {ROUNDS} rounds interleaved, DEBUG={os.environ.get('DEBUG', 'false')}; load average "
        f"{load_before[0]:.2f} -> {load_after[0]:.2f} (1 min) on {os.cpu_count()} cores"
    )
    print(f"  {'endpoint':22} {'median ms':>10} {'mean ms':>8} {'p90 ms':>8} {'queries':>8} {'bytes':>8}")
    for name, f in figures.items():
        print(
            f"  {name:22} {f['median_ms']:10.2f} {f['mean_ms']:8.2f} {f['p90_ms']:8.2f} {f['queries']:8} {f['bytes']:8}"
        )
    if os.environ.get("BENCH_PAGES_JSON"):
        Path(os.environ["BENCH_PAGES_JSON"]).write_text(json.dumps({"load": [load_before, load_after], **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
