"""The embedded store across processes: PostgreSQL is the truth, each process's index follows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import database_url_for_test_db
from prophecy import selectors, services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _light_provider(monkeypatch):
    # Both processes must embed alike; the keyword embedding loads in milliseconds where the
    # multilingual model takes seconds per process (the provider is not what is tested here).
    from prophecy import conf

    monkeypatch.setattr(conf, "EMBEDDING_PROVIDER", "hashgram")

WRITER = """
import django, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
django.setup()
from prophecy import services
print(json.dumps(services.sync_object(object_type="communications.message", object_id="9001",
      text="Z jednostki wewnętrznej kapie woda na podłogę", district="wilanow", service_type="repair",
      created="2026-03-01T10:00:00+01:00", client_id=None)))
"""

READER = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
django.setup()
from prophecy import selectors
answer = selectors.search_similar(query="kapie woda z jednostki", limit=3)
print(json.dumps(selectors.search_output(answer)))
"""


def _run(script: str) -> dict:
    url = database_url_for_test_db()
    env = {**os.environ, "DATABASE_URL": url, "VECTOR_STORE_BACKEND": "embedded",
           "PROPHECY_EMBEDDING_PROVIDER": "hashgram",
           "CACHE_KEY_PREFIX": f"xproc-{os.getpid()}"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_vector_written_by_another_process_is_found_here():
    # This process builds its index first, so it must notice the other process's write.
    selectors.search_similar(query="cokolwiek", limit=1)
    written = _run(WRITER)
    assert written["state"] == "synced"
    answer = selectors.search_similar(query="kapie woda z jednostki", limit=3)
    assert answer["source"] == "vector"
    assert answer["results"][0]["id"] == "communications.message:9001"
    assert answer["results"][0]["district"] == "wilanow"


@pytest.mark.django_db(transaction=True)
def test_another_process_finds_what_this_process_wrote():
    services.sync_object(object_type="communications.message", object_id="9002",
                         text="Z jednostki wewnętrznej kapie woda", district="ursynow", service_type="repair",
                         created="2026-03-02T10:00:00+01:00", client_id=None)
    found = _run(READER)
    assert found["results"][0]["id"] == "communications.message:9002"
    assert set(found) == {"query", "source", "results"}
