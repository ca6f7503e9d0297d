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


class Stack:
    """`scripts/stack.py run` in a subprocess, on the given database and this run's Redis prefixes."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env, self.port, self.url = env, port, f"http://127.0.0.1:{port}"
        log_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/log yet
        self.log = log_path.open("w", encoding="utf-8")
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
            webs += "daphne" in line
            name = (f"web-{webs}" if "daphne" in line else "beat" if " beat " in line
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
        """CPU seconds (user + system) each process has used so far, by name; "postgres" is every
        PostgreSQL process on this machine (the server is shared: other work counts too)."""
        seconds = {}
        for name, proc in self.processes().items():
            try:
                times = proc.cpu_times()
                seconds[name] = times.user + times.system
            except psutil.Error:
                seconds[name] = 0.0
        total = 0.0
        for proc in psutil.process_iter(["name", "cpu_times", "ppid"]):
            times = proc.info["cpu_times"]
            if proc.info["name"] not in ("postgres", "postmaster") or times is None:
                continue
            total += times.user + times.system
            try:  # the server itself: its ended backends' time (a connection per task or request)
                if psutil.Process(proc.info["ppid"]).name() not in ("postgres", "postmaster"):
                    total += times.children_user + times.children_system
            except psutil.Error:
                pass
        seconds["postgres"] = total
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
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # Ctrl-C: the stack stops its processes itself
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()
