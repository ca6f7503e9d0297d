"""Demo data of maintenance: F-gas certificates for the certified technicians, agreements for about
a third of the clients, and a year of agreement visits with their register rows (some leaks) so the
register export and the manager's report have something to show. Idempotent; its own random
generator, so the other seeders' data stay the same."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from hvaccrm.models import Agreement, Client, Equipment, RefrigerantRecord, ServiceJob, Technician
from hvaccrm.models.clients import F_GASES
from hvaccrm.models.jobs import JobSource, JobStatus, ServiceType
from hvaccrm.seed import register_seeder
from hvaccrm.services.maintenance import season_window, unit_seasons

LEAK_PLACES = [("zawór serwisowy", "wymiana wkładu zaworu"), ("połączenie kielichowe", "nowy kielich i nakrętka"),
               ("parownik", "lutowanie i próba ciśnieniowa")]


def _certificates(rng: random.Random, today) -> list[Technician]:
    techs = list(Technician.objects.filter(skills__contains=["fgas_certified"]).order_by("pk"))
    for i, tech in enumerate(techs):
        if tech.fgas_certificate_number:
            continue
        tech.fgas_certificate_number = f"FGAZ-P/{10000 + i * 37:05d}/{today.year % 100 - rng.randint(1, 5):02d}"
        tech.fgas_certificate_category = "I" if i % 4 else "II"
        # One certificate lapses within 60 days: the office's notice has something to tell.
        tech.fgas_certificate_expires_on = today + timedelta(days=45 if i == 1 else rng.randint(200, 1500))
        tech.save(update_fields=["fgas_certificate_number", "fgas_certificate_category", "fgas_certificate_expires_on"])
    return techs


def _history(rng, agreement, units, techs, today) -> tuple[list[ServiceJob], list[tuple]]:
    """Last year's agreement visits, done, each with its register row for a unit with an F-gas."""
    jobs, records = [], []
    for eq in units:
        for season in unit_seasons(equipment=eq, visits_per_year=agreement.visits_per_year):
            first, last = season_window(season=season, year=today.year - 1)
            day = first + timedelta(days=rng.randint(0, (last - first).days))
            if day < agreement.starts_on:
                continue
            tech = rng.choice(techs)
            at = timezone.make_aware(datetime.combine(day, time(10, 0)))
            leak = rng.random() < 0.12 and eq.refrigerant in F_GASES
            place, repair = rng.choice(LEAK_PLACES) if leak else ("", "")
            jobs.append(ServiceJob(
                client_id=agreement.client_id, site_id=eq.site_id, equipment=eq, service_type=ServiceType.MAINTENANCE,
                description="Przegląd w ramach umowy serwisowej", status=JobStatus.COMPLETED, source=JobSource.SYSTEM,
                requested_start=at, requested_end=at + timedelta(hours=8), scheduled_start=at,
                scheduled_end=at + timedelta(hours=1), technician=tech, latitude=eq.site.latitude,
                longitude=eq.site.longitude, district_id=eq.site.district_id, status_changed_at=at, completed_at=at,
                agreement=agreement, period_key=f"agr{agreement.pk}:{day.year}:{season}", season=season,
                is_synthetic=True, report={"work_done": "Przegląd wykonany", "refrigerant": eq.refrigerant,
                                           "leak_check": "leak_found_repaired" if leak else "no_leak"},
            ))
            if eq.refrigerant in F_GASES:
                added = Decimal(rng.randint(2, 9)) / 10 if leak else Decimal("0")
                records.append((len(jobs) - 1, tech, day, leak, added, place, repair))
    return jobs, records


@register_seeder("maintenance", order=15)
def seed_maintenance(*, rng: random.Random, stdout=None) -> str:
    if Agreement.objects.exists():
        return "agreements already seeded"
    own = random.Random(16)
    today = timezone.localdate()
    with transaction.atomic():
        techs = _certificates(own, today) or list(Technician.objects.all()[:1])
        clients = list(Client.objects.filter(anonymised_at__isnull=True, sites__equipment__isnull=False)
                       .distinct().order_by("pk").prefetch_related("sites__equipment"))
        agreements = visits = 0
        for client in clients[::3]:
            sites = list(client.sites.all())
            units = [eq for site in sites for eq in site.equipment.all()]
            starts = today - timedelta(days=own.randint(380, 700))
            # Some end within the office's 30-day notice, the rest later.
            ends = today + timedelta(days=own.choice([20, 25, 90, 180, 300]))
            agreement = Agreement.objects.create(client=client, visits_per_year=own.choice([1, 1, 2]),
                                                 price=Decimal(own.choice([390, 490, 650, 990])), starts_on=starts,
                                                 ends_on=ends, auto_renew=own.random() < 0.5)
            agreement.sites.set(sites)
            agreement.equipment.set(units)
            for eq in units:
                eq.site = next(s for s in sites if s.pk == eq.site_id)
            jobs, records = _history(own, agreement, units, techs, today)
            ServiceJob.objects.bulk_create(jobs)
            RefrigerantRecord.objects.bulk_create([
                RefrigerantRecord(job=jobs[i], equipment=jobs[i].equipment, technician=tech,
                                  certificate_number=tech.fgas_certificate_number, performed_on=day,
                                  refrigerant=jobs[i].equipment.refrigerant, added_kg=added, leak_check_done=True,
                                  leak_result="leak_found_repaired" if leak else "no_leak", leak_location=place,
                                  repair=repair)
                for i, tech, day, leak, added, place, repair in records])
            done = {j.equipment_id: timezone.localdate(j.completed_at) for j in jobs}
            for eq_id, day in done.items():
                Equipment.objects.filter(pk=eq_id, last_maintenance_on__lt=day).update(last_maintenance_on=day)
            agreements += 1
            visits += len(jobs)
    return f"{len(techs)} F-gas certificates, {agreements} agreements, {visits} past agreement visits"
