"""Redis down (issue 20, suite 2): the cache is tolerated as empty, so the API keeps answering (its
throttles read and write the cache on every call), and a socket ticket that cannot be stored is
refused with a 503 the device retries, not handed out to fail as "unauthenticated" later. The
Redis here is a real client against a port where nothing listens."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from hvaccrm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _redis_down(settings) -> dict:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}


def test_the_cache_answers_a_miss_and_drops_writes_while_redis_is_down(settings):
    with override_settings(CACHES=_redis_down(settings)):
        assert cache.get("k", "miss") == "miss" and cache.get_many(["a", "b"]) == {}
        cache.set("k", 1)
        assert cache.add("k", 1) is False and cache.delete("k") is False
        with pytest.raises(Exception, match="(?i)connect"):
            cache.incr("k")  # a counting caller decides itself (login throttling fails closed)


def test_an_api_read_answers_while_redis_is_down(settings, dispatcher):
    api = APIClient()
    api.force_authenticate(dispatcher)
    with override_settings(CACHES=_redis_down(settings)):
        response = api.get("/api/communications/messages/")  # the user throttle reads and writes the cache
    assert response.status_code == 200


def test_a_socket_ticket_is_refused_with_503_while_redis_is_down(settings):
    technician = UserFactory(role="technician")
    api = APIClient()
    api.force_authenticate(technician)
    with override_settings(CACHES=_redis_down(settings)):
        down = api.post("/api/core/ws-ticket/")
    assert down.status_code == 503 and "ticket" not in down.json()
    assert api.post("/api/core/ws-ticket/").status_code == 201
