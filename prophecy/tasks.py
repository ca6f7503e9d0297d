from __future__ import annotations

from celery import shared_task

from prophecy import services


@shared_task(name="prophecy.tasks.forecast_run", acks_late=True, soft_time_limit=600, time_limit=900)
def forecast_run() -> dict:
    """Weekly (and on demand): forecasts, backtests, hotspot alerts; idempotent per week."""
    return services.forecast_run()
