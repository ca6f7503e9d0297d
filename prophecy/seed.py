"""Demo data for prophecy: the recent finished jobs' texts in the vector store, and one forecast."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hvaccrm.models import ServiceJob
from hvaccrm.seed import register_seeder
from prophecy import services
from prophecy.models import Prediction, SyncState

DEMO_JOBS = 200


@register_seeder("prophecy", order=70)  # last: it indexes the jobs the other seeders made
def seed_prophecy(*, rng, stdout=None) -> str:
    already = set(SyncState.objects.filter(object_type="hvaccrm.servicejob").values_list("object_id", flat=True))
    jobs = (ServiceJob.objects.filter(status="completed", district__isnull=False).exclude(description="")
            .select_related("district", "equipment").order_by("-completed_at")[:DEMO_JOBS])
    synced = 0
    for job in jobs:
        if str(job.pk) in already:
            continue
        services.sync_object(
            object_type="hvaccrm.servicejob", object_id=str(job.pk), text=job.description,
            district=job.district.slug, service_type=job.service_type,
            created=(job.completed_at or job.scheduled_start or job.created_at).isoformat(),
            client_id=job.client_id,
            extra={"equipment": str(job.equipment) if job.equipment_id else "",
                   "resolution": (job.report or {}).get("work_done", ""), "status": job.status},
        )
        synced += 1
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    if Prediction.objects.filter(week_start__gte=monday).exists():
        return f"{synced} job texts synced to the vector store; this week's forecast kept"
    result = services.forecast_run()
    return (f"{synced} job texts synced to the vector store; forecast {result['status']}: "
            f"{result['predictions']} predictions, {result['alerts']} alerts")
