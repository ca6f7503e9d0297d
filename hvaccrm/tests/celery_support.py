"""Tests that run tasks on a real worker: Celery publishes to the broker instead of running in place.

Celery reads its configuration lazily from Django's settings, so the values to put back are read
*before* Django's setting changes; read after, the "restore" would leave eager off and every later
test would publish to a broker no worker reads (a browser test's push once never came that way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def celery_published(settings, *, queue: str | None = None) -> Iterator:
    """Within the block tasks are published (to `queue` when given); everything is put back after."""
    from hvaccrm.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_default_queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    if queue:
        app.conf.task_default_queue = queue
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
