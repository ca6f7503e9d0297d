"""The technician app's reads: the day and the next days, a job with its unit's history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import Http404
from django.utils import timezone

from hvaccrm.models import RefrigerantRecord, ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus
from integration import techapp as bridge

DAYS_AHEAD = 2  # today and the next two days: what the phone keeps for a day without signal


def technician_for_user(user) -> Technician | None:
    """The signed-in user's technician row, or None (staff and clients have none)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Technician.objects.select_related("user").filter(user_id=user.pk, active=True).first()


def technician_days(*, technician: Technician, today: date | None = None) -> list[dict[str, Any]]:
    today = today or timezone.localdate()
    days = [today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)]
    return [{"day": day, "today": day == today, "jobs": jobs}
            for day, jobs in bridge.technician_days(technician=technician, days=days)]


def technician_job(*, technician: Technician, job_id: int) -> ServiceJob:
    """A job of this technician, or 404: another technician's job does not exist for them."""
    job = (ServiceJob.objects.select_related("site", "client", "equipment", "district")
           .filter(pk=job_id, technician=technician).first())
    if job is None:
        raise Http404
    return job


def unit_history(*, job: ServiceJob, visits: int = 5) -> dict[str, Any]:
    """The job's unit: its last visits, the refrigerant records (what went in and out) and the next
    leak check, for the technician standing in front of it."""
    eq = job.equipment
    if eq is None:
        return {"equipment": None, "visits": [], "records": [], "next_leak_check": None}
    past = (ServiceJob.objects.filter(equipment=eq, status=JobStatus.COMPLETED).exclude(pk=job.pk)
            .select_related("technician__user").order_by("-completed_at", "-pk")[:visits])
    records = RefrigerantRecord.objects.filter(equipment=eq).order_by("-performed_on", "-pk")[:visits]
    return {"equipment": eq, "visits": list(past), "records": list(records),
            "next_leak_check": eq.next_leak_check_due}
