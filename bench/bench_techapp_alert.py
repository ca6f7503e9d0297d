"""Technician app bench (issue 18): emergency committed -> visible on the technician page, with 50
technician pages open.

A live server (daphne, as `make run` starts it) and the real emergency worker (-c 2 prefork on the
bench's own emergency queue), Debian's chromium (/usr/bin/chromium) through Playwright: one browser,
50 contexts (each its own cookie jar: one signed-in technician each, phone viewport 390x844), each
on `/tech/` with its socket open. The 50 technicians are on shift in one district, so each alert's
first step alerts them together. An emergency message is committed through `message_send`; its
`emergency.alert` outbox row is published on commit to the emergency queue and the worker pushes the
alert frame; the page's own code (techapp/app.js) shows the alert screen.

Measured: commit (time.time() in the first on_commit callback) -> the moment the page's alert screen
is shown for that alert (`#tech-alert` not hidden with `data-alert` = the alert's id), recorded in
the page by a MutationObserver of an init script as performance.timeOrigin + performance.now():
the same machine clock, compared in milliseconds. Each alert is committed once the previous one is
visible on every page (emergencies are rare), after warm-up alerts that are not measured.

Rows are marked (users bench-techalert-*, client "BENCH-TECHALERT") and removed at the end, with the
bench's queues. BENCH_TECHALERT_PAGES (50) and BENCH_TECHALERT_TRIALS (10) change the size.
Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_techapp_alert.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
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
os.environ.setdefault("AXES_ENABLED", "false")
worker_bench_environment("techalert")
if not os.environ.get("SECRET_KEY"):
    # The sessions made here are read by the server: one key for both (DEBUG draws one per process).
    import secrets

    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
# Playwright's sync API keeps an event loop in this thread; the ORM calls around it stay synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PAGES = int(os.environ.get("BENCH_TECHALERT_PAGES", 50))
TRIALS = int(os.environ.get("BENCH_TECHALERT_TRIALS", 10))
WARM_UP = 2
SETTLE = 1.5  # s after a commit before the bench reads anything
VISIBLE_TIMEOUT = 20.0
MARK = "BENCH-TECHALERT"
PREFIX = "bench-techalert-"
DISTRICT = "mokotow"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
    # 50 windows at once: none of them may be treated as a background tab (timers, rendering).
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# Per alert id, on the machine's clock (ms since epoch): the moment the alert screen shows it
# (__alertsSeen, the figure), and the moment the page's socket handed its frame to the page
# (__alertsGot: [the message event's creation, its first listener running, the frame's sent_at]),
# recorded by a listener added before the page's own (a wrapped WebSocket constructor).
OBSERVER = """
window.__alertsSeen = {};
window.__alertsGot = {};
(function () {
  var Native = window.WebSocket;
  function Stamped(url, protocols) {
    var ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", function (ev) {
      var at = performance.timeOrigin + performance.now();
      if (typeof ev.data !== "string" || ev.data.indexOf('"emergency.alert"') < 0) { return; }
      try {
        var frame = JSON.parse(ev.data), id = String(frame.data && frame.data.alert);
        if (!(id in window.__alertsGot)) {
          window.__alertsGot[id] = [performance.timeOrigin + ev.timeStamp, at, Date.parse(frame.sent_at)];
        }
      } catch (e) { /* not ours */ }
    });
    return ws;
  }
  Stamped.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Stamped[k] = Native[k]; });
  window.WebSocket = Stamped;
})();
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("tech-alert");
  if (!el) { return; }
  new MutationObserver(function () {
    var id = el.getAttribute("data-alert");
    if (id && !el.hidden && !(id in window.__alertsSeen)) {
      window.__alertsSeen[id] = performance.timeOrigin + performance.now();
    }
  }).observe(el, { attributes: true });
});
"""


def cleanup() -> None:
    from django.db import transaction

    with transaction.atomic():
        emergency_rows_delete(client_name=MARK, user_prefix=PREFIX)


def _session_cookies(users: list) -> list[str]:
    """One signed-in session per technician (what the login form makes), without 50 password hashes."""
    from django.conf import settings
    from django.test import Client as HttpClient

    values = []
    for user in users:
        http = HttpClient()
        http.force_login(user)
        values.append(http.cookies[settings.SESSION_COOKIE_NAME].value)
    return values


class _Gateway(BaseHTTPRequestHandler):
    """The SMS gateway the technicians' wake-up SMS are planned for (the default worker, which would
    send them, is not started: the SMS rows wait in the bench's default queue and are removed)."""

    def do_POST(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "--websocket_timeout", "86400",
         "hvaccrm.asgi:application"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/portal/login/", timeout=2)
            return proc
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"daphne exited, see {log}") from None
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("daphne did not start within 60 s")


def _start_worker(queue: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-l", "warning", "-c", "2",
         "-n", "bench-techalert-emergency@%h", "-Q", queue, "--without-gossip", "--without-mingle"],
        cwd=ROOT, env={"CONN_MAX_AGE": "600", **os.environ}, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _open_pages(browser, base: str, cookies: list[str]) -> list:
    from django.conf import settings

    pages = []
    for value in cookies:
        context = browser.new_context(locale="pl-PL", viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base}])
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(base + "/tech/")
        pages.append(page)
    for page in pages:  # every socket open (html[data-live-state=live]) before the first alert
        page.wait_for_selector("html[data-live-state=live]", state="attached")
    return pages


def _alert(conversation_id: int, author, n: int) -> tuple[float, int]:
    """Commit an emergency message: (commit instant in ms since epoch, the message's id)."""
    from django.db import transaction

    from communications import services

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time() * 1000))
        message = services.message_send(author=author, conversation_id=conversation_id,
                                        body=f"Czuć gaz w kuchni przy piecu, pomocy! (bench {n})",
                                        latitude=52.19, longitude=21.02)
    return committed[0], message.pk


def _alert_id(message_id: int, deadline: float) -> int | None:
    from communications.models import EmergencyAlert

    while time.monotonic() < deadline:
        alert_id = EmergencyAlert.objects.filter(message_id=message_id).values_list("pk", flat=True).first()
        if alert_id:
            return alert_id
        time.sleep(0.1)
    return None


_PAGE_STAMPS = "(id) => [(window.__alertsSeen || {})[id] || null, (window.__alertsGot || {})[id] || null]"


def _seen(pages: list, alert_id: int, deadline: float) -> dict[int, tuple[float, list | None]]:
    """Each page's stamps of the alert (ms since epoch): {page: (shown, [message event made, first
    listener, frame's sent_at] or None)}, once all show it or at the deadline."""
    key = str(alert_id)
    seen: dict[int, tuple[float, list | None]] = {}
    while time.monotonic() < deadline and len(seen) < len(pages):
        for i, page in enumerate(pages):
            if i not in seen:
                shown, got = page.evaluate(_PAGE_STAMPS, key)
                if shown:
                    seen[i] = (shown, got)
        if len(seen) < len(pages):
            # The moments are recorded in the page: asking less often only spares the browser's CPU.
            time.sleep(0.5)
    return seen


class _PushProbe:
    """One receiver of the bench's own in the first technician's group, on the channel layer the
    server reads: when the worker's push reached Redis (its receipt here, per alert id)."""

    def __init__(self, group: str) -> None:
        import asyncio

        self.group, self.at = group, {}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self.loop.run_until_complete, args=(self._listen(),), daemon=True).start()
        self.ready.wait(30)

    async def _listen(self) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        while True:
            message = await layer.receive(channel)
            event = message.get("event") or {}
            if event.get("type") == "emergency.alert":
                self.at.setdefault(int(event["data"]["alert"]), time.time() * 1000)


def _in_thread(pool, fn, *args):
    """The commit's after-commit pushes (async_to_sync) need a thread without Playwright's event loop."""
    return pool.submit(fn, *args).result(timeout=VISIBLE_TIMEOUT + 30)


def _run(pages: list, conversation_id: int, author, probe: _PushProbe, roots: dict) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    trials: list[dict] = []
    pool = ThreadPoolExecutor(max_workers=1)
    for n in range(WARM_UP + TRIALS):
        cpu = {k: _cpu_seconds(*v) for k, v in roots.items()}
        committed, message_id = _in_thread(pool, _alert, conversation_id, author, n)
        # Nothing asks the browser or the database while the alert travels (the bench's own
        # look-ups took CPU from the path it measures): the stamps are read afterwards.
        time.sleep(SETTLE)
        cpu = {k: _cpu_seconds(*v) - cpu[k] for k, v in roots.items()}
        deadline = time.monotonic() + VISIBLE_TIMEOUT
        alert_id = _in_thread(pool, _alert_id, message_id, deadline)
        seen = _seen(pages, alert_id, deadline) if alert_id else {}
        if n >= WARM_UP:
            trials.append({"committed": committed, "message": message_id, "alert": alert_id, "seen": seen,
                           "pushed": probe.at.get(alert_id), "cpu": cpu})
        time.sleep(0.3)
    stages = _in_thread(pool, _handler_times, [t["message"] for t in trials])
    pool.submit(_connection_close).result()
    pool.shutdown()
    return _figures(trials, stages, len(pages))


def _handler_times(message_ids: list[int]) -> dict[int, tuple[float, float]]:
    """{message id: (handler start, handler end)} in ms since epoch, from the emergency row's log
    (finished_at - duration_ms is its start)."""
    from hvaccrm.models import IntegrationLog

    rows = IntegrationLog.objects.filter(kind="emergency.alert", object_type="communications.message",
                                         object_id__in=[str(m) for m in message_ids]).exclude(duration_ms=None)
    return {int(r.object_id): (r.finished_at.timestamp() * 1000 - r.duration_ms, r.finished_at.timestamp() * 1000)
            for r in rows.exclude(finished_at=None)}


def _figures(trials: list[dict], handler: dict, n_pages: int) -> dict:
    """The figure (commit -> shown) and where its time goes, per stage on the one machine clock."""
    latencies, last, missing = [], [], 0
    st: dict[str, list[float]] = {k: [] for k in STAGES}
    for t in trials:
        c, seen = t["committed"], t["seen"]
        missing += n_pages - len(seen)
        ms = [shown - c for shown, _got in seen.values()]
        latencies += ms
        if ms:
            last.append(max(ms))
        start, end = handler.get(t["message"], (None, None))
        got = [g for _s, g in seen.values() if g]
        if start is not None:
            st["commit -> handler start"].append(start - c)
            st["handler start -> handler end"].append(end - start)
            if got:
                st["handler start -> frame built (sent_at)"].append(got[0][2] - start)
        if got and t["pushed"]:
            st["frame built -> in Redis (probe receipt)"].append(t["pushed"] - got[0][2])
            st["in Redis -> page socket message"] += [g[0] - t["pushed"] for g in got]
        st["socket message -> page listener"] += [g[1] - g[0] for g in got]
        st["page listener -> alert shown"] += [shown - g[1] for shown, g in seen.values() if g]
    per_alert = {k: pct([t["cpu"][k] * 1000 for t in trials], 0.5) for k in trials[0]["cpu"]} if trials else {}
    return {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "last_p50": pct(last, 0.5) if last else float("nan"), "missing": missing, "stages": st,
            "cpu_per_alert": per_alert}


STAGES = (
    "commit -> handler start", "handler start -> frame built (sent_at)", "frame built -> in Redis (probe receipt)",
    "in Redis -> page socket message", "socket message -> page listener", "page listener -> alert shown",
    "handler start -> handler end",
)


def _cpu_seconds(root_pids: list[int], name: str = "") -> float:
    """CPU time (user + system, s) of these processes and their descendants (only those whose
    command name contains `name`)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True).stdout
    children: dict[int, list] = {}
    for line in out.splitlines():
        pid, ppid, comm = line.split(None, 2)
        children.setdefault(int(ppid), []).append((int(pid), comm))
    total, todo, tick = 0.0, list(root_pids), os.sysconf("SC_CLK_TCK")
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += [c for c, _comm in children.get(pid, [])]
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if name and name not in comm:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _connection_close() -> None:
    from django.db import connection

    connection.close()


def _browser_memory_mb() -> float:
    """Memory of this process's chromium processes (the browser and its renderers), in MB: the sum
    of their proportional set sizes (a page shared by n processes counts 1/n in each)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True).stdout
    children: dict[int, list] = {}
    for line in out.splitlines():
        pid, ppid, comm = line.split(None, 2)
        children.setdefault(int(ppid), []).append((int(pid), comm))
    total, todo = 0, [os.getpid()]
    while todo:
        for pid, comm in children.get(todo.pop(), []):
            todo.append(pid)
            if "chrom" in comm:
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                except OSError:
                    continue
                total += next((int(x.split()[1]) for x in rollup.splitlines() if x.startswith("Pss:")), 0)
    return total / 1024


IDLE_SECONDS = 10.0


def _measure(pages: list, conversation_id: int, author, first_technician: int, procs: list) -> dict:
    """The alerts, with the CPU time of the browser, daphne and the worker while idle (the open
    pages doing nothing, IDLE_SECONDS) and over the alerts."""
    from hvaccrm.realtime import groups as g

    probe = _PushProbe(g.technician_group(first_technician))
    roots = {"chromium": ([os.getpid()], "chrom"), "daphne": ([procs[0].pid], ""), "worker": ([procs[1].pid], "")}
    before = {k: _cpu_seconds(*v) for k, v in roots.items()}
    time.sleep(IDLE_SECONDS)
    idle = {k: _cpu_seconds(*v) - before[k] for k, v in roots.items()}
    started, before = time.monotonic(), {k: _cpu_seconds(*v) for k, v in roots.items()}
    result = _run(pages, conversation_id, author, probe, roots)
    wall = time.monotonic() - started
    busy = {k: (_cpu_seconds(*v) - before[k]) / wall for k, v in roots.items()}
    before = {k: _cpu_seconds(*v) for k, v in roots.items()}
    time.sleep(IDLE_SECONDS)  # the pages idle again: what the alerts left running (sound, timers)
    result["cpu"] = {k: (idle[k] / IDLE_SECONDS, busy[k], (_cpu_seconds(*v) - before[k]) / IDLE_SECONDS)
                     for k, v in roots.items()}
    result["load"] = os.getloadavg()
    return result


def _report(result: dict, memory: float) -> None:
    print(f"emergency committed -> visible on the technician page (/tech/, 390x844, Debian chromium), "
          f"{PAGES} pages open (one browser, a context each), live daphne + emergency worker (-c 2 prefork), "
          f"{TRIALS} alerts:", flush=True)
    print(f"  p50={result['p50']:.0f} ms p99={result['p99']:.0f} ms over {result['n']} page views "
          f"(last of {PAGES} p50={result['last_p50']:.0f} ms, missing {result['missing']})"
          + (f"; chromium memory (PSS) {memory:.0f} MB" if memory else ""), flush=True)
    print("  stages (p50 / p99 ms; per alert for the server's, per page view for the page's):", flush=True)
    for name in STAGES:
        values = result["stages"][name]
        if values:
            print(f"    {name}: {pct(values, 0.5):.0f} / {pct(values, 0.99):.0f} (n={len(values)})", flush=True)
    print("  CPU (cores busy: pages idle before / during the alerts / idle after): " + ", ".join(
        f"{k} {before:.2f} / {busy:.2f} / {after:.2f}" for k, (before, busy, after) in result["cpu"].items()),
        flush=True)
    print(f"  CPU per alert (ms, p50; commit + {SETTLE} s, nothing else asked): " + ", ".join(
        f"{k} {ms:.0f}" for k, ms in result["cpu_per_alert"].items()), flush=True)
    print(f"  target p99 < 500 ms: {'met' if result['p99'] < 500 else 'not met'}", flush=True)


def main() -> int:
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing (apt-get install chromium): bench not run", flush=True)
        return 1
    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from playwright.sync_api import sync_playwright

    from communications.models import Conversation
    from hvaccrm.models import Client

    print(f"load before: {uptime()}", flush=True)
    cleanup()
    celery_queues_clear()
    techs = technicians_on_shift(prefix=PREFIX, n=PAGES, district_slug=DISTRICT, phone="+48 601 500 ")
    users = [t.user for t in techs]
    author = get_user_model().objects.create(username=f"{PREFIX}client")
    client = Client.objects.create(name=MARK, email="bench-techalert@example.com", is_synthetic=True)
    client.users.add(author)
    conversation = Conversation.objects.create(client=client, subject=MARK)
    cookies = _session_cookies(users)
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    os.environ["COMMS_SMS_GATEWAY_URL"] = f"http://127.0.0.1:{gateway.server_address[1]}/sms"
    logs = ROOT / "var" / "log"
    logs.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    procs = []
    pw = browser = None
    result, memory = None, 0.0
    try:
        procs.append(_start_server(port, logs / "bench-techalert-web.log"))
        procs.append(_start_worker(settings.CELERY_EMERGENCY_QUEUE, logs / "bench-techalert-worker.log"))
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     env={**os.environ, "HOME": str(logs / "bench-techalert-home")})
        started = time.monotonic()
        pages = _open_pages(browser, f"http://127.0.0.1:{port}", cookies)
        print(f"{len(pages)} technician pages open, sockets live, in {time.monotonic() - started:.1f} s", flush=True)
        result = _measure(pages, conversation.pk, author, techs[0].pk, procs)
        memory = _browser_memory_mb()
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        for proc in procs:
            process_stop(proc)
        gateway.shutdown()
        celery_queues_clear()
        cleanup()
    print(f"load after: {uptime()}", flush=True)
    _report(result, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
