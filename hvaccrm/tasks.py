"""Core tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

from hvaccrm.checks import heartbeat_write
from hvaccrm.services import maintenance, outbox
from hvaccrm.tasks_outbox import outbox_process_many_task, outbox_process_task  # noqa: F401 (their home)


@shared_task(name="hvaccrm.tasks.outbox_sweep", acks_late=True, time_limit=600)
def outbox_sweep() -> int:
    return outbox.outbox_sweep()


@shared_task(name="hvaccrm.tasks.celery_heartbeat", ignore_result=True)
def celery_heartbeat() -> None:
    heartbeat_write()


@worker_ready.connect
def _heartbeat_on_start(**_kwargs) -> None:
    heartbeat_write()


# Idempotent: an agreement already renewed or ended is not past its end any more.
@shared_task(name="hvaccrm.tasks.agreements_roll", acks_late=True, ignore_result=True,
             soft_time_limit=300, time_limit=360)
def agreements_roll() -> dict[str, int]:
    return maintenance.agreements_roll()
