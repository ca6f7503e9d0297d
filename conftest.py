"""Shared test plumbing and personas (STYLE.md): a dispatcher, a manager, a technician of Mokotów,
client Anna, and client Bartek, who must never see Anna's data."""

from __future__ import annotations

import os

# The environment (DEBUG, TESTING, per-run prefixes) is set by pytest_env_defaults.py, which
# pytest loads before the settings.
import pytest

from hvaccrm.tests.factories import (
    ClientFactory,
    SiteFactory,
    TechnicianFactory,
    UserFactory,
    district,
)


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    from django.core.cache import cache

    cache.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    cache.clear()


@pytest.fixture
def dispatcher(db):
    return UserFactory(username="dorota", role="dispatcher", is_staff=True)


@pytest.fixture
def manager(db):
    return UserFactory(username="marta", role="manager", is_staff=True)


@pytest.fixture
def administrator(db):
    return UserFactory(username="alicja", role="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def technician_mokotow(db):
    return TechnicianFactory(home_district=district("mokotow"), on_shift=True)


@pytest.fixture
def client_anna(db):
    user = UserFactory(username="anna@example.com", email="anna@example.com", role="client")
    client = ClientFactory(name="Anna Kowalska", email="anna@example.com")
    client.users.add(user)
    SiteFactory(client=client, district=district("mokotow"), latitude=52.1930, longitude=21.0250)
    return client


@pytest.fixture
def client_bartek(db):
    user = UserFactory(username="bartek@example.com", email="bartek@example.com", role="client")
    client = ClientFactory(name="Bartek Nowak", email="bartek@example.com")
    client.users.add(user)
    SiteFactory(client=client, district=district("wola"), latitude=52.2360, longitude=20.9650)
    return client


@pytest.fixture
def anna_user(client_anna):
    return client_anna.users.get()


@pytest.fixture
def bartek_user(client_bartek):
    return client_bartek.users.get()


# --- Browser tests: a real ASGI server (HTTP + WebSockets) and Debian's chromium ----------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_test_db() -> str:
    """DATABASE_URL of the test database, for subprocesses (servers, workers) of a test."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    host = s.get("HOST") or "127.0.0.1"
    auth = quote(s.get("USER") or "postgres", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    if host.startswith("/"):  # a Unix socket directory (the embedded server)
        return f"postgres://{auth}@/{s['NAME']}?host={host}"
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


@pytest.fixture
def live_asgi_url(transactional_db):
    """Daphne serving the project (HTTP and WebSockets) on the test database, in a subprocess.

    It shares this process's Redis prefixes, so a group_send from the test reaches its sockets,
    and runs outbox tasks eagerly, so a request's integration work happens before it answers.
    """
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url_for_test_db(), "DEBUG": "true", "TESTING": "true",
                "CELERY_TASK_ALWAYS_EAGER": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hvaccrm.asgi:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/portal/login/", timeout=1)
            break
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {proc.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("daphne did not start within 30 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def browser_page(tmp_path, monkeypatch):
    """A Playwright page in Debian's headless chromium. Skips without chromium, except in CI."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); browser tests need it")
    # Playwright's sync API runs an event loop in this thread; the ORM calls a test makes around
    # it are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                 env={**os.environ, "HOME": str(tmp_path)})
    context = browser.new_context(locale="pl-PL", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    browser.close()
    pw.stop()


def browser_login(page, base_url: str, username: str, password: str = "Correct-Horse-42") -> None:
    """Sign in through the portal's login form (the session cookie then opens the socket too)."""
    page.goto(base_url + "/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def in_thread(fn, **kwargs):
    """Run fn in a fresh thread (closing its connection): Playwright's sync API keeps an event loop
    in the test's thread, and a push (async_to_sync) needs a thread without one, as the workers have."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run():
        try:
            return fn(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


@pytest.fixture
def channel_prefix_of_the_live_server(settings):
    """Send on the live server's channel prefix (this process loaded its settings before the
    environment set it; channels resets its layers when the setting changes)."""
    import copy

    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = os.environ["CHANNEL_PREFIX"]
    settings.CHANNEL_LAYERS = layers
