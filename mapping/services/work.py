"""A technician's day on the phone: status moves on their own jobs, the completion report."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus
from hvaccrm.services import job_transition

TECHNICIAN_MOVES = {JobStatus.EN_ROUTE, JobStatus.ON_SITE}
LEAK_RESULTS = ("no_leak", "leak_found_repaired", "leak_found_not_repaired")


def _own(job: ServiceJob, technician: Technician) -> ServiceJob:
    if job.technician_id != technician.pk:
        raise ServiceError(_("This job is not yours."), code="not_found", status_code=404)
    return job


def job_step(*, job: ServiceJob, technician: Technician, to_status: str) -> ServiceJob:
    """En route / on site, by the assigned technician (completion goes through job_complete)."""
    _own(job, technician)
    if to_status not in TECHNICIAN_MOVES:
        raise ServiceError(_("Use the completion report to finish a job."), code="invalid_status")
    return job_transition(job=job, to_status=to_status, actor=technician.user, technician=technician)


def _kg(value: Any, field: str) -> str:
    try:
        kg = Decimal(str(value or "0"))
    except InvalidOperation as exc:
        raise ServiceError(_("Enter a number of kilograms."), fields={field: [_("Enter a number.")]}) from exc
    if kg < 0 or kg > 1000:
        raise ServiceError(_("Enter a number of kilograms."), fields={field: [_("Between 0 and 1000 kg.")]})
    return str(kg.quantize(Decimal("0.01")))


def job_complete(*, job: ServiceJob, technician: Technician, work_done: str, leak_check: str = "",
                 refrigerant_added_kg: Any = 0, refrigerant_recovered_kg: Any = 0, leak_location: str = "",
                 leak_repair: str = "") -> ServiceJob:
    """Finish an on-site job with its report; units under the F-gas register need the leak check.
    The core turns the refrigerant part into the register row (and refuses work the technician's
    F-gas certificate does not cover) when the job completes."""
    _own(job, technician)
    if not work_done.strip():
        raise ServiceError(_("Describe the work done."), fields={"work_done": [_("Required.")]})
    report: dict[str, Any] = {"work_done": work_done.strip(), "by": technician.pk,
                              "completed_at": timezone.now().isoformat()}
    eq = job.equipment
    if eq is not None and eq.refrigerant:
        if eq.under_fgas_register and leak_check not in LEAK_RESULTS:
            raise ServiceError(_("This unit is under the F-gas register: record the leak check."),
                               fields={"leak_check": [_("Required for this unit.")]})
        report.update(
            refrigerant=eq.refrigerant, fgas_register=eq.under_fgas_register,
            leak_check=leak_check or None,
            refrigerant_added_kg=_kg(refrigerant_added_kg, "refrigerant_added_kg"),
            refrigerant_recovered_kg=_kg(refrigerant_recovered_kg, "refrigerant_recovered_kg"),
            leak_location=(leak_location or "").strip(), leak_repair=(leak_repair or "").strip(),
        )
    return job_transition(job=job, to_status=JobStatus.COMPLETED, actor=technician.user, technician=technician,
                          report=report)
