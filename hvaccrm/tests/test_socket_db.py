"""A socket's database work keeps no DEBUG query log between frames (issue 21: web RSS grew 17 % in
a day's load because socket threads never see request_started, which is what empties the log)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from hvaccrm.realtime.socket_db import socket_db


def _query_then_log_length() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return len(connection.queries_log)


def _log_length() -> int:
    return len(connection.queries_log)


@pytest.mark.django_db(transaction=True)
async def test_socket_work_under_debug_leaves_an_empty_query_log_for_the_next_frame(settings):
    settings.DEBUG = True
    for _ in range(5):
        assert await socket_db(_query_then_log_length)() >= 1  # the log works inside the frame
    assert await socket_db(_log_length)() == 0


@pytest.mark.django_db(transaction=True)
async def test_channels_own_wrapper_keeps_the_log_growing_which_is_why_the_consumer_does_not_use_it(settings):
    settings.DEBUG = True
    await socket_db(_log_length)()
    for _ in range(5):
        await database_sync_to_async(_query_then_log_length)()
    assert await database_sync_to_async(_log_length)() >= 5
    assert await socket_db(_log_length)() >= 5  # same thread, same connection: emptied only after
    assert await socket_db(_log_length)() == 0


def test_the_consumer_runs_its_database_work_through_the_socket_wrapper():
    from hvaccrm.realtime import consumer

    assert consumer.database_sync_to_async is socket_db
