"""Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from communications import services


@shared_task(name="communications.tasks.escalation_sweep", acks_late=True, ignore_result=True,
             soft_time_limit=60, time_limit=90)
def escalation_sweep() -> int:
    return services.escalation_sweep()


@shared_task(name="communications.tasks.reminders_send", acks_late=True, ignore_result=True,
             soft_time_limit=300, time_limit=360)
def reminders_send() -> int:
    return services.reminders_send()


@shared_task(name="communications.tasks.delivery_states_sync", acks_late=True, ignore_result=True,
             soft_time_limit=120, time_limit=180)
def delivery_states_sync() -> int:
    return services.delivery_states_sync()


@shared_task(name="communications.tasks.maintenance_notices_send", acks_late=True, ignore_result=True,
             soft_time_limit=300, time_limit=360)
def maintenance_notices_send() -> dict[str, int]:
    return services.maintenance_notices_send()
