"""`make run`'s WEB_PROCESSES: several daphne processes serving one port (scripts/stack.py)."""

from __future__ import annotations

import importlib.util
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

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


def test_two_web_processes_share_one_listening_port_and_answer_on_it(tmp_path):
    stack = _stack_module(tmp_path)
    port = stack.free_port()
    env = {**os.environ, "WEB_PROCESSES": "2"}
    procs = stack.web_processes(env, "127.0.0.1", port)
    try:
        assert sorted(procs) == ["web-1", "web-2"]
        assert _answers(f"http://127.0.0.1:{port}/healthz")
        for proc in procs.values():
            listening = [c for c in psutil.Process(proc.pid).net_connections(kind="tcp")
                         if c.status == psutil.CONN_LISTEN]
            assert [c.laddr.port for c in listening] == [port]
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(10)
