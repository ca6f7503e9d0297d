"""Real time over a working day, compressed: 1,000 sockets held open across many group expiries.

The sockets run through the project's ASGI application (consumer, tickets, presence) and the real
Redis channel layer, in this process (channels' WebsocketCommunicator: no HTTP server in between,
so the figures are the consumer's and Redis's, not daphne's). The group expiry is shortened so the
run crosses it many times; the heartbeat re-joins the groups.

    python bench/bench_realtime.py                # 1,000 sockets, 3 minutes, group expiry 6 s
    FULL=1 python bench/bench_realtime.py         # the same for 30 minutes
    SOCKETS=200 MINUTES=1 python bench/bench_realtime.py

Figures: pushes received / pushes owed while open (1.0 means no socket went deaf), and the
reconnect storm: the server closes all sockets at once (4000), they reconnect at once with fresh
tickets, and the clock stops when every socket has its hello and a push announced during the storm.

    python bench/bench_realtime.py positions      # technicians' positions to office sockets, A/B

The positions bench (issue 21's population by default: DEVICES=200 technicians each sending a
position every 5 s on its socket, OFFICE=50 office sockets in the dispatch room, SECONDS=60) runs
the same traffic at the same time against two real daphne servers on the same database and Redis
(each its own channel prefix and technicians): A pushes every position at once (GPS_PUSH_INTERVAL_S
=0, one frame per position per office socket, as before the batching), B coalesces them
(GPS_PUSH_INTERVAL_S=1, the default); with BENCH_TREE_A=<another checkout of the project>, A runs that
tree's code, also coalescing (an A/B of a code change on the same traffic). The traffic alternates: SECONDS to A, then to B, ROUNDS
times, each window followed by up to DRAIN s for the office sockets to receive everything, so the
two share the machine's conditions without starving each other. Figures per server: the CPU
seconds of its process (/proc/<pid>/stat, not wall time) per position, the frames and positions
each office socket received, and the lag from a position's ack to its arrival at the office sockets.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SERVER_ENV = dict(os.environ)  # the daphne servers of the positions bench: without the settings below
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")
EXPIRY = int(os.environ.get("BENCH_GROUP_EXPIRY", "6"))
os.environ["CHANNEL_GROUP_EXPIRY"] = str(EXPIRY)
os.environ["WS_HEARTBEAT_SECONDS"] = str(EXPIRY / 3)
os.environ.setdefault("WS_MAX_SOCKETS_PER_USER", "10")
os.environ.setdefault("WS_RATE_LIMIT", "100000")

import django  # noqa: E402

django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from hvaccrm.asgi import application  # noqa: E402
from hvaccrm.realtime import events  # noqa: E402
from hvaccrm.realtime import groups as g  # noqa: E402
from hvaccrm.realtime.tickets import ticket_issue  # noqa: E402

SOCKETS = int(os.environ.get("SOCKETS", "1000"))
PER_USER = 10
MINUTES = 30.0 if os.environ.get("FULL") == "1" else float(os.environ.get("MINUTES", "3"))
PUSH_EVERY = 2.0  # seconds between push rounds (one push to every user's group)


def _users(n: int) -> list[int]:
    User = get_user_model()
    ids = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"bench-rt-{i}", defaults={"is_active": True})
        ids.append(user.pk)
    return ids


class Socket:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.comm: WebsocketCommunicator | None = None
        self.ids: set[int] = set()
        self.hello = asyncio.Event()
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        self.hello = asyncio.Event()
        ticket = await sync_to_async(ticket_issue)(user_id=self.user_id)
        self.comm = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
        connected, _ = await self.comm.connect(timeout=60)
        assert connected
        self.reader = asyncio.ensure_future(self._read(self.comm))

    async def _read(self, comm) -> None:
        while True:
            message = await comm.output_queue.get()
            if message["type"] == "websocket.close":
                return
            frame = json.loads(message.get("text") or "{}")
            if frame.get("type") == "hello":
                self.hello.set()
            elif frame.get("type") == "job.updated":
                self.ids.add(frame["id"])


async def main() -> None:
    layer = get_channel_layer()
    users = await sync_to_async(_users)(max(1, SOCKETS // PER_USER))
    sockets = [Socket(users[i % len(users)]) for i in range(SOCKETS)]
    started = time.monotonic()
    for chunk in range(0, len(sockets), 100):
        await asyncio.gather(*(s.open() for s in sockets[chunk:chunk + 100]))
    await asyncio.gather(*(asyncio.wait_for(s.hello.wait(), 60) for s in sockets))
    print(f"{SOCKETS} sockets of {len(users)} users open in {time.monotonic() - started:.1f} s; group expiry "
          f"{EXPIRY} s, heartbeat {EXPIRY / 3:.1f} s, run {MINUTES:.1f} min", flush=True)

    owed = 0
    row = 0
    deadline = time.monotonic() + MINUTES * 60
    while time.monotonic() < deadline:
        row += 1
        event = events.make_event("job.updated", row_id=row, data={})
        await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.push", "event": event})
                               for u in users))
        owed += SOCKETS
        await asyncio.sleep(PUSH_EVERY)
    await asyncio.sleep(2)
    received = sum(len(s.ids) for s in sockets)
    deaf = sum(1 for s in sockets if len(s.ids) < row)
    print(f"pushes: {row} rounds, {received} received / {owed} owed = {received / owed:.4f} "
          f"({deaf} sockets missed any; {MINUTES * 60 / EXPIRY:.0f} group expiries crossed)", flush=True)

    # Reconnect storm: every socket closed by the server at once, all reconnect at once.
    storm_row = row + 1
    t0 = time.monotonic()
    await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.close", "code": 4000})
                           for u in users))
    await asyncio.gather(*(asyncio.wait_for(s.reader, 60) for s in sockets))
    # The browser answers the server's close; then the server runs disconnect (slot released).
    await asyncio.gather(*(s.comm.disconnect() for s in sockets))
    await asyncio.gather(*(s.open() for s in sockets))
    await asyncio.gather(*(asyncio.wait_for(s.hello.wait(), 120) for s in sockets))
    reconnected = time.monotonic() - t0
    event = events.make_event("job.updated", row_id=storm_row, data={})
    await asyncio.gather(*(layer.group_send(g.user_group(u), {"type": "realtime.push", "event": event})
                           for u in users))
    while not all(storm_row in s.ids for s in sockets):
        if time.monotonic() - t0 > 180:
            break
        await asyncio.sleep(0.05)
    caught = sum(1 for s in sockets if storm_row in s.ids)
    print(f"reconnect storm: {SOCKETS} sockets back (hello) in {reconnected:.2f} s; {caught}/{SOCKETS} "
          f"hearing their groups again after {time.monotonic() - t0:.2f} s", flush=True)
    for s in sockets:
        await s.comm.disconnect()


def _bench_people(tag: str, devices: int, office: int) -> tuple[list[int], list[int]]:
    """`devices` technicians on shift all day and `office` dispatchers, made for this run."""
    from datetime import time as day_time

    from django.contrib.auth.models import Group

    from hvaccrm.models import District, Technician

    User = get_user_model()
    prefix = f"bench-pos-{tag}-"
    User.objects.filter(username__startswith=prefix).delete()
    mokotow = District.objects.get(slug="mokotow")
    users = User.objects.bulk_create([User(username=f"{prefix}tech{k}") for k in range(devices)])
    Technician.objects.bulk_create([
        Technician(user=u, home_district=mokotow, on_shift=True, shift_start=day_time(0, 0), shift_end=day_time(23, 59))
        for u in users])
    dispatchers = User.objects.bulk_create([User(username=f"{prefix}office{k}", is_staff=True) for k in range(office)])
    Group.objects.get_or_create(name="dispatcher")[0].user_set.add(*dispatchers)
    return [u.pk for u in users], [u.pk for u in dispatchers]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class PositionServer:
    """One daphne serving the project, pushing positions at once (interval 0) or coalesced."""

    def __init__(self, env: dict[str, str], name: str, interval: float, port: int, tree: Path | None = None) -> None:
        import subprocess

        self.name, self.interval, self.port = name, interval, port
        self.tree = tree or Path(__file__).resolve().parent.parent
        env = {"DEBUG": "true", **env, "GPS_PUSH_INTERVAL_S": str(interval), "CHANNEL_PREFIX": f"bench-pos-{name}",
               "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        self.proc = subprocess.Popen([sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                                      "hvaccrm.asgi:application"], env=env, cwd=self.tree)
        self.acked: dict[int, float] = {}  # ping id -> when its ack arrived
        self.lags: list[float] = []
        self.frames = self.items = 0
        self.until = 0.0
        self.windows: list[tuple[float, float]] = []
        self.handshakes: asyncio.Semaphore | None = None  # a few at a time: daphne's accept backlog

    async def connect(self, user_id: int, **kwargs):
        import websockets

        if self.handshakes is None:
            self.handshakes = asyncio.Semaphore(10)
        async with self.handshakes:
            ws = await websockets.connect(await sync_to_async(self.url)(user_id), open_timeout=60, **kwargs)
            await ws.recv()  # hello
        return ws

    def wait_ready(self) -> None:
        import socket

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"daphne {self.name} did not listen within 90 s")

    def url(self, user_id: int) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/?ticket={ticket_issue(user_id=user_id)}"

    async def office(self, user_id: int) -> None:
        async with await self.connect(user_id, max_size=2**24) as ws:
            while time.monotonic() < self.until:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
                except TimeoutError:
                    continue
                if frame.get("type") == "locations.updated":
                    self.frames += 1
                    now = time.monotonic()
                    for item in frame["data"]["locations"]:
                        self.items += 1
                        if item.get("ping") in self.acked:
                            self.lags.append(now - self.acked[item["ping"]])

    async def device(self, user_id: int, offset: float, every: float) -> None:
        """Positions every `every` s during each of this server's windows, `offset` into each."""
        from django.utils import timezone

        seq = 0
        async with await self.connect(user_id) as ws:
            for start, stop in self.windows:
                start += offset
                await asyncio.sleep(max(0.0, start - time.monotonic()))
                n = 0
                while time.monotonic() < stop:
                    seq, n = seq + 1, n + 1
                    await ws.send(json.dumps({"type": "location.ping", "id": str(seq), "data": {
                        "latitude": 52.19 + seq * 0.0001, "longitude": 21.02, "accuracy": 8,
                        "device_time": timezone.now().isoformat(), "seq": seq}}))
                    while True:
                        reply = json.loads(await ws.recv())
                        if reply.get("id") == str(seq):
                            if reply["type"] == "ack" and reply["data"].get("ping"):
                                self.acked[reply["data"]["ping"]] = time.monotonic()
                            break
                    await asyncio.sleep(max(0.0, start + n * every - time.monotonic()))


async def _positions(servers: list[PositionServer], people: dict[str, tuple[list[int], list[int]]],
                     seconds: float, every: float, rounds: int) -> list[tuple[str, int, float, float, float]]:
    """Windows of traffic to A, B, A, B...: one server at a time, each followed by up to DRAIN s for
    its office sockets to receive every position; (server, positions acked, positions that reached
    each office socket, the server's CPU seconds, seconds to deliver all after the window) per window."""
    drain = float(os.environ.get("DRAIN", "20"))
    t0 = time.monotonic() + 20  # every socket opened and settled before the traffic starts
    plan = [(servers[i % 2], t0 + i * (seconds + drain)) for i in range(2 * rounds)]
    for server in servers:
        server.windows = [(start, start + seconds) for owner, start in plan if owner is server]
        server.until = plan[-1][1] + seconds + drain
    tasks = []
    for server in servers:
        techs, office = people[server.name]
        tasks += [asyncio.ensure_future(server.office(u)) for u in office]
        tasks += [asyncio.ensure_future(server.device(u, every * k / len(techs), every)) for k, u in enumerate(techs)]
    results = []
    for server, start in plan:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        cpu, acked, items = _cpu_seconds(server.proc.pid), len(server.acked), server.items
        office = len(people[server.name][1])
        while time.monotonic() < start + seconds + drain - 1:
            await asyncio.sleep(0.2)
            if time.monotonic() > start + seconds and server.items - items >= (len(server.acked) - acked) * office:
                break
        results.append((server.name, len(server.acked) - acked, (server.items - items) / office,
                        _cpu_seconds(server.proc.pid) - cpu, time.monotonic() - start - seconds))
    await asyncio.gather(*tasks)
    return results


def run_positions(server_env: dict[str, str]) -> None:
    import socket
    import statistics

    devices, office = int(os.environ.get("DEVICES", "200")), int(os.environ.get("OFFICE", "50"))
    seconds, every = float(os.environ.get("SECONDS", "30")), float(os.environ.get("EVERY", "5"))
    rounds = int(os.environ.get("ROUNDS", "2"))
    print(f"load average at start: {os.getloadavg()} (2 cores)", flush=True)
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    people = {name: _bench_people(name, devices, office) for name in ("a", "b")}
    # BENCH_TREE_A: A runs another checkout of the project (e.g. `git archive` of the commit before a
    # change), both coalescing: the same traffic measures that change's CPU per position.
    tree_a = Path(os.environ["BENCH_TREE_A"]).resolve() if os.environ.get("BENCH_TREE_A") else None
    if tree_a is not None:
        print(f"A: the tree at {tree_a}; B: this tree ({Path(__file__).resolve().parent.parent})", flush=True)
    servers = [PositionServer(server_env, "a", 1.0 if tree_a else 0.0, ports[0], tree_a),
               PositionServer(server_env, "b", 1.0, ports[1])]
    try:
        for s in servers:
            s.wait_ready()
        results = asyncio.run(_positions(servers, people, seconds, every, rounds))
        for name, acked, delivered, cpu, done in results:
            print(f"  window {name}: {acked} positions acked, {delivered:.0f} reached each office socket "
                  f"(all {done:.1f} s after the window), server CPU {cpu:.1f} s", flush=True)
        for s in servers:
            mine = [r for r in results if r[0] == s.name]
            acked, delivered, cpu = (sum(r[i] for r in mine) for i in (1, 2, 3))
            lags = sorted(s.lags) or [float("nan")]
            print(f"{s.name} (GPS_PUSH_INTERVAL_S={s.interval:g}), {len(mine)} windows of {seconds:.0f} s: "
                  f"{acked} positions acked, {delivered:.0f} reached each of {office} office sockets "
                  f"({s.frames / office / (len(mine) * seconds):.1f} frames/s per socket); server CPU {cpu:.1f} s = "
                  f"{1000 * cpu / max(acked, 1):.2f} ms per position acked, {1000 * cpu / max(delivered, 1):.2f} ms "
                  f"per position delivered to every office socket; ack->office lag p50 {statistics.median(lags):.2f} s, "
                  f"p95 {lags[int(0.95 * (len(lags) - 1))]:.2f} s", flush=True)
        print(f"load average at end: {os.getloadavg()}", flush=True)
    finally:
        for s in servers:
            s.proc.terminate()
            s.proc.wait(10)
        get_user_model().objects.filter(username__startswith="bench-pos-").delete()


if __name__ == "__main__":
    if sys.argv[1:] == ["positions"]:
        run_positions(SERVER_ENV)
    else:
        asyncio.run(main())
