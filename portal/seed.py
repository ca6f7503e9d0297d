"""Demo data of the portal: Anna (anna@demo.hvac.example) has a visit today with a technician and
an ETA (the live card on her dashboard), and a finished visit waiting for her rating."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hvaccrm.models import Client, ServiceJob, Technician
from hvaccrm.seed import register_seeder
from hvaccrm.services import job_assign, job_create, job_eta_set, job_transition

MARK = "[demo portal]"


@register_seeder("portal", order=60)
def seed_portal(*, rng, stdout) -> str:
    client = Client.objects.filter(email="anna@demo.hvac.example").first()
    if client is None:
        return "portal: no demo client Anna, nothing to add"
    if ServiceJob.objects.filter(client=client, description__startswith=MARK).exists():
        return "portal: demo visits already there"
    site = client.sites.order_by("id").first()
    tech = Technician.objects.filter(active=True, home_district_id=site.district_id).first() or \
        Technician.objects.filter(active=True).first()
    if site is None or tech is None:
        return "portal: no site or technician for the demo visits"
    now = timezone.now()
    today = job_create(site=site, service_type="repair", source="portal",
                       description=f"{MARK} Klimatyzacja w salonie nie chłodzi")
    start = max(now - timedelta(minutes=30), timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0))
    job_assign(job=today, technician=tech, scheduled_start=start, scheduled_end=start + timedelta(hours=2))
    job_eta_set(job=today, eta=now + timedelta(minutes=40))
    done = job_create(site=site, service_type="maintenance", source="portal",
                      description=f"{MARK} Przegląd pompy ciepła")
    job_assign(job=done, technician=tech, scheduled_start=now - timedelta(days=7), scheduled_end=now - timedelta(days=7, hours=-2))
    for status in ("en_route", "on_site", "completed"):
        job_transition(job=done, to_status=status, report={"result": "ok"} if status == "completed" else None)
    return f"portal: Anna has a visit today (job {today.pk}, live ETA) and a finished one to rate (job {done.pk})"
