"""Web server bench: the CPU a WebSocket frame costs the web process under daphne and under uvicorn.

Technicians' devices as production has them: a ticket (issued here, in Redis as the API issues it),
a socket to `/ws/?ticket=...` without an Origin, then frames each answered before the next: first
`ping` frames (the consumer answers `pong`: the server's framing, channels and the consumer's
parsing, no database), then `location.ping` frames (the mapping handler stores a GPS ping and may
push `location.updated` to dispatch: the frame the devices send every few seconds). The servers
run alternately (BENCH_WS_ROUNDS rounds of each, one process each, DEBUG off), so a change in the
machine's load hits both alike. Printed per server and round: frames/s, and CPU per frame of the
web process, the PostgreSQL backends of this database and this client; the connect's CPU per socket.

Settings (environment): BENCH_WS_SERVER (default "daphne,uvicorn"; uvicorn is skipped where
uvicorn, uvloop and httptools are not installed: they are not in the requirements), BENCH_WS_ROUNDS (default 2),
BENCH_WS_SOCKETS (default 20), BENCH_WS_FRAMES (frames of each kind per socket, default 50).

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_web_server.py
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

from bench_inbound import _Backends, _cpu, _free_port, _self_cpu, server_start, servers_installed  # sets Django up
from common import process_stop
from django.contrib.auth import get_user_model
from django.utils import timezone
from websockets.asyncio.client import connect

from hvaccrm.models import District, Technician
from hvaccrm.realtime.tickets import ticket_issue
from mapping.models import LocationPing

SERVERS = servers_installed(os.environ.get("BENCH_WS_SERVER", "daphne,uvicorn").split(","))
ROUNDS = int(os.environ.get("BENCH_WS_ROUNDS", "2"))
SOCKETS = int(os.environ.get("BENCH_WS_SOCKETS", "20"))
FRAMES = int(os.environ.get("BENCH_WS_FRAMES", "50"))
PREFIX = "bench-ws-server-"


def _start(server: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1",
               WS_RATE_LIMIT="1000000", OUTBOX_PUBLISH_ON_COMMIT="false")
    return server_start(server, port, log, env, "hvaccrm.asgi:application")


def _technicians() -> list:
    User = get_user_model()
    User.objects.filter(username__startswith=PREFIX).delete()
    mokotow = District.objects.get(slug="mokotow")
    techs = []
    for k in range(SOCKETS):
        user = User.objects.create(username=f"{PREFIX}{k}")
        techs.append(Technician.objects.create(user=user, home_district=mokotow, on_shift=True,
                                               shift_start=timezone.datetime.min.time(),
                                               shift_end=timezone.datetime.max.time().replace(microsecond=0)))
    return techs


async def _exchange(ws, frame: dict) -> dict:
    await ws.send(json.dumps(frame))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == frame["id"]:
            return reply


def _pings(k: int, offset: int):
    """A socket's location.ping frames, each stamped when it is sent (a device's clock), standing still
    (no speed check refuses a jump), seq going on from the previous phase's."""
    for i in range(FRAMES):
        yield {"type": "location.ping", "id": f"l{i}", "data": {
            "latitude": 52.19 + k * 0.001, "longitude": 21.02, "accuracy": 8, "speed": 0, "heading": 0,
            "device_time": timezone.now().isoformat(), "seq": offset + i + 1}}


async def _phase(sockets: list, frames_of) -> tuple[float, list[dict]]:
    async def one(k: int, ws) -> list[dict]:
        return [await _exchange(ws, frame) for frame in frames_of(k)]

    started = time.perf_counter()
    replies = await asyncio.gather(*(one(k, ws) for k, ws in enumerate(sockets)))
    return time.perf_counter() - started, [r for rs in replies for r in rs]


async def _session(port: int, tickets: list[str], proc, offset: int) -> dict:
    figures: dict = {}
    web0, me0 = _cpu(proc), _self_cpu()
    sockets = [await connect(f"ws://127.0.0.1:{port}/ws/?ticket={t}", compression=None) for t in tickets]
    for ws in sockets:
        assert json.loads(await ws.recv())["type"] == "hello"
    figures["connect_web_ms"] = 1000 * (_cpu(proc) - web0) / len(sockets)
    figures["connect_client_ms"] = 1000 * (_self_cpu() - me0) / len(sockets)
    phases = (("ping", lambda k: [{"type": "ping", "id": f"p{i}"} for i in range(FRAMES)]),
              ("location.ping", lambda k: _pings(k, offset)))
    for name, frames_of in phases:
        web0, me0 = _cpu(proc), _self_cpu()
        with await asyncio.to_thread(_Backends) as backends:  # it reads the database: not on the loop
            elapsed, replies = await _phase(sockets, frames_of)
        n = len(replies)
        figures[name] = {"rate": n / elapsed, "web_ms": 1000 * (_cpu(proc) - web0) / n,
                         "pg_ms": 1000 * backends.cpu / n,
                         "client_ms": 1000 * (_self_cpu() - me0 - backends.thread_cpu) / n,
                         "answers": sorted({r["type"] for r in replies})}
    for ws in sockets:
        await ws.close()
    return figures


def main() -> None:
    techs = _technicians()
    offset = 0
    try:
        for round_ in range(ROUNDS):
            for server in SERVERS:
                port = _free_port()
                log = Path(tempfile.gettempdir()) / f"bench_web_server_{port}.log"
                proc = _start(server, port, log)
                try:
                    # Warm-up socket: the first frames load the handlers and open the pool's connections.
                    asyncio.run(_session(port, [ticket_issue(user_id=techs[0].user_id)], proc, offset))
                    offset += FRAMES
                    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
                    tickets = [ticket_issue(user_id=t.user_id) for t in techs]
                    f = asyncio.run(_session(port, tickets, proc, offset))
                    offset += FRAMES
                finally:
                    process_stop(proc)
                print(f"{server} round {round_ + 1} ({SOCKETS} sockets, {FRAMES} frames of each kind per socket, "
                      f"load {load}): connect web {f['connect_web_ms']:.1f} ms, client {f['connect_client_ms']:.1f} ms "
                      "per socket", flush=True)
                for name in ("ping", "location.ping"):
                    p = f[name]
                    print(f"  {name}: {p['rate']:.0f} frames/s, CPU per frame: web {p['web_ms']:.2f} ms, "
                          f"PostgreSQL {p['pg_ms']:.2f} ms, client {p['client_ms']:.2f} ms; answers {p['answers']}",
                          flush=True)
    finally:
        LocationPing.objects.filter(technician__in=techs).delete()
        get_user_model().objects.filter(username__startswith=PREFIX).delete()


if __name__ == "__main__":
    main()
