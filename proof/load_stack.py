"""The stack `make run` starts (scripts/stack.py run: daphne, the Celery worker, the emergency
worker, beat), on a database of its own, for the load suite (proof/test_load_day.py).

The database: a template made once per schema, seed and day (migrate, the demo seed, the load
suite's accounts: proof/load_seed.py), cloned for each run with CREATE DATABASE ... TEMPLATE, so
a run starts in seconds and never sees the previous run's pings. Its name is the test database's
with `_load` (and `_loadtpl_<hash>` for the template), on the same server as DATABASE_URL.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True)


def _fingerprint(sizes: tuple[int, int, int]) -> str:
    """What the template depends on: the set of migrations (the schema), the accounts' script, the
    sizes and the day (the demo plans "today"). A change to the demo seed alone is picked up the
    next day; drop the `_loadtpl_` database to have it sooner."""
    digest = hashlib.sha256(f"{sizes}{date.today()}".encode() + (ROOT / "proof/load_seed.py").read_bytes())
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
    return digest.hexdigest()[:10]


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [PY, "manage.py", *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def database_prepare(base_url: str, sizes: tuple[int, int, int], env: dict[str, str]) -> str:
    """A fresh database for one run, cloned from the template (made first if missing)."""
    base = urlsplit(base_url).path.lstrip("/")
    template, run = f"{base}_loadtpl_{_fingerprint(sizes)}", f"{base}_load"
    with _admin(base_url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if not exists:
            for (old,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                       [f"{base}_loadtpl_%"]).fetchall():
                conn.execute(f'DROP DATABASE "{old}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}_new"')
            started = time.monotonic()
            # The seed's tasks go to a queue of their own, deleted after; its rows are run here.
            queue = f"{template}-seed"
            tpl_env = {**env, "DATABASE_URL": _with_db(base_url, f"{template}_new"), "CELERY_QUEUE": queue}
            _manage(tpl_env, "migrate", "--noinput", "-v", "0")
            _manage(tpl_env, "seed_demo", "--once")
            for step in (["accounts", *map(str, sizes)], ["outbox"]):
                subprocess.run([PY, "-m", "proof.load_seed", *step],  # noqa: S603 - ours
                               env={**tpl_env, "CELERY_TASK_ALWAYS_EAGER": "true"}, cwd=ROOT, check=True)
            redis.Redis.from_url(env["REDIS_URL"]).delete(queue, f"{queue}-emergency")
            conn.execute(f'ALTER DATABASE "{template}_new" RENAME TO "{template}"')
            print(f"\nload: template database {template} made in {time.monotonic() - started:.0f} s")
        conn.execute(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{run}" TEMPLATE "{template}"')
    return _with_db(base_url, run)


def database_drop(url: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to one database, sampled every second from
    pg_stat_activity and /proc/<pid>/schedstat (nanoseconds on a CPU): a backend that lives less than
    a second between two samples is missed (the workers' connection per task; the web's are pooled)."""

    def __init__(self, url: str) -> None:
        self.url, self.database = url.replace("postgres://", "postgresql://", 1), urlsplit(url).path.lstrip("/")
        self.last: dict[int, float] = {}  # pid: CPU seconds since the backend started, at its last sample
        self.stopped = threading.Event()
        threading.Thread(target=self._sample, name="backend-cpu", daemon=True).start()

    def _sample(self) -> None:
        with psycopg.connect(_with_db(self.url, "postgres"), autocommit=True) as conn:
            while not self.stopped.wait(1.0):
                pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                                   [self.database]).fetchall()]
                for pid in pids:
                    try:
                        with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
                            ran = int(fh.read().split()[0]) / 1e9
                    except (OSError, ValueError):
                        continue
                    self.last[pid] = ran

    def seconds(self) -> float:
        """Every sampled backend's CPU so far (ended ones at their last sample): take differences."""
        return sum(self.last.values())

    def stop(self) -> None:
        self.stopped.set()


class Stack:
    """`scripts/stack.py run` in a subprocess, on the given database and this run's Redis prefixes."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env, self.port, self.url = env, port, f"http://127.0.0.1:{port}"
        log_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/log yet
        self.log = log_path.open("w", encoding="utf-8")
        self.pg_cpu = BackendCpu(env["DATABASE_URL"])
        self.proc = subprocess.Popen([PY, "scripts/stack.py", "run"],  # noqa: S603 - make run's own
                                     env={**env, "PORT": str(port)}, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stack exited with {self.proc.returncode}; see {self.log.name}")
            try:  # any answer: the web is up (healthz says 503 until beat's first worker heartbeat)
                urllib.request.urlopen(self.url + "/healthz", timeout=2)  # noqa: S310 - loopback http
            except urllib.error.HTTPError:
                pass
            except OSError:
                time.sleep(0.5)
                continue
            names = self.processes()
            if "worker pool 2" in names and "worker-emergency pool 2" in names and "beat" in names:
                return  # the web answers, both workers have their pool
            time.sleep(0.5)
        raise RuntimeError(f"the stack did not answer within {timeout:.0f} s; see {self.log.name}")

    def processes(self) -> dict[str, psutil.Process]:
        """web-1 (-2, ... with WEB_PROCESSES), worker, worker-emergency, beat and each worker's pool
        processes, by name."""
        found: dict[str, psutil.Process] = {}
        webs = 0
        for child in sorted(psutil.Process(self.proc.pid).children(), key=lambda p: p.pid):
            line = " ".join(child.cmdline())
            web = " -m daphne " in line or " -m uvicorn " in line  # scripts/stack.py's WEB_SERVER
            webs += web
            name = (f"web-{webs}" if web else "beat" if " beat " in line
                    else "worker-emergency" if "emergency@" in line else "worker" if " worker " in line else None)
            if name is None:
                continue
            found[name] = child
            for i, pool in enumerate(sorted(child.children(), key=lambda p: p.pid)):
                found[f"{name} pool {i + 1}"] = pool
        return found

    def rss(self) -> dict[str, int]:
        sizes = {}
        for name, proc in self.processes().items():
            try:
                sizes[name] = proc.memory_info().rss
            except psutil.Error:
                sizes[name] = 0
        return sizes

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) each process has used so far, by name, and the PostgreSQL
        backends serving this run's database (BackendCpu: the server is shared with other work)."""
        seconds = {}
        for name, proc in self.processes().items():
            try:
                times = proc.cpu_times()
                seconds[name] = times.user + times.system
            except psutil.Error:
                seconds[name] = 0.0
        seconds["postgres (this database)"] = self.pg_cpu.seconds()
        return seconds

    def backlog(self) -> dict[str, int]:
        """Celery messages waiting or running, and outbox rows due."""
        queue = self.env.get("CELERY_QUEUE", "hvaccrm")
        broker = redis.Redis.from_url(self.env["REDIS_URL"])
        with psycopg.connect(self.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            outbox = conn.execute("SELECT count(*) FROM hvaccrm_integrationlog WHERE state IN ('pending', 'failed') "
                                  "AND next_attempt_at <= now()").fetchone()[0]
        return {"queue": broker.llen(queue), "emergency queue": broker.llen(f"{queue}-emergency"),
                "unacked": broker.hlen("unacked"), "outbox due": outbox}

    def stop(self) -> None:
        self.pg_cpu.stop()
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # Ctrl-C: the stack stops its processes itself
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()
