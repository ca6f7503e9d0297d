"""Closing a visit: the F-gas register row from the completion report (EU 2024/573), the unit's last
maintenance and leak check dates, and the follow-up check after a repaired leak."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from hvaccrm.models import Equipment, RefrigerantRecord, ServiceJob
from hvaccrm.models.jobs import JobSource, ServiceType
from hvaccrm.models.maintenance import MAX_KG, LeakResult
from hvaccrm.selectors import LEAK_CHECK, SERVICE, technician_can_do
from hvaccrm.services.maintenance import PLANNED_TYPES, _day_bounds

__all__ = ["leak_follow_up_create", "refrigerant_record_build", "visit_close"]


def _kg(value: Any, field: str) -> Decimal:
    try:
        kg = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as exc:
        raise ServiceError(_("Enter a number of kilograms."), fields={field: [_("Enter a number.")]}) from exc
    if not kg.is_finite() or kg < 0 or kg > MAX_KG:
        raise ServiceError(_("A refrigerant quantity must be between 0 and %(max)s kg.") % {"max": MAX_KG},
                           fields={field: [_("Between 0 and %(max)s kg.") % {"max": MAX_KG}]})
    return kg.quantize(Decimal("0.01"))


def refrigerant_record_build(*, job: ServiceJob, report: dict[str, Any], on: date) -> RefrigerantRecord | None:
    """Validate the refrigerant part of a completion report into an unsaved register row (None when
    the report has none). Raises before anything is saved."""
    eq = job.equipment
    if eq is None or not eq.refrigerant or not any(k in report for k in (
            "refrigerant", "leak_check", "refrigerant_added_kg", "refrigerant_recovered_kg")):
        return None
    gas = str(report.get("refrigerant") or eq.refrigerant)
    if gas != eq.refrigerant:
        raise ServiceError(_("This unit uses %(unit)s, not %(gas)s.") % {"unit": eq.refrigerant, "gas": gas},
                           fields={"refrigerant": [_("Use the unit's refrigerant.")]})
    result = str(report.get("leak_check") or "")
    if result and result not in LeakResult.values:
        raise ServiceError(_("Unknown leak check result."), fields={"leak_check": [_("Choose a result.")]})
    repair = str(report.get("leak_repair") or "").strip()[:200]
    if result == LeakResult.REPAIRED and not repair:
        raise ServiceError(_("Describe how the leak was repaired."), fields={"leak_repair": [_("Required.")]})
    record = RefrigerantRecord(
        job=job, equipment=eq, technician_id=job.technician_id, performed_on=on, refrigerant=gas,
        added_kg=_kg(report.get("refrigerant_added_kg"), "refrigerant_added_kg"),
        recovered_kg=_kg(report.get("refrigerant_recovered_kg"), "refrigerant_recovered_kg"),
        leak_check_done=bool(result), leak_result=result,
        leak_location=str(report.get("leak_location") or "").strip()[:200], repair=repair,
    )
    tech = job.technician
    if tech is not None:
        record.certificate_number = tech.fgas_certificate_number
        opened = record.added_kg > 0 or record.recovered_kg > 0 or result == LeakResult.REPAIRED
        verdict = technician_can_do(technician=tech, equipment=eq, work=SERVICE if opened else LEAK_CHECK, on=on)
        if not verdict.ok:
            raise ServiceError(verdict.reason, code="certificate", fields={"technician": [verdict.reason]})
    return record


def visit_close(*, job: ServiceJob, report: dict[str, Any] | None) -> RefrigerantRecord | None:
    """What every completion does to the unit (called by `job_transition` inside its transaction):
    the register row, the unit's last maintenance and leak check dates, a repaired leak's follow-up.
    A completed planned visit keeps its period key, so the generator does not plan that period again."""
    on = timezone.localdate(job.completed_at) if job.completed_at else timezone.localdate()
    record = refrigerant_record_build(job=job, report=report or {}, on=on)
    if record is not None:
        record.save()
    eq = job.equipment
    if eq is None:
        return record
    fields = []
    if job.service_type in PLANNED_TYPES and (eq.last_maintenance_on is None or eq.last_maintenance_on < on):
        eq.last_maintenance_on = on
        fields.append("last_maintenance_on")
    checked = record is not None and record.leak_check_done
    if checked and (eq.last_leak_check_on is None or eq.last_leak_check_on < on):
        eq.last_leak_check_on = on
        fields.append("last_leak_check_on")
    if fields:
        eq.save(update_fields=fields)
    if record is not None and record.leak_result == LeakResult.REPAIRED:
        leak_follow_up_create(record=record)
    return record


def leak_follow_up_create(*, record: RefrigerantRecord) -> ServiceJob:
    """A repaired leak is checked again within LEAK_FOLLOW_UP_DAYS (EU 2024/573, art. 4(6))."""
    from hvaccrm.services.jobs import job_create  # jobs imports this module for completion

    eq = Equipment.objects.select_related("site").get(pk=record.equipment_id)
    due = record.performed_on + timedelta(days=settings.LEAK_FOLLOW_UP_DAYS)
    first = record.performed_on + timedelta(days=7)
    job = job_create(
        site=eq.site, equipment=eq, service_type=ServiceType.INSPECTION, source=JobSource.SYSTEM,
        description=_("Follow-up leak check after the repair on %(d)s (due by %(due)s).") % {
            "d": record.performed_on, "due": due},
        requested_start=_day_bounds(first)[0], requested_end=_day_bounds(due)[1],
    )
    job.period_key = f"followup:{record.job_id}"
    job.save(update_fields=["period_key"])
    return job
