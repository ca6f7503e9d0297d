"""Demo data for prophecy: two years of weekly counts before the core's job rows (the same demand
model, `hvaccrm.seed_core.weekly_demand`), the finished jobs' distinct texts in the vector store,
and one forecast."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hvaccrm.models import District, ServiceJob, Technician
from hvaccrm.seed import register_seeder
from hvaccrm.seed_core import CAPACITY_SHARE, RECENT_WEEKS, capacity_hours_by_district, weekly_count, weekly_demand
from prophecy import services
from prophecy.models import JobWeekCount, Prediction

DEMO_TEXTS = 2000  # the most recent finished jobs with distinct texts; only these are embedded
HISTORY_WEEKS = 104  # weekly counts before the first week of job rows (two years for the charts)


def _history_counts(rng) -> int:
    """Weekly counts for the two years before the core's job rows (its last quarter); once."""
    if not ServiceJob.objects.exists() or JobWeekCount.objects.exists():
        return JobWeekCount.objects.count()
    today = timezone.localdate()
    first_week = today - timedelta(days=today.weekday(), weeks=RECENT_WEEKS)
    districts = {d.slug: d for d in District.objects.all()}
    techs = list(Technician.objects.filter(active=True).select_related("home_district"))
    capacity = capacity_hours_by_district(techs, sorted(districts))
    rows = []
    for back in range(HISTORY_WEEKS, 0, -1):
        week = first_week - timedelta(weeks=back)
        for slug in sorted(districts):
            for service in CAPACITY_SHARE:
                jobs = weekly_count(rng, weekly_demand(week=week, district=slug, service_type=service,
                                                       capacity_hours=capacity[slug]))
                rows.append(JobWeekCount(district=districts[slug], service_type=service, week_start=week, jobs=jobs))
    JobWeekCount.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _demo_texts() -> list[dict]:
    """The newest finished jobs, one per distinct text, as `sync_objects` wants them."""
    seen: set[str] = set()
    objects = []
    jobs = (ServiceJob.objects.filter(status="completed", district__isnull=False).exclude(description="")
            .select_related("district", "equipment").order_by("-completed_at", "-id"))
    for job in jobs.iterator(chunk_size=1000):
        if job.description in seen:
            continue
        seen.add(job.description)
        objects.append({
            "object_type": "hvaccrm.servicejob", "object_id": str(job.pk), "text": job.description,
            "district": job.district.slug, "service_type": job.service_type,
            "created": (job.completed_at or job.scheduled_start or job.created_at).isoformat(),
            "client_id": job.client_id,
            "extra": {"equipment": str(job.equipment) if job.equipment_id else "",
                      "resolution": (job.report or {}).get("work_done", ""), "status": job.status},
        })
        if len(objects) >= DEMO_TEXTS:
            break
    return objects


@register_seeder("prophecy", order=70)  # last: it indexes the jobs the other seeders made
def seed_prophecy(*, rng, stdout=None) -> str:
    counts = _history_counts(rng)
    synced = services.sync_objects(objects=_demo_texts())
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    summary = f"{counts} weekly counts, {synced} job texts synced to the vector store"
    if Prediction.objects.filter(week_start__gte=monday).exists():
        return f"{summary}; this week's forecast kept"
    result = services.forecast_run()
    return f"{summary}; forecast {result['status']}: {result['predictions']} predictions, {result['alerts']} alerts"
