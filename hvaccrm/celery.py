"""The Celery app and the one table of periodic schedules (run by a single beat)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

app = Celery("hvaccrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of the project, in one place. Each entry names why it runs when it does.
app.conf.beat_schedule = {
    # The only retry loop: publishes outbox rows whose publish was lost and retries failures.
    "outbox-sweep": {"task": "hvaccrm.tasks.outbox_sweep", "schedule": 300.0},
    # Lets /healthz tell that a worker is alive and consuming.
    "celery-heartbeat": {"task": "hvaccrm.tasks.celery_heartbeat", "schedule": 60.0},
    # Integration health every five minutes (the design's monitoring interval).
    "integration-health": {"task": "audit.tasks.health_run", "schedule": 300.0},
    # The emergency chain: a step nobody accepted within its timeout (COMMS_CHAIN_*) hands over to
    # the next; every 15 s on the emergency queue (CELERY_TASK_ROUTES), so a step lasts at most
    # 15 s more than its setting. Idempotent: a step already advanced is left alone.
    "emergency-escalation": {"task": "communications.tasks.escalation_sweep", "schedule": 15.0},
    # Copies the outbox's final state (failed, dead) onto notification deliveries for staff.
    "delivery-states-sync": {"task": "communications.tasks.delivery_states_sync", "schedule": 300.0},
    # Reminders to clients the day before their visit, every evening at 18:00 Warsaw time.
    "visit-reminders": {"task": "communications.tasks.reminders_send", "schedule": crontab(hour=18, minute=0)},
    # Agreements past their end are renewed (automatic renewal) or ended, before the generator
    # plans: a renewed term's visits are then planned the same night. Idempotent.
    "agreements-roll": {"task": "hvaccrm.tasks.agreements_roll", "schedule": crontab(hour=2, minute=0)},
    # Planned maintenance and F-gas leak checks falling due in the next 30 days, every night.
    "maintenance-due": {"task": "mapping.tasks.maintenance_jobs_create", "schedule": crontab(hour=2, minute=30)},
    # Maintenance notices after the night's planning, at 09:00 so nobody gets a text at night:
    # clients 7 days before a planned visit (with the move link), the office 30 days before an
    # agreement ends and 60 days before an F-gas certificate lapses (docs/maintenance.md). A re-run
    # tells nobody twice (dedupe key per object and period); a missed day is caught up the next.
    "maintenance-notices": {"task": "communications.tasks.maintenance_notices_send", "schedule": crontab(hour=9, minute=0)},
    # The 14-day plan (PLAN_HORIZON_DAYS): every day ahead with an open job is optimised after the
    # night's generated visits, so each job has a route and an ETA; changes re-plan their own day
    # (integration.services.job_replan_if_needed). Idempotent: a re-run re-optimises from the plan.
    "horizon-plan": {"task": "mapping.tasks.horizon_plan", "schedule": crontab(hour=3, minute=30)},
    # GPS retention: detailed points older than the retention period are reduced, every night.
    "gps-retention": {"task": "mapping.tasks.gps_retention_apply", "schedule": crontab(hour=3, minute=0)},
    # Demand forecast for the next four weeks, every Monday morning.
    "demand-forecast": {"task": "prophecy.tasks.forecast_run", "schedule": crontab(hour=5, minute=0, day_of_week=1)},
    # Access-trail retention, every night.
    "access-trail-retention": {"task": "audit.tasks.access_trail_retention", "schedule": crontab(hour=4, minute=0)},
    # Health snapshots rolled up into daily rows kept 13 months (idempotent), every night.
    "health-daily-rollup": {"task": "audit.tasks.health_daily_rollup", "schedule": crontab(hour=0, minute=30)},
}
