"""Emergency bench (issue 12): commit -> alert on 200 technician sockets through the real workers.

Two real Celery worker processes, started as `make run` starts them (scripts/stack.py): one on the
emergency queue (`CELERY_EMERGENCY_QUEUE`, -n emergency@%h) and one on the default queue, both
-c 2 prefork. 200 on-shift technicians of one district; for each, one receiver on the real Redis
channel layer of the settings, added to the technician's group (`technician_group`, what the
technician's socket joins). An emergency message is committed through `message_send`; its
`emergency.alert` outbox row is published on commit to the emergency queue; the worker runs
`emergency_dispatch`, which pushes `emergency.alert` to the 200 groups. Measured: commit (the
first on_commit callback) -> each receiver's receipt of the alert, in one process, one clock.

Twice: (1) no backlog; (2) with 2,000 vector-sync rows ((prophecy, message.created) outbox rows,
embedded and upserted by the default worker) queued on the default queue first; the queue's length
is printed at the start and the end of the run, so the backlog is shown to be there throughout.
Each alert is sent once the previous one reached every receiver (emergencies are rare), after
warm-up alerts that are not measured (each worker process loads code and models on its first tasks).

Queues of their own (`<CELERY_QUEUE>-bench-emergency-<pid>` and its `-emergency`), rows marked
(users bench-emerg-*, client "BENCH-EMERG"); queues, rows and vectors are removed at the end.
Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_emergency.py
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import (
    celery_queues_clear,
    django_setup,
    emergency_rows_delete,
    pct,
    process_stop,
    technicians_on_shift,
    uptime,
    worker_bench_environment,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
worker_bench_environment("emergency")

N_TECHS = 200
TRIALS = int(os.environ.get("BENCH_EMERGENCY_TRIALS", 20))
WARM_UP = 4
BACKLOG = 2000
RECEIPT_TIMEOUT = 15.0
MARK = "BENCH-EMERG"
DISTRICT = "mokotow"


def cleanup() -> None:
    from django.db import transaction

    from hvaccrm.models import Client, IntegrationLog

    try:
        from prophecy.services import vectors_erase_for_client

        for client_id in Client.objects.filter(name=MARK).values_list("pk", flat=True):
            vectors_erase_for_client(client_id=client_id)
    except Exception as exc:  # the vector store is not what this bench measures
        print(f"(cleanup) vectors not erased: {exc}", flush=True)
    with transaction.atomic():
        client_ids = emergency_rows_delete(client_name=MARK, user_prefix="bench-emerg-")
        # The backlog's rows name the bench client in their payload (no message behind them).
        IntegrationLog.objects.filter(target="prophecy", payload__client__in=client_ids).delete()


def _queue_length(queue: str) -> int:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue)


def _backlog(client_id: int) -> int:
    """2,000 vector-sync rows on the default queue, recorded and published as the outbox does."""
    from django.db import transaction
    from django.utils import timezone

    from hvaccrm.models.outbox import Target
    from hvaccrm.services.outbox import record

    rng = random.Random(11)
    words = ["pompa ciepła", "klimatyzacja", "serwis", "przegląd", "filtr", "wentylacja", "kocioł", "hałas"]
    with transaction.atomic():
        for i in range(BACKLOG):
            text = f"Bench backlog {i}: {' '.join(rng.choices(words, k=8))}"
            record(source="communications", target=Target.PROPHECY, kind="message.created",
                   object_type="communications.message", object_id=str(900_000_000 + i),
                   payload={"message": 900_000_000 + i, "conversation": 0, "client": client_id, "text": text,
                            "language": "pl", "district": DISTRICT, "service_type": None, "urgency": "normal",
                            "created": timezone.now().isoformat()})
    return BACKLOG


# --- workers, gateway, receivers ------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    """The technicians' SMS deliveries run on the default worker: a gateway that answers at once."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _start_worker(queue: str, name: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-l", "warning", "-c", "2", "-n", f"{name}@%h",
         "-Q", queue, "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=_worker_env(name), stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _worker_env(name: str) -> dict[str, str]:
    """As `make run` starts them: the emergency worker keeps its database connections."""
    return {"CONN_MAX_AGE": "600", **os.environ} if "emergency" in name else dict(os.environ)


class Receivers:
    """One channel-layer receiver per technician group, in an event loop of its own thread."""

    def __init__(self, tech_ids: list[int]) -> None:
        self.tech_ids = tech_ids
        self.arrivals: list[tuple[int, float, int]] = []  # (technician, time.time(), alert id)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.tasks: list[asyncio.Task] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        from channels.layers import get_channel_layer

        from hvaccrm.realtime import groups as g

        self.layer = get_channel_layer()
        self.stop = asyncio.Event()

        async def listen(tech_id: int, channel: str) -> None:
            while True:
                message = await self.layer.receive(channel)
                at = time.time()
                event = message.get("event") or {}
                if event.get("type") == "emergency.alert":
                    self.arrivals.append((tech_id, at, int(event.get("id") or (event.get("data") or {}).get("alert") or 0)))

        channels = []
        for tech_id in self.tech_ids:
            channel = await self.layer.new_channel()
            await self.layer.group_add(g.technician_group(tech_id), channel)
            channels.append((tech_id, channel))
        self.tasks = [asyncio.create_task(listen(t, c)) for t, c in channels]
        self.channels = channels
        self.ready.set()
        await self.stop.wait()
        for task in self.tasks:
            task.cancel()
        for tech_id, channel in channels:
            await self.layer.group_discard(g.technician_group(tech_id), channel)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("receivers did not start")

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


def _alert(conversation_id: int, author, n: int) -> tuple[float, int]:
    """Commit an emergency message: the commit instant (its first on_commit callback, time.time(),
    the clock the worker's row timestamps use too) and the message's id."""
    from django.db import transaction

    from communications import services

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        message = services.message_send(author=author, conversation_id=conversation_id,
                                        body=f"Czuć gaz w kuchni przy piecu, pomocy! (bench {n})", latitude=52.19,
                                        longitude=21.02)
    return committed[0], message.pk


def _run(receivers: Receivers, conversation_id: int, author, label: str, warm_up: int) -> dict:
    latencies: list[float] = []
    alerts: list[tuple[int, float, float, float]] = []  # (message, commit, first receipt, last receipt)
    missing = 0
    for n in range(warm_up + TRIALS):
        seen = len(receivers.arrivals)
        t0, message_id = _alert(conversation_id, author, n)
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        # A cheap check (one frame per technician): building the receipts here every few ms held
        # the GIL the receivers' thread needs, and stretched the fan-out it measures.
        while time.monotonic() < deadline and len(receivers.arrivals) - seen < N_TECHS:
            time.sleep(0.005)
        got = {}
        for tech, at, _a in receivers.arrivals[seen:]:
            got.setdefault(tech, at)
        if n < warm_up:
            continue
        missing += N_TECHS - len(got)
        latencies += [(at - t0) * 1000 for at in got.values()]
        if got:
            alerts.append((message_id, t0, min(got.values()), max(got.values())))
        time.sleep(0.2)
    return {"label": label, "p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "last_p50": pct([(last - t0) * 1000 for _m, t0, _f, last in alerts], 0.5) if alerts else float("nan"),
            "missing": missing, "alerts": alerts}


def _stages(alerts: list[tuple[int, float, float, float]]) -> str:
    """Where the time goes, per alert, on one clock: commit -> handler start (the publish, the queue,
    the worker's pick-up and the row's attempt count), handler start -> first receipt (the first
    half: the alert, responses and in-app notifications committed, then presence and the pipelined
    push), first -> last receipt (the fan-out), and the second half (SMS rows, routing log,
    managers, the office's chain) ending after the push. The handler's start is its row's
    finished_at - duration_ms."""
    from datetime import timedelta

    from hvaccrm.models import IntegrationLog

    rows = {int(r.object_id): r for r in IntegrationLog.objects.filter(
        kind="emergency.alert", object_type="communications.message",
        object_id__in=[str(m) for m, *_rest in alerts]).exclude(duration_ms=None).exclude(finished_at=None)}
    wait, first, spread, rest = [], [], [], []
    for message_id, t0, first_at, last_at in alerts:
        row = rows.get(message_id)
        if row is None:
            continue
        end = row.finished_at.timestamp()
        start = (row.finished_at - timedelta(milliseconds=row.duration_ms)).timestamp()
        wait.append((start - t0) * 1000)
        first.append((first_at - start) * 1000)
        spread.append((last_at - first_at) * 1000)
        rest.append((end - first_at) * 1000)
    if not wait:
        return "stages: no timings"

    def fig(name: str, values: list[float]) -> str:
        return f"{name} p50={pct(values, 0.5):.0f} ms p99={pct(values, 0.99):.0f} ms"

    return (f"stages over {len(wait)} alerts: " + "; ".join([
        fig("commit -> handler start", wait), fig("handler start -> first receipt", first),
        fig("first -> last receipt", spread), fig("first receipt -> handler end (second half)", rest)]))


def main() -> int:
    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from communications.models import Conversation
    from hvaccrm.models import Client

    print(f"load before: {uptime()}", flush=True)
    cleanup()
    celery_queues_clear()
    techs = technicians_on_shift(prefix="bench-emerg-tech-", n=N_TECHS, district_slug=DISTRICT, phone="+48 601 400 ")
    author = get_user_model().objects.create(username="bench-emerg-client")
    client = Client.objects.create(name=MARK, email="bench-emerg@example.com", is_synthetic=True)
    client.users.add(author)
    conversation = Conversation.objects.create(client=client, subject=MARK)
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    os.environ["COMMS_SMS_GATEWAY_URL"] = f"http://127.0.0.1:{gateway.server_address[1]}/sms"
    logs = ROOT / "var" / "log"
    logs.mkdir(parents=True, exist_ok=True)
    default_q, emergency_q = settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_EMERGENCY_QUEUE
    workers = [_start_worker(emergency_q, "bench-emergency", logs / "bench-worker-emergency.log"),
               _start_worker(default_q, "bench-default", logs / "bench-worker-default.log")]
    receivers = Receivers([t.pk for t in techs])
    results = []
    try:
        receivers.start()
        time.sleep(3)  # the workers connect to the broker
        results.append(_run(receivers, conversation.pk, author, "no backlog", WARM_UP))
        _backlog(client.pk)
        time.sleep(0.5)
        start_len = _queue_length(default_q)
        results.append(_run(receivers, conversation.pk, author, f"{BACKLOG:,} vector-sync rows queued", 1))
        end_len = _queue_length(default_q)
        results[-1]["queue"] = (start_len, end_len)
        times = "\n  ".join(f"{r['label']}: {_stages(r['alerts'])}" for r in results)
    finally:
        receivers.close()
        for w in workers:
            process_stop(w)
        gateway.shutdown()
        celery_queues_clear()
        cleanup()
    print(f"load after: {uptime()}", flush=True)
    print(f"commit -> emergency.alert on {N_TECHS} technician groups (real Redis channel layer "
          f"{settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}), emergency worker on "
          f"{emergency_q!r} and default worker on {default_q!r} (-c 2 prefork each), {TRIALS} alerts per run:")
    for r in results:
        queue = f", default queue {r['queue'][0]} -> {r['queue'][1]} tasks during the run" if "queue" in r else ""
        print(f"  {r['label']}: p50={r['p50']:.1f} ms p99={r['p99']:.1f} ms over {r['n']} receipts "
              f"(last of 200 p50={r['last_p50']:.1f} ms, missing {r['missing']}){queue}", flush=True)
    print(f"  {times}", flush=True)
    ratio = results[1]["p99"] / results[0]["p99"]
    verdict = "meets" if ratio <= 1.2 else "misses"
    print(f"  backlog p99 / quiet p99 = {ratio:.2f} ({verdict} the <= 1.20 target); aim p99 < 100 ms: "
          f"{'yes' if max(r['p99'] for r in results) < 100 else 'no'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
