"""`make run`'s web processes (scripts/stack.py): WEB_PROCESSES servers of WEB_SERVER (daphne or
uvicorn) on one port, each answering HTTP and WebSockets as production needs: the access log, the
socket's Origin check and close codes through the real server, its frame limit and proxy headers."""

from __future__ import annotations

import importlib.util
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def _stack_module(logs: Path):
    spec = importlib.util.spec_from_file_location("stack_under_test", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.LOGS = logs
    return module


def _answers(url: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # any answer is the server's
        except OSError:
            time.sleep(0.3)
    return False


def _close_code(url: str, **headers: str) -> int:
    """The code the server closes a socket with (after its handshake: the consumer accepts, then refuses)."""
    with connect(url, additional_headers=headers or None, open_timeout=30) as ws:
        try:
            ws.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    return 0


@pytest.fixture(params=["daphne", "uvicorn"])
def web(request, tmp_path):
    stack = _stack_module(tmp_path)
    port = stack.free_port()
    env = {**os.environ, "WEB_PROCESSES": "2", "WEB_SERVER": request.param}
    procs = stack.web_processes(env, "127.0.0.1", port)
    try:
        yield procs, port, tmp_path
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(10)


def test_two_web_processes_share_one_port_and_log_each_request_with_the_forwarded_client(web):
    procs, port, logs = web
    assert sorted(procs) == ["web-1", "web-2"]
    assert _answers(f"http://127.0.0.1:{port}/healthz")
    for proc in procs.values():
        listening = [c for c in psutil.Process(proc.pid).net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN]
        assert [c.laddr.port for c in listening] == [port]
    # Behind the proxy (the loopback here): the client's address is the one it forwarded.
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz?proxied",
                                     headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError:
        pass  # 503 without a worker: an answer
    deadline = time.monotonic() + 10  # the access log is written by the server, line by line
    while time.monotonic() < deadline and "proxied" not in _read(logs / "web-access.log"):
        time.sleep(0.2)
    proxied = [line for line in _read(logs / "web-access.log").splitlines() if "proxied" in line]
    assert proxied and "203.0.113.9" in proxied[0]


def test_a_socket_through_the_started_server_is_refused_by_origin_and_by_ticket_with_our_close_codes(web):
    _procs, port, _logs = web
    assert _answers(f"http://127.0.0.1:{port}/healthz")
    url = f"ws://127.0.0.1:{port}/ws/"
    assert _close_code(url, Origin="https://evil.example") == 4403  # a foreign page's socket
    assert _close_code(url) == 4403  # no Origin and no ticket: not a browser's, not a device's
    assert _close_code(url + "?ticket=replayed-or-made-up") == 4401


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_both_servers_limit_frames_to_64_kib_and_read_the_proxys_headers(server, tmp_path):
    # A socket that stays open needs a user in the server's database; the limits are read off the
    # command line instead (the consumer answers smaller-but-too-large frames itself: test_socket_hygiene).
    argv = _stack_module(tmp_path).web_server_argv(server, 3)
    limits = {"daphne": ["--websocket-max-message-size", "--websocket-max-frame-size"], "uvicorn": ["--ws-max-size"]}
    for flag in limits[server]:
        assert argv[argv.index(flag) + 1] == "65536"
    assert "--proxy-headers" in argv and argv[-1] == "hvaccrm.asgi:application"


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
