"""The tasks that run outbox rows (their names stay `hvaccrm.tasks.*`): apart from hvaccrm.tasks so
that the publishing service can import them at the top without an import cycle."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from hvaccrm import outbox_run


# At-least-once: acked after the run, redelivered if the worker dies. No autoretry here: the
# five-minute sweep is the project's only retry loop, and the handler is idempotent.
@shared_task(name="hvaccrm.tasks.outbox_process", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=120, time_limit=150)
def outbox_process_task(log_id: int) -> str:
    return outbox_run.outbox_process(log_id=log_id)


# A batch of rows (outbox_publish_together): each runs as outbox_process_task would. Past the soft
# limit the rest are left pending for the sweep (a slow gateway must not hold the worker).
@shared_task(name="hvaccrm.tasks.outbox_process_many", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300)
def outbox_process_many_task(log_ids: list[int]) -> dict[str, int]:
    states: dict[str, int] = {}
    try:
        for log_id in log_ids:
            state = outbox_run.outbox_process(log_id=log_id)
            states[state] = states.get(state, 0) + 1
    except SoftTimeLimitExceeded:
        states["left_for_sweep"] = len(log_ids) - sum(states.values())
    return states
