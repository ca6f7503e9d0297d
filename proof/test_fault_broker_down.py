"""Suite 2, broker down (issue 20): the suite's own Redis (cache, channel layer, Celery broker of a
daphne server and a real worker) is stopped mid-burst for OUTAGE seconds (short setting 6 s,
FULL=1 30 s) and started again empty, as after a crash without persistence.

While it is down: portal pages and API reads and writes answer (no 5xx; the cache's failures are
tolerated), the sign-in link form answers as always but sends nothing (login throttling fails
closed), a new socket is closed with a code the page's script answers with "reconnecting" (not
4401/4403), and every message the API accepted is committed. Once Redis is back the sweep hands
the lost tasks back: every outbox row succeeds, every emergency is alerted, and a socket is live."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from conftest import database_url_for_test_db
from proof.faults_support import (
    EMERGENCY,
    FULL,
    NORMAL,
    ROOT,
    URGENT,
    RedisServer,
    Worker,
    burst_world,
    free_port,
    sessions_wait_gone,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(900 if FULL else 600)]
logging.getLogger("httpx").setLevel(logging.WARNING)
OUTAGE = float(os.environ.get("PROOF_OUTAGE_SECONDS", "30" if FULL else "6"))


def _env(redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url_for_test_db(), "REDIS_URL": redis_url, "DEBUG": "true",
            "TESTING": "true", "CELERY_TASK_ALWAYS_EAGER": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
            "CHANNEL_PREFIX": django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]}


def _daphne(env: dict[str, str], log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own server
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hvaccrm.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, "daphne exited"
        try:
            return httpx.get(url + "/portal/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="daphne")
    return proc, url


def _sweep(env: dict[str, str]) -> None:
    """The beat's outbox sweep, run against the suite's Redis (no grace: everything owed)."""
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-c", "import django; django.setup(); from hvaccrm.services.outbox import outbox_sweep; "
         "outbox_sweep(grace_seconds=0)"], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "hvaccrm.settings"},
        check=True, stdout=subprocess.DEVNULL)


def _personas():
    """The client (an API token and a portal session) and her conversation; a dispatcher's token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from knox.models import AuthToken

    from communications.services import conversation_start
    from hvaccrm.tests.factories import UserFactory

    client, user, _site = burst_world(districts=("mokotow",))["mokotow"]
    dispatcher = UserFactory(username="dorota", role="dispatcher", is_staff=True)
    conversation = conversation_start(author=user, client_id=client.pk, subject="Serwis")
    session = SessionStore()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: django_settings.AUTHENTICATION_BACKENDS[-1],
                    HASH_SESSION_KEY: user.get_session_auth_hash()})
    session.set_expiry(timedelta(hours=1))
    session.create()
    return {"token": AuthToken.objects.create(user)[1], "office": AuthToken.objects.create(dispatcher)[1],
            "session": session.session_key, "conversation": conversation.pk, "email": user.email}


class Traffic:
    """One round of a client's and the office's requests; every answer's status is kept."""

    def __init__(self, url: str, p: dict) -> None:
        self.url, self.p = url, p
        self.api = httpx.Client(base_url=url, headers={"Authorization": f"Token {p['token']}"}, timeout=30)
        self.office = httpx.Client(base_url=url, headers={"Authorization": f"Token {p['office']}"}, timeout=30)
        self.portal = httpx.Client(base_url=url, cookies={"sessionid": p["session"]}, timeout=30)
        self.statuses: list[tuple[str, int, bool]] = []  # (what, status, during the outage)
        self.accepted: list[tuple[int, str]] = []  # (message id, text) the API answered 201 for
        self.n = 0

    def round(self, *, down: bool) -> None:
        self.n += 1
        text = [EMERGENCY, URGENT, NORMAL][self.n % 3] + f" ({self.n})"
        r = self.api.post("/api/communications/messages/", json={"conversation": self.p["conversation"], "body": text})
        self.statuses.append(("POST message", r.status_code, down))
        if r.status_code == 201:
            self.accepted.append((r.json()["id"], text))
        for what, client, path in (("GET messages", self.api, f"/api/communications/messages/?conversation={self.p['conversation']}"),
                                   ("GET notifications", self.office, "/api/communications/notifications/"),
                                   ("GET portal", self.portal, "/portal/"),
                                   ("GET portal messages", self.portal, "/portal/messages/")):
            self.statuses.append((what, client.get(path).status_code, down))

    def login_link(self, *, down: bool) -> int:
        """How many sign-in links the form's POST owed (outbox rows), as a stranger's browser posts it."""
        from hvaccrm.models import IntegrationLog

        links = IntegrationLog.objects.filter(kind="signin_link.send")
        before = links.count()
        self._login_link_post(down=down)
        return links.count() - before

    def _login_link_post(self, *, down: bool) -> int:
        """The sign-in link form, as a stranger's browser posts it (CSRF token from the form)."""
        with httpx.Client(base_url=self.url, timeout=30) as browser:
            form = browser.get("/portal/login/link/")
            token = browser.cookies.get("csrftoken", "")
            r = browser.post("/portal/login/link/", data={"email": self.p["email"], "csrfmiddlewaretoken": token},
                             headers={"Referer": self.url + "/portal/login/link/"})
        self.statuses.append(("POST login link", r.status_code, down))
        return form.status_code

    def close(self) -> None:
        for c in (self.api, self.office, self.portal):
            c.close()


def _socket(url: str, session: str) -> tuple[str, int | None]:
    """A browser's session socket: ("hello", None) when live, ("closed", code) when the server closed it."""
    try:
        with ws_connect(url.replace("http", "ws", 1) + "/ws/", open_timeout=15, close_timeout=5,
                        additional_headers={"Origin": url, "Cookie": f"sessionid={session}"}) as ws:
            frame = ws.recv(timeout=15)
            return ("hello", None) if '"hello"' in frame else ("other", None)
    except ConnectionClosed as exc:
        return "closed", exc.rcvd.code if exc.rcvd else None
    except TimeoutError:
        return "timeout", None


def test_pages_and_the_api_keep_working_while_redis_is_down_and_the_sweep_completes_the_rest(tmp_path):
    from communications.models import EmergencyAlert, Message
    from hvaccrm.models import IntegrationLog

    redis = RedisServer()
    redis.start()
    env = _env(redis.url)
    log = (tmp_path / "daphne.log").open("ab")
    worker = Worker(queues=[django_settings.CELERY_TASK_DEFAULT_QUEUE, django_settings.CELERY_EMERGENCY_QUEUE],
                    log=tmp_path / "worker.log", env={"REDIS_URL": redis.url})
    p = _personas()
    server, url = _daphne(env, log)
    traffic = Traffic(url, p)
    worker.start()
    try:
        before = _socket(url, p["session"])
        links_before = traffic.login_link(down=False)
        for _ in range(3):
            traffic.round(down=False)
        redis.stop()
        stopped = time.monotonic()
        links_during = traffic.login_link(down=True)
        during = _socket(url, p["session"])
        while time.monotonic() - stopped < OUTAGE:
            traffic.round(down=True)
        redis.start()
        for _ in range(3):
            traffic.round(down=False)
        after = _socket(url, p["session"])
        started = time.monotonic()
        while IntegrationLog.objects.exclude(state="succeeded").exists():
            assert time.monotonic() - started < 180, (
                list(IntegrationLog.objects.exclude(state="succeeded").values("target", "kind", "state", "error")[:5]),
                worker.tail())
            _sweep(env)
            time.sleep(2)
        drained = time.monotonic() - started
    finally:
        traffic.close()
        worker.stop()
        server.terminate()
        server.wait(15)
        redis.stop()
        sessions_wait_gone()
    failed = [s for s in traffic.statuses if s[1] >= 500]
    down = [s for s in traffic.statuses if s[2]]
    print(f"\nPROOF broker down: Redis stopped {OUTAGE:.0f} s; {len(down)} requests during the outage, "
          f"{len(traffic.statuses)} in all, {len(failed)} answered 5xx; {len(traffic.accepted)} messages accepted, "
          f"{sum(s[0] == 'POST message' for s in down)} of them while down; sockets before/during/after: "
          f"{before[0]}/{during[0]} {during[1]}/{after[0]}; sign-in links owed before/during: {links_before}/{links_during}; "
          f"every outbox row succeeded {drained:.1f} s after Redis returned (the sweep)")
    assert not failed, failed[:10]
    assert all(s[1] == 201 for s in traffic.statuses if s[0] == "POST message")
    assert before == after == ("hello", None)
    assert during[0] == "closed" and during[1] not in (4401, 4403), during
    assert links_before == 1 and links_during == 0  # fails closed: no sign-in link while the throttle cannot count
    accepted = dict(Message.objects.filter(pk__in=[m for m, _t in traffic.accepted]).values_list("pk", "body"))
    assert accepted == dict(traffic.accepted)
    emergencies = [m for m, text in traffic.accepted if text.startswith(EMERGENCY)]
    assert set(EmergencyAlert.objects.values_list("message_id", flat=True)) == set(emergencies)
