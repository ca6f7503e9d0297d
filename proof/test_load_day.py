"""A day's traffic at once, against a live ASGI server (daphne, loopback, the test database): technician
devices sending a position every few seconds and holding sockets, office pages open with their
sockets, portal users loading pages. A bounded asyncio client (httpx + websockets) measures every
request; the suite prints the error count, p95 per endpoint, the outbox backlog's drain time and
the server's memory at the end against after the first minute.

Default: a tiny setting for under a minute (CI). FULL=1: the issue's sizes (200 devices every 5 s,
50 office pages, 500 portal users every 20-40 s) for 10 minutes, and p95 < 300 ms is asserted.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import time
from datetime import UTC, datetime

import httpx
import psutil
import pytest
import websockets
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import Client as HttpClient

from hvaccrm.models import IntegrationLog
from hvaccrm.tests.factories import ClientFactory, SiteFactory, TechnicianFactory, UserFactory, district

FULL = os.environ.get("FULL") == "1"
# (devices, office pages, portal users, seconds, ping every s, portal page every s (range), warm-up s)
SIZES = (200, 50, 500, 600, 5.0, (20.0, 40.0), 60.0) if FULL else (8, 2, 20, 40, 2.0, (2.0, 4.0), 13.0)
DEVICES, OFFICE, PORTAL, SECONDS, PING_EVERY, PORTAL_EVERY, WARMUP = SIZES
PORTAL_PAGES = ("/portal/", "/portal/visits/", "/portal/messages/", "/portal/agreements/")
OFFICE_PAGES = ("/communications/inbox/", "/mapping/board/")


class Meter:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter = collections.Counter()
        self.first_error: dict[str, str] = {}  # what a failure looked like, per endpoint

    def record(self, label: str, seconds: float, ok: bool) -> None:
        self.latencies[label].append(seconds)
        if not ok:
            self.errors[label] += 1

    def p95(self, label: str) -> float:
        values = sorted(self.latencies[label])
        return values[min(len(values) - 1, int(len(values) * 0.95))] if values else 0.0


async def _timed(meter: Meter, label: str, call) -> httpx.Response | None:
    started = time.monotonic()
    try:
        response = await call
    except httpx.HTTPError:
        meter.record(label, time.monotonic() - started, ok=False)
        return None
    meter.record(label, time.monotonic() - started, ok=response.status_code < 400)
    if response.status_code >= 400:
        meter.first_error.setdefault(label, f"{response.status_code} {response.text[:200]}")
    return response


async def _socket(url: str, http: httpx.AsyncClient, meter: Meter, until: float) -> None:
    """A ticket, then a socket held open to the end (a socket closed early is an error)."""
    ticket = await _timed(meter, "POST /api/core/ws-ticket/", http.post("/api/core/ws-ticket/"))
    if ticket is None or ticket.status_code != 201 and ticket.status_code != 200:
        return
    ws_url = url.replace("http://", "ws://") + "/ws/?ticket=" + ticket.json()["ticket"]
    started = time.monotonic()
    try:
        async with websockets.connect(ws_url, open_timeout=10) as ws:
            meter.record("WS /ws/ connect", time.monotonic() - started, ok=True)
            while time.monotonic() < until:
                try:
                    await asyncio.wait_for(ws.recv(), timeout=max(0.1, min(5.0, until - time.monotonic())))
                except TimeoutError:
                    pass
    except (OSError, websockets.WebSocketException):
        meter.record("WS /ws/ held", time.monotonic() - started, ok=False)


async def _device(url, token, meter, until) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30) as http:
        holder = asyncio.ensure_future(_socket(url, http, meter, until))
        seq, lat, lon = 0, 52.19 + random.uniform(-0.03, 0.03), 21.02 + random.uniform(-0.03, 0.03)
        await asyncio.sleep(random.uniform(0, PING_EVERY))
        while time.monotonic() < until:
            seq, lat, lon = seq + 1, lat + 0.0001, lon + 0.0001  # a van in town: ~13 m a ping
            body = {"latitude": lat, "longitude": lon, "accuracy": 8.0,
                    "device_time": datetime.now(UTC).isoformat(), "seq": seq}
            await _timed(meter, "POST /api/mapping/pings/", http.post("/api/mapping/pings/", json=body))
            await asyncio.sleep(PING_EVERY)
        await holder


async def _office(url, token, session, meter, until) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30) as api, \
            httpx.AsyncClient(base_url=url, cookies={"sessionid": session}, timeout=30) as pages:
        for page in OFFICE_PAGES:
            await _timed(meter, f"GET {page}", pages.get(page))
        await _socket(url, api, meter, until)


async def _portal(url, session, meter, until) -> None:
    async with httpx.AsyncClient(base_url=url, cookies={"sessionid": session}, timeout=30) as http:
        await asyncio.sleep(random.uniform(0, PORTAL_EVERY[0]))
        while time.monotonic() < until:
            page = random.choice(PORTAL_PAGES)
            await _timed(meter, f"GET {page}", http.get(page))
            await asyncio.sleep(random.uniform(*PORTAL_EVERY))


def _people():
    """Devices' tokens, office (token, session) pairs and portal sessions (force_login: no hashing)."""
    from knox.models import AuthToken

    def session(user) -> str:
        http = HttpClient()
        http.force_login(user)
        return http.cookies["sessionid"].value

    districts = ["mokotow", "wola", "ursynow", "bemowo"]
    devices = [AuthToken.objects.create(TechnicianFactory(home_district=district(districts[i % 4])).user)[1]
               for i in range(DEVICES)]
    office = []
    for i in range(OFFICE):
        user = UserFactory(username=f"office{i}", role="dispatcher", is_staff=True)
        office.append((AuthToken.objects.create(user)[1], session(user)))
    portal = []
    for i in range(PORTAL):
        user = UserFactory(username=f"portal{i}@example.com", role="client")
        client = ClientFactory(name=f"Klient {i}", email=user.email)
        client.users.add(user)
        SiteFactory(client=client)
        portal.append(session(user))
    return devices, office, portal


def _server_rss(pid: int) -> int:
    return sum(p.memory_info().rss for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)])


def _server_pid() -> int:
    return next(p.pid for p in psutil.Process().children(recursive=True) if "daphne" in " ".join(p.cmdline()))


def _backlog() -> int:
    return IntegrationLog.objects.filter(state__in=["pending", "failed"]).count()


@pytest.mark.timeout(SECONDS + 600)
async def test_a_days_traffic_at_once_gives_no_errors_and_drains(live_asgi_url):
    devices, office, portal = await sync_to_async(_people)()
    pid = _server_pid()
    meter = Meter()
    started = time.monotonic()
    until = started + SECONDS
    tasks = [*(_device(live_asgi_url, t, meter, until) for t in devices),
             *(_office(live_asgi_url, t, s, meter, until) for t, s in office),
             *(_portal(live_asgi_url, s, meter, until) for s in portal)]
    run = asyncio.gather(*tasks)
    await asyncio.sleep(WARMUP)
    rss_warm = _server_rss(pid)
    await run
    rss_end = _server_rss(pid)
    drain_started = time.monotonic()
    while await sync_to_async(_backlog)() and time.monotonic() - drain_started < 60:
        await asyncio.sleep(1)
    drain = time.monotonic() - drain_started
    backlog = await sync_to_async(_backlog)()
    # The ORM ran in sync_to_async's thread: close its connection so the test database can be dropped.
    await sync_to_async(connections.close_all)()

    errors = sum(meter.errors.values())
    print(f"\nload: {DEVICES} devices (ping every {PING_EVERY:g} s, socket held), {OFFICE} office pages with sockets, "
          f"{PORTAL} portal users (a page every {PORTAL_EVERY[0]:g}-{PORTAL_EVERY[1]:g} s) for {SECONDS} s")
    for label in sorted(meter.latencies):
        print(f"  {label:34} n={len(meter.latencies[label]):6}  p95={meter.p95(label) * 1000:7.1f} ms  "
              f"errors={meter.errors[label]}")
    print(f"  errors: {errors}; backlog drained in {drain:.1f} s (left: {backlog}); server memory "
          f"{rss_warm / 2**20:.0f} MiB after {WARMUP:g} s, {rss_end / 2**20:.0f} MiB at the end "
          f"({(rss_end - rss_warm) / rss_warm:+.1%})")
    assert errors == 0, (dict(meter.errors), meter.first_error)
    assert backlog == 0
    if FULL:  # the targets, on the sizes
        assert all(meter.p95(label) < 0.3 for label in meter.latencies), "p95 over 300 ms"
        assert rss_end <= rss_warm * 1.10
