"""A web process under more requests than it can run: admission control (hvaccrm/admission.py) and
the bounded database pool (DATABASES OPTIONS["pool"], turned on by hvaccrm/asgi.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from conftest import _free_port, database_url_for_test_db
from hvaccrm.admission import AdmissionLimit


class _SlowApp:
    """An inner ASGI app that counts how many calls are inside it at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.inside, self.most = seconds, 0, 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await asyncio.sleep(self.seconds)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _call(app, path: str = "/portal/", kind: str = "http") -> dict:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await app({"type": kind, "method": "GET", "path": path}, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), {})
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {"status": start.get("status"), "headers": dict(start.get("headers", [])), "body": body}


async def test_requests_over_the_limit_wait_their_turn_and_are_all_answered():
    inner = _SlowApp(0.05)
    app = AdmissionLimit(inner, limit=2, wait=5)
    answers = await asyncio.gather(*(_call(app) for _ in range(10)))
    assert [a["status"] for a in answers] == [200] * 10
    assert inner.most == 2


async def test_a_request_that_waits_too_long_is_answered_503_with_retry_after():
    inner = _SlowApp(0.5)
    app = AdmissionLimit(inner, limit=1, wait=0.1, retry_after=7)
    first, page, api = await asyncio.gather(_call(app), _call(app, "/portal/"), _call(app, "/api/core/ws-ticket/"))
    assert first["status"] == 200
    assert page["status"] == api["status"] == 503
    assert page["headers"][b"retry-after"] == api["headers"][b"retry-after"] == b"7"
    assert b"busy" in page["body"] and b'"code": "overloaded"' in api["body"]
    assert app.refused == 2
    assert (await _call(app))["status"] == 200  # the slot of a refused request was never taken


async def test_websockets_are_not_held_by_the_request_limit():
    inner = _SlowApp(0.2)
    app = AdmissionLimit(inner, limit=1, wait=0.05)
    await asyncio.gather(*(_call(app, "/ws/", kind="websocket") for _ in range(5)))
    assert inner.most == 5


def _connections(application_name: str) -> int:
    url = database_url_for_test_db().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            [application_name]).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_web_process_serves_sixty_concurrent_requests_on_at_most_its_pool_of_connections():
    # Admission control off, so every request gets a thread of its own: the pool alone bounds the
    # connections (without it each thread had one, and an overloaded process took all of PostgreSQL's).
    name = f"capacity-{os.getpid()}"
    port = _free_port()
    sep = "&" if "?" in database_url_for_test_db() else "?"
    env = {**os.environ, "DATABASE_URL": f"{database_url_for_test_db()}{sep}application_name={name}",
           "DB_POOL_MAX": "3", "WEB_CONCURRENT_REQUESTS": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    env.pop("DB_POOL_MIN", None)
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "hvaccrm.asgi:application"], env=env, stderr=subprocess.PIPE)
    most, done = 0, threading.Event()

    def sample() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, _connections(name))
            time.sleep(0.02)

    def database_ok(_i: int) -> bool:  # /healthz reads the database (503 when another check fails)
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60).read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
        return json.loads(body)["checks"]["database"]["ok"]

    try:
        _wait_answering(proc, port)
        sampler = threading.Thread(target=sample)
        sampler.start()
        with ThreadPoolExecutor(60) as pool:
            answers = list(pool.map(database_ok, range(60)))
        done.set()
        sampler.join()
    finally:
        done.set()
        proc.terminate()
        proc.wait(10)
    assert answers == [True] * 60
    assert 1 <= most <= 3


def _wait_answering(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/portal/login/", timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    raise RuntimeError("daphne did not answer")


def test_the_pool_is_sized_from_the_environment_and_only_where_it_is_asked_for():
    code = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'hvaccrm.settings'; django.setup(); "
            "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('pool'))")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DB_POOL")}

    def pool(**extra) -> str:
        return subprocess.run([sys.executable, "-c", code], env={**base, **extra}, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert pool() == "None"  # commands, workers and tests: no pool unless asked
    assert "'max_size': 5" in pool(DB_POOL_MAX="5") and "'min_size': 2" in pool(DB_POOL_MAX="5")
    assert pool(DB_POOL_MAX="5", CONN_MAX_AGE="600") == "None"  # a kept connection is not pooled
    assert connection.settings_dict["OPTIONS"].get("pool") is None  # this test run's own


async def test_sockets_run_their_database_work_on_several_threads_each_socket_on_one():
    from asgiref.sync import sync_to_async

    from hvaccrm.admission import SocketLanes

    seen: dict[int, set[str]] = {}

    def work(socket: int) -> None:  # what database_sync_to_async runs: thread-sensitive by default
        time.sleep(0.05)
        seen.setdefault(socket, set()).add(threading.current_thread().name)

    async def consumer(scope, receive, send) -> None:
        for _ in range(3):
            await sync_to_async(work)(scope["socket"])

    app = SocketLanes(consumer, lanes=2)
    started = time.monotonic()
    await asyncio.gather(*(app({"type": "websocket", "socket": i}, None, None) for i in range(4)))
    assert all(len(names) == 1 for names in seen.values())  # a socket keeps its thread
    assert len(set().union(*seen.values())) == 2
    assert time.monotonic() - started < 4 * 3 * 0.05  # two lanes at once, not one after another
