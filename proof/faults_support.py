"""Shared plumbing of the fault suites (issue 20; proof/test_fault_*.py): real Celery worker
processes of the suite's own, a Redis server of its own, a loopback HTTP gateway, and the burst of
client messages that suites 1 and 3 push through the real path (message_send -> outbox -> worker)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection

from communications.tests.conftest import Gateway as LoopbackGateway
from conftest import database_url_for_test_db

ROOT = Path(__file__).resolve().parents[1]
FULL = os.environ.get("PROOF_FULL", "") not in ("", "0")

EMERGENCY = "Klimatyzacja nie chłodzi, serwerownia się przegrzewa!"
URGENT = "Klimatyzacja nie działa, proszę pilnie"
NORMAL = "Proszę o termin przeglądu klimatyzacji w przyszłym miesiącu."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, every: float = 0.3, tail=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail() if tail else ''}")


# --- the loopback SMS gateway -----------------------------------------------------------------------

class Gateway(LoopbackGateway):
    """The SMS gateway communications' transport tests use, on 127.0.0.1: records every POST with
    its body and Idempotency-Key; `delay` seconds before answering widen the window a kill can hit."""

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handler(self):
        base, delay = super().handler(), self.delay

        class Slow(base):
            def send_response(self, *args, **kwargs):  # after the request is recorded
                time.sleep(delay)
                super().send_response(*args, **kwargs)

        return Slow

    def sends(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == "/sms"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- a Redis server of the suite's own --------------------------------------------------------------

class RedisServer:
    """`redis-server` on a free port, nothing persisted; stop() and start() again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(  # noqa: S603 - our own server
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=15, what="redis-server to answer", every=0.1)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


# --- Celery worker processes ------------------------------------------------------------------------

APP_NAME = "proof-worker"


class Worker:
    """`celery -A hvaccrm worker` (solo pool: `kill -9` takes the whole worker down) on the test
    database, its connections named `proof-worker` (suite 3 cuts them), the loopback gateway."""

    def __init__(self, *, queues: list[str], log: Path, env: dict[str, str] | None = None, name: str = "proof") -> None:
        self.queues, self.log, self.extra, self.name = queues, log, env or {}, name
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        url = database_url_for_test_db()
        url += ("&" if "?" in url else "?") + f"application_name={APP_NAME}"
        env = {**os.environ, "DATABASE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "false", "TESTING": "true",
               "DEBUG": "true", "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
               "CHANNEL_PREFIX": django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
               "OUTBOX_BACKOFF_BASE": "0.5", "OUTBOX_BACKOFF_MAX": "2", **self.extra}
        self.starts += 1
        self.proc = subprocess.Popen(  # noqa: S603 - our own worker command
            [sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-Q", ",".join(self.queues),
             "-c", "1", "-P", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-l", "WARNING", "-n", f"{self.name}-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.tail()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def queues_purge(queues: list[str]) -> None:
    """Leave no queue of the suite behind in Redis (tasks put back by a killed worker included)."""
    from hvaccrm.celery import app as celery_app

    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        for q in queues:
            client.delete(q, f"_kombu.binding.{q}", f"_kombu.binding_permanent.{q}")


def queue_length(queues: list[str]) -> int:
    from hvaccrm.celery import app as celery_app

    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        return sum(client.llen(q) for q in queues)


def sessions_wait_gone(timeout: float = 10.0) -> None:
    """The workers' database sessions end a moment after their processes: wait, so the test
    database can be dropped at the end of the run."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = %s", [APP_NAME])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)


class ConnectionCutter(threading.Thread):
    """Suite 3: `pg_terminate_backend` on every database connection of the workers each `every` s."""

    def __init__(self, *, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.every, self.cut, self.rounds = every, 0, 0
        self.halt = threading.Event()

    def run(self) -> None:
        from django.db import connections

        try:
            while not self.halt.wait(self.every):
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND application_name = %s", [APP_NAME])
                    self.cut += cursor.fetchone()[0]
                self.rounds += 1
        finally:
            connections.close_all()


# --- the burst of suites 1 and 3 ---------------------------------------------------------------------

@dataclass
class Burst:
    messages: list = field(default_factory=list)   # (message id, kind, job id, latitude, longitude)
    sent_seconds: float = 0.0


def burst_world(*, districts: tuple[str, ...] = ("mokotow", "wola", "srodmiescie")) -> dict:
    """Clients with a site in each district; two on-shift technicians with phones per district (an
    emergency wakes them by SMS); a manager."""
    from hvaccrm.tests.factories import ClientFactory, SiteFactory, TechnicianFactory, UserFactory, district

    UserFactory(role="manager", is_staff=True)
    world = {}
    for i, slug in enumerate(districts):
        for t in range(2):
            TechnicianFactory(home_district=district(slug), on_shift=True, phone=f"+48 601 20{i} 3{t}0")
        user = UserFactory(username=f"client-{slug}@example.com", email=f"client-{slug}@example.com", role="client")
        client = ClientFactory(name=f"Klient {slug}", email=user.email)
        client.users.add(user)
        site = SiteFactory(client=client, district=district(slug), latitude=52.2297 - i * 0.01, longitude=21.0122)
        world[slug] = (client, user, site)
    return world


def burst_send(*, world: dict, total: int, emergencies: int, urgent: int, on_each=None) -> Burst:
    """`total` client messages through communications' message_send: `emergencies` emergencies and
    `urgent` high-urgency messages with coordinates, each about a job of its own (the map moves
    that job to the message's point); the rest normal, in one conversation per client."""
    from communications.services import conversation_start, message_send
    from hvaccrm.tests.factories import ServiceJobFactory

    burst, slugs = Burst(), list(world)
    plain = {slug: conversation_start(author=user, client_id=client.pk, subject="Przegląd")
             for slug, (client, user, _site) in world.items()}
    kinds = (["emergency"] * emergencies + ["urgent"] * urgent + ["normal"] * (total - emergencies - urgent))
    # Interleaved, so the kill falls among every kind.
    order = sorted(range(total), key=lambda i: (i * 7919) % total)
    started = time.monotonic()
    for n, i in enumerate(order):
        kind, slug = kinds[i], slugs[i % len(slugs)]
        client, user, site = world[slug]
        lat = lon = job_id = None
        if kind == "normal":
            conversation = plain[slug]
        else:
            job = ServiceJobFactory(site=site, client=client, description="Awaria klimatyzacji")
            job_id = job.pk
            conversation = conversation_start(author=user, client_id=client.pk, subject="Awaria", job_id=job.pk)
            lat, lon = round(site.latitude + (i % 50) * 0.0002, 6), round(site.longitude + (i % 37) * 0.0002, 6)
        text = {"emergency": EMERGENCY, "urgent": URGENT, "normal": NORMAL}[kind]
        message = message_send(author=user, conversation_id=conversation.pk, body=f"{text} ({i})",
                               latitude=lat, longitude=lon)
        burst.messages.append((message.pk, kind, job_id, lat, lon))
        if on_each is not None:
            on_each(n)
    burst.sent_seconds = time.monotonic() - started
    return burst


def rows_succeeded() -> int:
    from hvaccrm.models import IntegrationLog

    return IntegrationLog.objects.filter(state="succeeded").count()


def rows_owed() -> int:
    from hvaccrm.models import IntegrationLog

    return IntegrationLog.objects.exclude(state__in=["succeeded", "dead"]).count()


def sweep_until_drained(*, queues: list[str], workers: list[Worker], timeout: float) -> int:
    """Run the sweep (every row owed, no grace) each time the queues are empty, until nothing is
    owed; returns how many sweeps it took. A worker that died is restarted (a supervisor's job)."""
    from hvaccrm.services.outbox import outbox_sweep

    sweeps, deadline = 0, time.monotonic() + timeout
    while rows_owed():
        assert time.monotonic() < deadline, f"not drained: {rows_owed()} rows owed\n{workers[0].tail()}"
        for w in workers:
            if not w.alive():
                w.start()
        if queue_length(queues) == 0:
            outbox_sweep(grace_seconds=0)
            sweeps += 1
        time.sleep(1.0)
    return sweeps


# --- suites 1 and 3: the burst, the kill, the sweep, and what must hold after ------------------------

_TOTAL = 1000 if FULL else int(os.environ.get("PROOF_FAULT_MESSAGES", "100"))
SIZES = {"total": _TOTAL, "emergencies": _TOTAL // 10, "urgent": _TOTAL * 3 // 10, "kill_after": max(10, _TOTAL // 5)}


@dataclass
class Outcome:
    burst: Burst
    kills: int = 0
    hit_mid_send: set = field(default_factory=set)  # deliveries left "sending" by a kill
    sweeps: int = 0
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)


def burst_run(*, tmp_path: Path, gateway: Gateway, kill: bool, cutter: ConnectionCutter | None = None) -> Outcome:
    """Suite 1's run: a worker on the default and emergency queues, the burst sent, `kill -9` of the
    worker after about SIZES["kill_after"] rows succeeded (aimed at an SMS in flight), a new worker,
    the sweep until drained."""
    from communications.models import Delivery

    queues = [django_settings.CELERY_TASK_DEFAULT_QUEUE, django_settings.CELERY_EMERGENCY_QUEUE]
    worker = Worker(queues=queues, log=tmp_path / "worker.log", env={"COMMS_SMS_GATEWAY_URL": gateway.url})
    world = burst_world()
    outcome = Outcome(burst=Burst())
    started = outcome.figures["started"] = time.monotonic()
    killer = Killer(worker, outcome, gateway)
    worker.start()
    for thread in (killer if kill else None, cutter):
        if thread is not None:
            thread.start()
    try:
        outcome.burst = burst_send(world=world, total=SIZES["total"], emergencies=SIZES["emergencies"],
                                   urgent=SIZES["urgent"])
        if kill:
            killer.join(600 if FULL else 300)
            assert outcome.kills, f"no kill: {rows_succeeded()} rows succeeded, {outcome.figures.get('killer_error')}"
        if not worker.alive():
            worker.start()  # restarted, as a supervisor would
        drain_started = time.monotonic()
        outcome.sweeps = sweep_until_drained(queues=queues, workers=[worker], timeout=900 if FULL else 240)
    finally:
        for thread in (killer, cutter):
            if thread is not None and thread.is_alive():
                thread.halt.set()
                thread.join(10)
        worker.stop()
        sessions_wait_gone()
        queues_purge(queues)
    outcome.seconds = time.monotonic() - started
    outcome.figures["drain_seconds"] = time.monotonic() - drain_started
    outcome.figures["deliveries_sms"] = Delivery.objects.filter(channel="sms").count()
    return outcome


class Killer(threading.Thread):
    """`kill -9` of the worker once SIZES["kill_after"] rows succeeded, at the moment an SMS is in
    flight (the gateway's delay holds it open): the resend with the same reference is proven, not
    left to chance. The deliveries left "sending" are the ones the kill hit mid-send."""

    def __init__(self, worker: Worker, outcome: Outcome, gateway: Gateway) -> None:
        super().__init__(daemon=True)
        self.worker, self.outcome, self.gateway = worker, outcome, gateway
        self.halt = threading.Event()

    def run(self) -> None:
        from django.db import connections

        from communications.models import Delivery

        try:
            while not self.halt.is_set() and rows_succeeded() < SIZES["kill_after"]:
                time.sleep(0.2)
            while not self.halt.is_set() and not self._gateway_has_one_sending():
                time.sleep(0.03)
            if self.halt.is_set():
                return
            self.worker.kill9()
            o = self.outcome
            o.kills += 1
            o.figures["rows_at_kill"] = rows_succeeded()
            o.figures["kill_at_seconds"] = time.monotonic() - o.figures["started"]
            o.hit_mid_send |= set(Delivery.objects.filter(state="sending").values_list("pk", flat=True))
        except Exception as exc:
            self.outcome.figures["killer_error"] = repr(exc)
            raise
        finally:
            connections.close_all()

    def _gateway_has_one_sending(self) -> bool:
        """A delivery still "sending" whose text the gateway already took."""
        from communications.models import Delivery

        taken = {r["idempotency_key"] for r in self.gateway.sends()}
        return any(f"delivery-{pk}" in taken for pk in Delivery.objects.filter(state="sending").values_list("pk", flat=True))


def burst_check(outcome: Outcome, gateway: Gateway, *, allowed_resends: int) -> dict:
    """What must hold after the burst: every row succeeded, one alert per emergency, one
    notification per recipient and key, every job at its message's point, every SMS sent with
    at most `1 + allowed_resends` gateway sends (each kill or cut that hit it mid-send), all
    carrying the delivery's reference. Returns the figures."""
    from django.db.models import Count

    from communications.models import Delivery, EmergencyAlert, Notification
    from hvaccrm.models import IntegrationLog, ServiceJob

    burst = outcome.burst
    states = dict(IntegrationLog.objects.values_list("state").annotate(n=Count("id")))
    assert set(states) == {"succeeded"}, states
    emergency_ids = [m for m, kind, *_ in burst.messages if kind == "emergency"]
    assert EmergencyAlert.objects.count() == len(emergency_ids) == SIZES["emergencies"]
    assert set(EmergencyAlert.objects.values_list("message_id", flat=True)) == set(emergency_ids)
    doubled = (Notification.objects.values("recipient", "kind", "related_type", "related_id", "dedupe_key")
               .annotate(n=Count("id")).filter(n__gt=1))
    assert not doubled.exists(), list(doubled[:5])
    jobs = {j.pk: (j.latitude, j.longitude) for j in ServiceJob.objects.all()}
    located = [(job, lat, lon) for _m, kind, job, lat, lon in burst.messages if kind == "urgent"]
    assert len(located) == SIZES["urgent"]
    assert all(jobs[job] == (lat, lon) for job, lat, lon in located), "a job is not at its message's point"
    sms = {d.pk: d for d in Delivery.objects.filter(channel="sms")}
    assert sms and all(d.state == "sent" for d in sms.values())
    per_reference: dict[str, int] = {}
    for r in gateway.sends():
        assert r["body"]["reference"] == r["idempotency_key"], r
        per_reference[r["idempotency_key"]] = per_reference.get(r["idempotency_key"], 0) + 1
    assert set(per_reference) == {f"delivery-{pk}" for pk in sms}
    for pk in sms:
        extra = (1 if pk in outcome.hit_mid_send else 0) + allowed_resends  # a kill and a cut can both hit one
        assert per_reference[f"delivery-{pk}"] <= 1 + extra, (pk, per_reference[f"delivery-{pk}"])
    return {"rows": sum(states.values()), "alerts": EmergencyAlert.objects.count(),
            "notifications": Notification.objects.count(), "sms": len(sms),
            "gateway_sends": sum(per_reference.values()),
            "resent": sum(n - 1 for n in per_reference.values()), "hit_mid_send": len(outcome.hit_mid_send)}
