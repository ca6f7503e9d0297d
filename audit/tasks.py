"""Audit's periodic tasks (their schedules are in hvaccrm/celery.py): thin, they call one service."""

from __future__ import annotations

from celery import shared_task

from audit import services, trends


# Every five minutes from the single beat; a run that overlaps the next is harmless (the state
# rows are locked while compared), and a lost run is simply the next one.
@shared_task(name="audit.tasks.health_run", acks_late=True, soft_time_limit=120, time_limit=150, ignore_result=True)
def health_run() -> dict:
    return services.health_run()


@shared_task(name="audit.tasks.access_trail_retention", acks_late=True, time_limit=1800, ignore_result=True)
def access_trail_retention() -> int:
    deleted = services.access_trail_retention_apply()
    services.health_snapshots_prune()
    return deleted


# Nightly (hvaccrm/celery.py): the year of daily health rows; idempotent, a missed night is caught up.
@shared_task(name="audit.tasks.health_daily_rollup", acks_late=True, time_limit=600, ignore_result=True)
def health_daily_rollup() -> int:
    return trends.health_daily_rollup()
