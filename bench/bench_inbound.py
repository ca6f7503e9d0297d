"""Inbound bench: SMS per second through the webhook with triage, against the ASGI server (target >= 100/s).

The production path: `daphne hvaccrm.asgi:application` (README, Production) as subprocesses on
loopback with DEBUG off, and a client holding several concurrent keep-alive connections, spread over
the processes as a load balancer would: a minimal HTTP/1.1 client on asyncio streams (a load
generator as wrk is: request bytes made and signed before the timed run, each answer's status line,
headers and body read and its status counted), because on one machine the client's CPU is taken
from the server's processes; its requests are byte for byte the ones httpx sent before
(BENCH_INBOUND_CLIENT=httpx runs that client, "httpx,raw" both against the same web processes). Each request is a signed generic-gateway SMS
from one of 50 synthetic clients' numbers in Mokotów, among BENCH_INBOUND_CLIENTS other synthetic
clients (the number match reads the client table): the signature check, E.164 normalisation, the
client match, the rate limit in Redis, classification and the message with its outbox rows in one
transaction (message_send), the realtime push to the inbox. Every tenth text is an emergency (gas
smell), so the alert rows and safety replies are in the figure. The outbox rows are not published to
Celery (OUTBOX_PUBLISH_ON_COMMIT=false: the bench measures the webhook, not the workers; set
BENCH_INBOUND_PUBLISH=1 to include the publish). The synthetic rows are deleted afterwards.

Settings (environment): BENCH_INBOUND_MESSAGES (default 1000), BENCH_INBOUND_PROCS (web process counts,
one run each, default "1,2"), BENCH_INBOUND_CONCURRENCY (connections, default 8), BENCH_INBOUND_CLIENTS (other
clients in the table, default 5000), CONN_MAX_AGE and DB_POOL_MAX (passed on to the web processes:
the pool is on in daphne by default, DB_POOL_MAX=0 turns it off). Printed per run: the CPU per message
of each process (web, the PostgreSQL backends of this database, the postmaster, Redis, this client)
and their sum, which on a shared machine says more than the wall clock. BENCH_INBOUND_ASGI: the web processes' entry point
(default hvaccrm.asgi:application; another module:attribute on PYTHONPATH measures a variant).
BENCH_INBOUND_SERVER: the ASGI server, `daphne` (default, production's) or `uvicorn` (uvloop, httptools),
or both ("daphne,uvicorn": run alternately, BENCH_INBOUND_ROUNDS rounds of each per process count).

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_inbound.py
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import django_setup, pct

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
django_setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

import httpx  # noqa: E402
import psutil  # noqa: E402
from django.db import connection  # noqa: E402

from communications.models import Message  # noqa: E402
from hvaccrm.models import Client, District, IntegrationLog, Site  # noqa: E402

SECRET = "bench-secret"
CLIENTS = 50
MESSAGES = int(os.environ.get("BENCH_INBOUND_MESSAGES", "1000"))
PROCS = [int(n) for n in os.environ.get("BENCH_INBOUND_PROCS", "1,2").split(",")]
CONCURRENCY = int(os.environ.get("BENCH_INBOUND_CONCURRENCY", "8"))
OTHERS = int(os.environ.get("BENCH_INBOUND_CLIENTS", "5000"))
MARK = "Bench inbound"
RUN = secrets.token_hex(4)
PATH = "/communications/inbound/sms/"
TEXTS = ["Klimatyzacja nie chłodzi, proszę o wizytę", "Pompa ciepła głośno pracuje od wczoraj",
         "Proszę o przegląd kotła w przyszłym tygodniu", "Z jednostki wewnętrznej kapie woda",
         "Rekuperator piszczy, co robić?", "Czy mogę przełożyć wizytę na piątek?",
         "Dziękuję za szybką naprawę", "Kocioł pokazuje błąd E04", "Jaki jest koszt serwisu?",
         "Czuć gaz w kuchni przy kotle!"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVERS = os.environ.get("BENCH_INBOUND_SERVER", "daphne").split(",")
ROUNDS = int(os.environ.get("BENCH_INBOUND_ROUNDS", "1"))


def servers_installed(names: list[str]) -> list[str]:
    """The servers of `names` this environment has (uvicorn, uvloop and httptools are not in the
    requirements: production runs daphne, docs/channels.md says why), each missing one said."""
    import importlib.util

    wanted = {"daphne": ("daphne",), "uvicorn": ("uvicorn", "uvloop", "httptools")}
    found = []
    for name in names:
        missing = [m for m in wanted.get(name, (name,)) if importlib.util.find_spec(m) is None]
        if missing:
            print(f"{name} skipped: {', '.join(missing)} not installed")
        else:
            found.append(name)
    return found


def server_argv(server: str, port: int, app: str) -> list[str]:
    """The web server's command line as production runs it (README, Production), on loopback, with
    no access log (the bench measures the request, not the log line)."""
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-v", "0", "--proxy-headers", "-b", "127.0.0.1", "-p", str(port), app]
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--loop", "uvloop", "--http", "httptools", "--ws",
                "websockets-sansio", "--ws-per-message-deflate", "false", "--lifespan", "off", "--proxy-headers",
                "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1", "--port", str(port), app]
    raise SystemExit(f"unknown server {server!r} (daphne or uvicorn)")


def server_start(server: str, port: int, log: Path, env: dict[str, str], app: str) -> subprocess.Popen:
    """One web process of `server` serving `app` on loopback `port`, once it answers."""
    proc = subprocess.Popen(server_argv(server, port, app), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                                          headers={"X-Forwarded-Proto": "https"}), timeout=1)
            return proc
        except urllib.error.HTTPError:  # 503 without a Celery worker: the server answers, that is enough
            return proc
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"{server} exited: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{server} did not start within 60 s")


def _start_web(port: int, log: Path, server: str) -> subprocess.Popen:
    """One web process as production runs it (DEBUG off, a real secret key, behind a TLS proxy)."""
    env = dict(os.environ, DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1",
               COMMS_INBOUND_SMS_SECRET=SECRET, COMMS_INBOUND_RATE_PER_MINUTE="1000000",
               OUTBOX_PUBLISH_ON_COMMIT="true" if os.environ.get("BENCH_INBOUND_PUBLISH") == "1" else "false",
               CONN_MAX_AGE=os.environ.get("CONN_MAX_AGE", "0"))
    return server_start(server, port, log, env, os.environ.get("BENCH_INBOUND_ASGI", "hvaccrm.asgi:application"))


def _make_clients() -> list[Client]:
    mokotow = District.objects.filter(slug="mokotow").first()
    Client.objects.bulk_create([Client(name=f"{MARK} other {i}", phone=f"+48 500 {i // 1000:03d} {i % 1000:03d}",
                                       is_synthetic=True) for i in range(OTHERS)], batch_size=2000)
    clients = []
    for i in range(CLIENTS):
        c = Client.objects.create(name=f"{MARK} {i}", phone=f"+48 600 {100 + i:03d} {i:03d}", is_synthetic=True)
        Site.objects.create(client=c, street=f"Puławska {i}", district=mokotow, latitude=52.19, longitude=21.02)
        clients.append(c)
    return clients


def _requests(clients: list[Client], count: int, tag: str) -> list[tuple[bytes, str]]:
    out = []
    for n in range(count):
        c = clients[n % CLIENTS]
        # A new id per run: a saved id is a gateway's retry for a day (COMMS_INBOUND_DEDUPE_SECONDS).
        body = json.dumps({"type": "message", "from": c.phone, "text": TEXTS[n % len(TEXTS)],
                           "id": f"{tag}{RUN}-{n}"}).encode()
        out.append((body, hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()))
    return out


# The load generator's bytes on the wire: the same request line and headers, in the same order, as
# httpx 0.28 sends them (the client this bench used before), so the server sees the same requests.
_HEAD = ("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
         "Connection: keep-alive\r\nUser-Agent: python-httpx/0.28.1\r\nContent-Type: application/json\r\n"
         "X-Signature: {signature}\r\nX-Forwarded-Proto: https\r\nContent-Length: {length}\r\n\r\n")
CLIENT_KINDS = os.environ.get("BENCH_INBOUND_CLIENT", "raw").split(",")


def _wire(port: int, body: bytes, signature: str) -> bytes:
    """One request's bytes, made before the timed run (the signature is already computed)."""
    return _HEAD.format(path=PATH, port=port, signature=signature, length=len(body)).encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response: the status, and whether the server keeps the connection. The
    body is read by its Content-Length, or chunk by chunk, and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    if chunked:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # no trailers are sent: the empty line
    elif length:
        await reader.readexactly(length)
    return status, not close


async def _drive_raw(ports: list[int], wires: dict[int, list[bytes]]) -> tuple[float, list[float], dict[int, int]]:
    """_drive on raw asyncio streams: each connection writes pre-made request bytes and reads the
    answer (status line, headers, body); a load generator as wrk is, so that its CPU, which the
    server's processes share the machine with, stays small."""
    queue: asyncio.Queue = asyncio.Queue()
    for index in range(len(next(iter(wires.values())))):
        queue.put_nowait(index)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(i: int) -> None:
        port = ports[i % len(ports)]
        own = wires[port]
        reader = writer = None
        try:
            while not queue.empty():
                index = queue.get_nowait()
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                t0 = time.perf_counter()
                writer.write(own[index])
                status, keep = await asyncio.wait_for(_response(reader), 60)
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if not keep:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    return time.perf_counter() - started, latencies, statuses


async def _drive_httpx(ports: list[int], requests: list[tuple[bytes, str]]) -> tuple[float, list[float], dict[int, int]]:
    """CONCURRENCY connections, each sending its next request when the last answered; connection i
    talks to process i % len(ports) (what a load balancer in front of the processes does)."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(i: int) -> None:
        base = f"http://127.0.0.1:{ports[i % len(ports)]}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while not queue.empty():
                body, signature = queue.get_nowait()
                t0 = time.perf_counter()
                r = await http.post(PATH, content=body, headers={
                    "Content-Type": "application/json", "X-Signature": signature, "X-Forwarded-Proto": "https"})
                latencies.append(time.perf_counter() - t0)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    return time.perf_counter() - started, latencies, statuses


def _prepare(ports: list[int], requests: list[tuple[bytes, str]], kind: str) -> object:
    """What `_drive` sends, made before the timed run: for "raw" each request's bytes per port."""
    if kind == "raw":
        return {port: [_wire(port, body, signature) for body, signature in requests] for port in set(ports)}
    if kind == "httpx":
        return requests
    raise SystemExit(f"unknown client {kind!r} (raw or httpx)")


def _drive(ports: list[int], prepared: object, kind: str) -> tuple[float, list[float], dict[int, int]]:
    """Drive the prepared requests over CONCURRENCY keep-alive connections (connection i to process
    i % len(ports), as a load balancer spreads them), each sending its next request when the last
    answered: the elapsed seconds, each request's latency, the count of each status. `kind`: "raw"
    (asyncio streams, the default) or "httpx" (the previous client, to compare the client's CPU)."""
    if kind == "raw":
        return asyncio.run(_drive_raw(ports, prepared))
    return asyncio.run(_drive_httpx(ports, prepared))


def _cpu(proc: subprocess.Popen) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


def _cleanup() -> None:
    clients = Client.objects.filter(name__startswith=MARK, is_synthetic=True)
    ids = [str(i) for i in Message.objects.filter(conversation__client__in=clients).values_list("pk", flat=True)]
    IntegrationLog.objects.filter(object_type="communications.message", object_id__in=ids).delete()
    clients.delete()


class _Backends:
    """CPU of the PostgreSQL backends serving our database, read from /proc every 3 ms in a thread
    (their command line names the database). A backend that lives for one request (CONN_MAX_AGE=0)
    counts up to its last sample: a slight undercount of its exit. The postmaster's own CPU (the
    fork of each new backend) is `postmaster`, shared with every other database on the server."""

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_database()")
            own, database = cursor.fetchone()
        self.own, self.tag = own, f" {database} "
        self.postmaster = psutil.Process(own).parent()
        self.seen: dict[int, float] = {}
        self.thread_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _children(self) -> list[int]:
        path = f"/proc/{self.postmaster.pid}/task/{self.postmaster.pid}/children"
        with open(path) as f:
            return [int(pid) for pid in f.read().split() if int(pid) != self.own]

    def _sample(self) -> None:
        for pid in self._children():
            try:
                if pid not in self.seen:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if self.tag.encode() not in f.read().replace(b"\0", b" "):
                            continue
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                self.seen[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.003)
        self.thread_cpu = time.thread_time()

    def __enter__(self) -> _Backends:
        self._sample()
        self.before = dict(self.seen)
        self.postmaster_before = sum(self.postmaster.cpu_times()[:2])
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu = sum(v - self.before.get(pid, 0.0) for pid, v in self.seen.items())
        self.count = sum(1 for pid in self.seen if pid not in self.before)
        self.postmaster_cpu = sum(self.postmaster.cpu_times()[:2]) - self.postmaster_before


def _redis_server() -> psutil.Process | None:
    return next((p for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"), None)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(ports: list[int], procs: list[subprocess.Popen], requests: list[tuple[bytes, str]], kind: str) -> dict:
    """Drive the requests; the rate, the latencies, and the CPU spent per request by each process:
    the web processes, the PostgreSQL backends of our database (and the postmaster, shared), Redis
    (shared with whatever else uses it), this client, and the whole machine (every process:
    meaningful only on a quiet machine)."""
    prepared = _prepare(ports, requests, kind)
    redis_proc = _redis_server()
    web_before, machine_before = sum(_cpu(proc) for proc in procs), _machine_busy()
    redis_before = sum(redis_proc.cpu_times()[:2]) if redis_proc else 0.0
    client_before = _self_cpu()
    with _Backends() as backends:
        elapsed, latencies, statuses = _drive(ports, prepared, kind)
    n = len(requests)
    per = lambda seconds: 1000 * seconds / n  # noqa: E731
    return {"rate": n / elapsed, "p50": 1000 * pct(latencies, 0.5), "p99": 1000 * pct(latencies, 0.99),
            "statuses": statuses, "web_ms": per(sum(_cpu(proc) for proc in procs) - web_before),
            "pg_ms": per(backends.cpu), "pg_backends": backends.count, "postmaster_ms": per(backends.postmaster_cpu),
            "redis_ms": per(sum(redis_proc.cpu_times()[:2]) - redis_before) if redis_proc else float("nan"),
            "client_ms": per(_self_cpu() - client_before - backends.thread_cpu),
            "machine_ms": per(_machine_busy() - machine_before)}


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def _report(clients: list[Client], procs: int, server: str, tag: str, m: dict, floor: dict) -> None:
    saved = Message.objects.filter(conversation__client__in=clients, author_role="client",
                                   external_id__startswith=tag).count()
    print(f"inbound SMS through the webhook with triage ({procs} process(es): {server}, {CONCURRENCY} connections, "
          f"CONN_MAX_AGE={os.environ.get('CONN_MAX_AGE', '0')}, DB_POOL_MAX={os.environ.get('DB_POOL_MAX', '8')}, "
          f"{OTHERS + CLIENTS} clients): "
          f"{m['rate']:.0f} messages/s, per request p50 {m['p50']:.1f} ms p99 {m['p99']:.1f} ms "
          f"({MESSAGES} requests, answers {m['statuses']}, {saved} saved; target >= 100/s)")
    ours = m["web_ms"] + m["pg_ms"] + m["postmaster_ms"] + m["redis_ms"] + m["client_ms"]
    print(f"  CPU per message by process: web {m['web_ms']:.1f} ms, PostgreSQL backends {m['pg_ms']:.1f} ms "
          f"({m['pg_backends']} new backends), postmaster {m['postmaster_ms']:.2f} ms (shared), "
          f"Redis {m['redis_ms']:.2f} ms (shared), this client {m['client_ms']:.1f} ms: sum {ours:.1f} ms "
          f"({os.cpu_count()} cores give at most {1000 * (os.cpu_count() or 1) / ours:.0f}/s at this cost)")
    print(f"  whole machine {m['machine_ms']:.1f} ms CPU per message (every process, the other sessions' too)")
    print(f"  floor, the same requests with a wrong signature (403, nothing read or written): "
          f"{floor['rate']:.0f} requests/s, web process(es) {floor['web_ms']:.1f} ms CPU each")


def _run(clients: list[Client], count: int, server: str, round_: int) -> None:
    """One measurement with `count` web processes of `server`, started and stopped here."""
    ports = [_free_port() for _ in range(count)]
    logs = [Path(tempfile.gettempdir()) / f"bench_inbound_web_{port}.log" for port in ports]
    tag = f"b{count}{server[0]}{round_}-"  # a new id per run: a saved id is a gateway's retry
    procs = []
    try:
        procs = [_start_web(port, log, server) for port, log in zip(ports, logs, strict=True)]
        # Warm-up: each process loads the classifier and opens its connections (not measured).
        warm_up = _requests(clients, 10 * max(count, CONCURRENCY), f"w{tag}")
        _drive(ports, _prepare(ports, warm_up, CLIENT_KINDS[0]), CLIENT_KINDS[0])
        # Client kinds one after the other against the same web processes (BENCH_INBOUND_CLIENT=httpx,raw
        # compares the load generators' own CPU in one run).
        for kind in CLIENT_KINDS:
            print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
            measured = _measure(ports, procs, _requests(clients, MESSAGES, f"{tag}{kind[0]}"), kind)
            forged = [(body, "0" * 64) for body, _signature in _requests(clients, min(MESSAGES, 300), "f")]
            floor = _measure(ports, procs, forged, kind)
            _report(clients, count, f"{server}, {kind} client", f"{tag}{kind[0]}", measured, floor)
            print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
            if set(measured["statuses"]) != {200}:
                print("errors in the web processes' logs: " + ", ".join(str(log) for log in logs))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    _cleanup()  # a run killed halfway leaves its rows
    try:
        clients = _make_clients()
        for count in PROCS:
            # Servers interleaved round by round: a change in the machine's load hits each alike.
            for round_ in range(ROUNDS):
                for server in servers_installed(SERVERS):
                    _run(clients, count, server, round_)
    finally:
        _cleanup()


if __name__ == "__main__":
    main()
