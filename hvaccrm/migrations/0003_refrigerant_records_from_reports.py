"""Data: the refrigerant part of completed jobs' report JSON becomes typed F-gas register rows."""

from decimal import Decimal, InvalidOperation

from django.db import migrations

LEAK_RESULTS = ("no_leak", "leak_found_repaired", "leak_found_not_repaired")


def _kg(value) -> Decimal:
    try:
        kg = Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal("0")
    return kg if Decimal("0") <= kg <= Decimal("1000") else Decimal("0")


def reports_to_records(apps, schema_editor):
    """The refrigerant part of completed jobs' report JSON becomes typed register rows (the JSON stays)."""
    ServiceJob = apps.get_model("hvaccrm", "ServiceJob")
    RefrigerantRecord = apps.get_model("hvaccrm", "RefrigerantRecord")
    jobs = (ServiceJob.objects.filter(status="completed", equipment__isnull=False, report__has_key="refrigerant")
            .select_related("technician").iterator(chunk_size=2000))
    rows = []
    for job in jobs:
        report = job.report or {}
        result = report.get("leak_check") or ""
        result = result if result in LEAK_RESULTS else ""
        tech = job.technician
        rows.append(RefrigerantRecord(
            job_id=job.pk, equipment_id=job.equipment_id, technician_id=job.technician_id,
            certificate_number=(tech.fgas_certificate_number if tech else "") or "",
            performed_on=(job.completed_at or job.status_changed_at or job.created_at).date(),
            refrigerant=str(report.get("refrigerant") or ""), added_kg=_kg(report.get("refrigerant_added_kg")),
            recovered_kg=_kg(report.get("refrigerant_recovered_kg")), leak_check_done=bool(result),
            leak_result=result,
            repair="(migrated: not described)" if result == "leak_found_repaired" else "",
        ))
    RefrigerantRecord.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)

class Migration(migrations.Migration):
    dependencies = [("hvaccrm", "0002_maintenance_agreements_fgas_register")]

    operations = [migrations.RunPython(reports_to_records, migrations.RunPython.noop)]
