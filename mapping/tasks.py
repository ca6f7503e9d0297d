"""Periodic work of the mapping app (schedules in hvaccrm/celery.py)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from mapping import services


@shared_task(name="mapping.tasks.gps_retention_apply", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_jitter=True, max_retries=3, time_limit=600)
def gps_retention_apply() -> dict:
    return services.gps_retention_apply()


@shared_task(name="mapping.tasks.maintenance_jobs_create", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_jitter=True, max_retries=3, time_limit=900)
def maintenance_jobs_create() -> dict:
    return services.maintenance_jobs_create()


@shared_task(name="mapping.tasks.day_replan", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_jitter=True, max_retries=3, time_limit=120)
def day_replan(day: str, reason: str, job_id: int | None = None) -> dict:
    return services.day_replan(day=date.fromisoformat(day), reason=reason, job_id=job_id)


@shared_task(name="mapping.tasks.horizon_plan", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_jitter=True, max_retries=2, time_limit=1800)
def horizon_plan() -> dict:
    return services.horizon_plan()
