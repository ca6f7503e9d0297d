"""Communications bench.

(a) End to end: an emergency message is committed -> its outbox row's handler runs -> group_send ->
    the alert arrives on EVERY socket of that district's technicians; 200 technician sockets are
    connected across the 18 districts to a real daphne server (a subprocess) over real WebSockets.
    The outbox handler runs IN-PROCESS: right after the commit this script calls
    hvaccrm.services.outbox.outbox_process(log_id=...) in a worker thread, exactly what the Celery
    task outbox_process_task does (the handler registered by integration/contracts.py for
    (notifications, emergency.alert) -> communications.services.emergency_dispatch). The Celery
    broker hop (one Redis LPUSH/BRPOP, ~1 ms) is therefore not included. Run once per channel layer.
(b) Notification fan-out: notify() to 300 users (in-app + e-mail + SMS to a loopback HTTP gateway),
    then every external delivery's outbox row processed: deliveries completed per second.
(c) Precision and recall of `emergency` on the labelled set (communications/tests/data).
(d) Channel layers alone: RedisChannelLayer (capacity 200, expiry 30 s, the settings' values) vs
    RedisPubSubChannelLayer: group fan-out rate to 200 channels, and memory with one slow consumer
    (Redis used_memory and the backlog held by the receiving process).

Rows are marked (users bench-comms-*, client "BENCH-COMMS") and removed at the end.
Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_communications.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import django_setup, pct

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# In-process mode drives the outbox from this script (see the docstring); worker mode
# (BENCH_COMMS_WORKER=1) publishes on commit to a real Celery worker, the production path.
WORKER = os.environ.get("BENCH_COMMS_WORKER") == "1"
os.environ["OUTBOX_PUBLISH_ON_COMMIT"] = "true" if WORKER else "false"

PUBSUB = "channels_redis.pubsub.RedisPubSubChannelLayer"
CORE = "channels_redis.core.RedisChannelLayer"
N_TECHS = 200
TRIALS_PER_DISTRICT = int(os.environ.get("BENCH_COMMS_TRIALS", 3))
WORKER_TRIALS_PER_DISTRICT = 1
FANOUT_USERS = 300
FANOUT_WORKERS = 4
MARK = "BENCH-COMMS"


# --- cleanup -------------------------------------------------------------------------------------


def cleanup() -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from communications.models import Delivery, EmergencyAlert, Message, Notification
    from communications.services import ALERT_OBJECT
    from hvaccrm.models import Client, IntegrationLog

    try:  # worker mode: the prophecy handler stored vectors of the bench messages
        from prophecy.services import vectors_erase_for_client

        for client_id in Client.objects.filter(name=MARK).values_list("pk", flat=True):
            vectors_erase_for_client(client_id=client_id)
    except Exception as exc:  # the vector store is not what this bench measures
        print(f"(cleanup) vectors not erased: {exc}", flush=True)
    with transaction.atomic():
        clients = Client.objects.filter(name=MARK)
        message_ids = [str(i) for i in Message.objects.filter(conversation__client__in=clients).values_list("pk", flat=True)]
        alerts = list(EmergencyAlert.objects.filter(message__conversation__client__in=clients).values_list("pk", flat=True))
        notes = Notification.objects.filter(related_type=ALERT_OBJECT, related_id__in=[str(a) for a in alerts])
        users = get_user_model().objects.filter(username__startswith="bench-comms-")
        notes = notes | Notification.objects.filter(recipient__in=users)
        delivery_ids = [str(i) for i in Delivery.objects.filter(notification__in=notes).values_list("pk", flat=True)]
        IntegrationLog.objects.filter(object_type="communications.delivery", object_id__in=delivery_ids).delete()
        IntegrationLog.objects.filter(object_type="communications.message", object_id__in=message_ids).delete()
        EmergencyAlert.objects.filter(pk__in=alerts).delete()
        notes.delete()
        clients.delete()
        users.delete()


# --- (a) end to end ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_technicians():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from hvaccrm.geo import DISTRICTS
    from hvaccrm.models import District, Technician

    User = get_user_model()
    rng = random.Random(7)
    districts = list(District.objects.order_by("slug"))
    group = Group.objects.get(name="technician")
    techs = []
    for i in range(N_TECHS):
        d = districts[i % len(districts)]
        user = User.objects.create(username=f"bench-comms-tech-{i:03d}", first_name="Bench", last_name=f"T{i}")
        user.groups.add(group)
        _n, lat, lng, _t, _w = DISTRICTS[d.slug]
        techs.append(Technician(user=user, home_district=d, phone=f"+48 601 300 {i:03d}", on_shift=True,
                                last_latitude=lat + rng.uniform(-0.02, 0.02), last_longitude=lng + rng.uniform(-0.03, 0.03)))
    Technician.objects.bulk_create(techs)
    return techs


def _start_daphne(port: int) -> subprocess.Popen:
    import urllib.request

    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "hvaccrm.asgi:application"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except Exception as exc:
            if getattr(exc, "code", None):  # any HTTP answer means it is up
                return proc
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError("daphne did not start")


async def _ws_open(port: int, path: str):
    """A minimal RFC 6455 client (autobahn's asyncio flavour cannot load next to daphne's twisted)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"handshake refused: {head[:80]!r}")
    return reader, writer


async def _ws_frames(reader):
    """Yield (opcode, payload) of server frames (unmasked, unfragmented: what daphne sends)."""
    while True:
        b1, b2 = await reader.readexactly(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        mask = await reader.readexactly(4) if b2 & 0x80 else None
        data = await reader.readexactly(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        yield b1 & 0x0F, data


def _ws_pong(writer, payload: bytes) -> None:
    """A client frame must be masked (RFC 6455 5.3)."""
    mask = os.urandom(4)
    writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))


async def _connect_all(port: int, techs) -> tuple[list, dict]:
    from hvaccrm.realtime.tickets import ticket_issue

    received: dict = {}  # (message id, user id) -> perf_counter at arrival
    hellos: list = []
    waiters: dict = {}

    async def listen(reader, writer, user_id: int) -> None:
        try:
            async for opcode, data in _ws_frames(reader):
                now = time.perf_counter()
                if opcode == 8:
                    return
                if opcode == 9:  # daphne pings every 20 s and closes sockets that do not answer
                    _ws_pong(writer, data)
                    continue
                if opcode != 1:
                    continue
                frame = json.loads(data)
                if frame.get("type") == "hello":
                    hellos.append(user_id)
                elif frame.get("type") == "emergency.alert" and frame["data"].get("message"):
                    received.setdefault((frame["data"]["message"], user_id), now)
                    waiter = waiters.get(frame["data"]["message"])
                    if waiter is not None:
                        waiter()
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    tickets = await asyncio.to_thread(lambda: [ticket_issue(user_id=t.user_id) for t in techs])
    sockets = []
    for tech, ticket in zip(techs, tickets, strict=True):
        reader, writer = await _ws_open(port, f"/ws/?ticket={ticket}")
        sockets.append((writer, asyncio.ensure_future(listen(reader, writer, tech.user_id))))
    deadline = time.monotonic() + 30
    while len(hellos) < len(techs) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if len(hellos) < len(techs):
        raise RuntimeError(f"only {len(hellos)} of {len(techs)} sockets authenticated")
    return sockets, {"received": received, "waiters": waiters}


def _send_emergency(conversation_id: int, author, lat: float, lng: float, n: int) -> tuple[int, float, str, float]:
    """Commit an emergency message, then run its emergency.alert outbox row as the worker would.
    Returns (message id, commit time, district slug, handler duration ms)."""
    from django.db import transaction

    from communications import services
    from hvaccrm.models import IntegrationLog
    from hvaccrm.services.outbox import outbox_process

    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.perf_counter()))  # first callback: the commit instant
        message = services.message_send(author=author, conversation_id=conversation_id,
                                        body=f"Czuć gaz w kuchni przy piecu, pomocy! (test {n})", latitude=lat, longitude=lng)
        # The row's id, as the publish after commit hands it to the worker (read before the commit).
        row = IntegrationLog.objects.get(kind="emergency.alert", object_type="communications.message",
                                         object_id=str(message.pk))
    if WORKER:  # published on commit; the Celery worker runs it
        return message.pk, committed[0], message.district.slug, float("nan")
    started = time.perf_counter()
    state = outbox_process(log_id=row.pk)
    if state != "succeeded":
        raise RuntimeError(f"emergency row {row.pk} ended {state}: {IntegrationLog.objects.get(pk=row.pk).error}")
    return message.pk, committed[0], message.district.slug, (time.perf_counter() - started) * 1000


def e2e(backend: str) -> None:
    """Child mode: the settings (and daphne) use `backend`; prints one result line."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections

    from communications.models import Conversation
    from hvaccrm.geo import DISTRICTS
    from hvaccrm.models import Client, District, Technician
    from hvaccrm.services.outbox import handler_for

    handler = handler_for("notifications", "emergency.alert")
    cleanup()
    techs = _make_technicians()
    by_district: dict[str, set[int]] = {}
    for t in Technician.objects.filter(active=True, on_shift=True, private_mode=False).select_related("home_district"):
        by_district.setdefault(t.home_district.slug, set()).add(t.user_id)
    bench_users = {t.user_id for t in techs}
    author = get_user_model().objects.create(username="bench-comms-client")
    client = Client.objects.create(name=MARK, email="bench-comms@example.com", is_synthetic=True)
    client.users.add(author)
    conversation = Conversation.objects.create(client=client, subject=MARK)
    slugs = list(District.objects.order_by("slug").values_list("slug", flat=True))
    port = _free_port()
    daphne = _start_daphne(port)
    gateway = None
    if WORKER:  # the technicians' SMS deliveries share the worker's queue: give them a gateway that answers
        gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
        threading.Thread(target=gateway.serve_forever, daemon=True).start()
        os.environ["COMMS_SMS_GATEWAY_URL"] = f"http://127.0.0.1:{gateway.server_address[1]}/sms"
    worker = _start_worker() if WORKER else None
    trials = (WORKER_TRIALS_PER_DISTRICT if WORKER else TRIALS_PER_DISTRICT) * len(slugs)

    async def run() -> tuple[list[float], list[float]]:
        protocols, state = await _connect_all(port, techs)
        latencies, handler_ms = [], []
        warm_up = 8 if WORKER else 0  # each worker process loads code and models on its first tasks: not measured
        for n in range(-warm_up, trials):
            slug = slugs[n % len(slugs)]
            _name, lat, lng, _t, _w = DISTRICTS[slug]
            done = asyncio.Event()
            pending: dict = {}

            def check(pending=pending, done=done):
                mid = pending.get("message")
                if mid is not None and all((mid, u) in state["received"] for u in pending["expect"]):
                    done.set()

            if WORKER:  # emergencies are rare: each one meets a worker that finished the previous one's work
                await asyncio.to_thread(_wait_outbox_idle, 15.0)
            message_id, t0, msg_slug, h_ms = await asyncio.to_thread(
                _send_emergency, conversation.pk, author, lat, lng, n)
            expect = by_district.get(msg_slug, set()) & bench_users
            pending.update(message=message_id, expect=expect)
            state["waiters"][message_id] = check
            check()
            try:
                await asyncio.wait_for(done.wait(), timeout=120 if n < 0 else 60)
            except TimeoutError:
                missing = [u for u in expect if (message_id, u) not in state["received"]]
                rows = await asyncio.to_thread(_rows_of, message_id)
                raise RuntimeError(f"trial {n}: alert of message {message_id} ({msg_slug}) missing on "
                                   f"{len(missing)}/{len(expect)} sockets; outbox rows {rows}") from None
            if n < 0:
                continue
            latencies.append((max(state["received"][(message_id, u)] for u in expect) - t0) * 1000)
            handler_ms.append(h_ms)
            await asyncio.sleep(0.02)
        for writer, task in protocols:
            task.cancel()
            writer.close()
        await asyncio.sleep(0.2)
        return latencies, handler_ms

    try:
        latencies, handler_ms = asyncio.run(run())
    finally:
        if gateway is not None:
            gateway.shutdown()
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        daphne.terminate()
        try:
            daphne.wait(10)
        except subprocess.TimeoutExpired:
            daphne.kill()
        close_old_connections()
        cleanup()
    label = backend.rsplit(".", 1)[1]
    how = ("Celery worker (-c 2, published on commit, also running the message's prophecy/map rows and the "
           "SMS deliveries; each alert sent once the worker had finished the previous one's work)" if WORKER
           else "outbox run in-process")
    handler_note = "" if WORKER else f" (handler alone p50={pct(handler_ms, 0.5):.1f} ms)"
    print(f"(a) e2e emergency commit -> alert on every district technician socket [{label}, handler "
          f"{handler.__module__}.{handler.__name__}, {how}]: n={len(latencies)} "
          f"p50={pct(latencies, 0.5):.1f} ms p99={pct(latencies, 0.99):.1f} ms max={max(latencies):.1f} ms"
          f"{handler_note}; {N_TECHS} sockets, ~{N_TECHS // 18} per district", flush=True)


def _wait_outbox_idle(timeout: float) -> None:
    from django.utils import timezone

    from hvaccrm.models import IntegrationLog

    deadline = time.monotonic() + timeout
    recent = timezone.now() - timezone.timedelta(minutes=10)
    while time.monotonic() < deadline:
        if not IntegrationLog.objects.filter(state="pending", created_at__gte=recent).exists():
            return
        time.sleep(0.05)


def _rows_of(message_id: int) -> list:
    from hvaccrm.models import IntegrationLog

    return list(IntegrationLog.objects.filter(object_type="communications.message", object_id=str(message_id))
                .values_list("target", "kind", "state", "attempts", "error"))


def _start_worker() -> subprocess.Popen:
    from django.conf import settings

    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-Q",
                             settings.CELERY_TASK_DEFAULT_QUEUE, "-c", "2", "-P", "prefork", "--without-gossip",
                             "--without-mingle", "-l", "warning"], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "w"))


# --- (b) notification fan-out -------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Gateway.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def fanout() -> None:
    from django.contrib.auth import get_user_model

    from communications import conf, services
    from communications.models import Delivery, NotificationPreference
    from hvaccrm.models import IntegrationLog
    from hvaccrm.services.outbox import handler_for, outbox_process

    handler_for("notifications", "delivery.send")  # the integration layer's handler must be there
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conf.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/sms"
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bench-comms-user-{i:04d}", email=f"bench{i}@example.com")
                                      for i in range(FANOUT_USERS)])
    NotificationPreference.objects.bulk_create([NotificationPreference(user=u, channels=["in_app", "email", "sms"],
                                                                       phone="+48600100200") for u in users])
    try:
        started = time.perf_counter()
        spec = services.NotificationSpec(kind="bench.fanout", title="Przegląd", body="Przypomnienie o przeglądzie")
        ids = services.notify(user_ids=[u.pk for u in users], spec=spec)
        created = time.perf_counter() - started
        deliveries = Delivery.objects.filter(notification_id__in=ids)
        rows = list(IntegrationLog.objects.filter(kind="delivery.send", object_type="communications.delivery",
                                                  object_id__in=[str(d) for d in deliveries.values_list("pk", flat=True)])
                    .values_list("pk", flat=True))
        t1 = time.perf_counter()

        def work(chunk: list[int]) -> None:
            from django.db import connection

            try:
                for row in chunk:
                    outbox_process(log_id=row)
            finally:
                connection.close()

        # WORKERS threads stand for Celery worker processes (the work is database and network bound).
        with ThreadPoolExecutor(max_workers=FANOUT_WORKERS) as pool:
            list(pool.map(work, [rows[i::FANOUT_WORKERS] for i in range(FANOUT_WORKERS)]))
        external = time.perf_counter() - t1
        total = time.perf_counter() - started
        done = deliveries.filter(state__in=["sent", "delivered", "read"]).count()
        print(f"(b) fan-out: {len(ids)} notifications, {done}/{deliveries.count()} deliveries completed in "
              f"{total:.2f} s = {done / total:.0f} deliveries/s end to end (notify(): {len(ids) / created:.0f} "
              f"notifications/s with their in-app pushes; outbox e-mail+SMS: {len(rows) / external:.0f} /s with "
              f"{FANOUT_WORKERS} worker threads, gateway on loopback, {_Gateway.count} SMS accepted)", flush=True)
    finally:
        server.shutdown()
        cleanup()


# --- (c) classifier ------------------------------------------------------------------------------


def _labelled(name: str) -> list[list[str]]:
    path = ROOT / "communications/tests/data" / name
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def classifier() -> None:
    from communications.classifier import classify

    for name, note in (("labelled_messages.tsv", "in-sample: the rules were written against it"),
                       ("heldout_messages.tsv", "held out: written after the rules were frozen")):
        rows = _labelled(name)
        tp = fp = fn = 0
        started = time.perf_counter()
        for urgency, _lang, text in rows:
            got, want = classify(text).urgency == "emergency", urgency == "emergency"
            tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
        per_ms = (time.perf_counter() - started) * 1000 / len(rows)
        print(f"(c) classifier, {name}: {len(rows)} messages ({sum(u == 'emergency' for u, _l, _t in rows)} "
              f"emergencies): emergency precision={tp / (tp + fp):.3f} recall={tp / (tp + fn):.3f} "
              f"({per_ms:.2f} ms/message; {note})", flush=True)


# --- (d) the two channel layers alone -----------------------------------------------------------


def _layer_prefix() -> str:
    return f"benchlayer{os.getpid()}"


def _redis_memory() -> int:
    """Bytes held in Redis by this bench's layer keys (MEMORY USAGE of each; the server is shared,
    so its global used_memory moves with everybody else's work)."""
    import redis
    from django.conf import settings

    r = redis.Redis.from_url(settings.REDIS_URL)
    return sum(r.memory_usage(key) or 0 for key in r.scan_iter(match=_layer_prefix() + "*", count=1000))


def _layer(backend: str):
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    prefix = _layer_prefix()
    if backend == CORE:
        return RedisChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix, capacity=200, expiry=30, group_expiry=3600)
    return RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix)


async def _layer_fanout(backend: str, receivers: int = 200, messages: int = 100) -> float:
    sender, receiver = _layer(backend), _layer(backend)
    channels = [await receiver.new_channel() for _ in range(receivers)]
    for ch in channels:
        await receiver.group_add("fanout", ch)
    got = 0

    async def drain(ch):
        nonlocal got
        for _ in range(messages):
            await receiver.receive(ch)
            got += 1

    tasks = [asyncio.ensure_future(drain(ch)) for ch in channels]
    await asyncio.sleep(0.3)  # let the pub/sub subscriptions settle
    started = time.perf_counter()
    for i in range(messages):
        await sender.group_send("fanout", {"type": "realtime.push", "event": {"n": i, "pad": "x" * 300}})
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    except TimeoutError:
        for t in tasks:
            t.cancel()
    rate = got / (time.perf_counter() - started)
    for ch in channels:
        await receiver.group_discard("fanout", ch)
    await _close(sender)
    await _close(receiver)
    return rate, got, receivers * messages


async def _close(layer) -> None:
    closer = getattr(layer, "flush", None)
    if closer is not None:
        try:
            await closer()
        except Exception:
            pass
    for name in ("close_pools", "close"):
        fn = getattr(layer, name, None)
        if fn is not None:
            try:
                await fn()
            except Exception:
                pass
            break


async def _layer_slow_consumer(backend: str, messages: int = 20000) -> tuple[int, int]:
    """One channel in the group never reads; returns (Redis memory growth, backlog in the receiving process)."""
    sender, receiver = _layer(backend), _layer(backend)
    slow = await receiver.new_channel()
    await receiver.group_add("slow", slow)
    reader = asyncio.ensure_future(receiver.receive(slow))  # subscribes, reads one message, then stops reading
    await asyncio.sleep(0.3)
    before = await asyncio.to_thread(_redis_memory)
    event = {"type": "realtime.push", "event": {"pad": "x" * 1000}}
    for _ in range(messages):
        await sender.group_send("slow", event)
    await asyncio.sleep(0.5)
    grown = await asyncio.to_thread(_redis_memory) - before
    backlog = 0
    for loop_layer in getattr(receiver, "_layers", {}).values():  # RedisPubSubChannelLayer: one per event loop
        for queue in getattr(loop_layer, "channels", {}).values():
            backlog += queue.qsize()
    for queue in getattr(receiver, "receive_buffer", {}).values():  # RedisChannelLayer: bounded per channel
        backlog += queue.qsize()
    reader.cancel()
    await receiver.group_discard("slow", slow)
    await _close(sender)
    await _close(receiver)
    return grown, backlog


def layers() -> None:
    results = {}
    for backend in (CORE, PUBSUB):
        rate, got, want = asyncio.run(_layer_fanout(backend))
        grown, backlog = asyncio.run(_layer_slow_consumer(backend))
        label = backend.rsplit(".", 1)[1]
        results[label] = rate
        where = (f"receiving process holds {backlog} undelivered messages (~{backlog * 1.1 / 1024:.1f} MB), "
                 + ("unbounded (asyncio.Queue per channel)" if backend == PUBSUB
                    else "bounded: capacity 200 per channel in Redis and in the process buffer, expiry 30 s"))
        print(f"(d) {label}: group fan-out {rate:.0f} msgs/s to 200 channels ({got}/{want} received); slow consumer "
              f"after 20000 x 1 KB: Redis holds +{grown / 1024:.0f} KB for it; {where}", flush=True)
    fast = max(results, key=results.get)
    print(f"(d) fan-out ratio PubSub/Core = {results['RedisPubSubChannelLayer'] / results['RedisChannelLayer']:.1f}x "
          f"(faster: {fast})", flush=True)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--e2e":
        e2e(sys.argv[2])
        return 0
    django_setup()
    cleanup()
    classifier()
    for backend in (PUBSUB, CORE):
        env = {**os.environ, "CHANNEL_LAYER_BACKEND": backend}
        code = subprocess.run([sys.executable, __file__, "--e2e", backend], cwd=ROOT, env=env, timeout=150).returncode
        if code:
            print(f"(a) e2e with {backend} failed (exit {code})", flush=True)
    env = {**os.environ, "CHANNEL_LAYER_BACKEND": CORE, "BENCH_COMMS_WORKER": "1"}
    code = subprocess.run([sys.executable, __file__, "--e2e", CORE], cwd=ROOT, env=env, timeout=240).returncode
    if code:
        print(f"(a) e2e with a Celery worker failed (exit {code})", flush=True)
    fanout()
    layers()
    return 0


if __name__ == "__main__":
    sys.exit(main())
