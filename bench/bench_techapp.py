"""Technician app bench (issue 18): 500 queued offline actions replayed through `POST /tech/actions/`,
then the same queues replayed again (a phone that lost every answer): 0 duplicates.

5 technicians with 10 jobs each (50 jobs, scheduled today). Each job's queue, as the phone made it
offline: on my way, arrived, 7 messages (the first opens the job's conversation), the completion
report with refrigerant figures: 10 actions a job, 500 in all, each technician's queue sent in
batches of 25 through Django's test Client (the whole request: middleware, session, the view, the
services, one commit per action). The outbox rows the actions record are not run: that is the
workers' work, after the answer (OUTBOX_PUBLISH_ON_COMMIT=false).

Duplicates: the rows of the bench's jobs counted after the first pass and after the replay:
messages, job history rows (pghistory, one per transition), outbox rows and DeviceAction rows.
Goal: the first pass < 60 s, replay duplicates 0. Rows are marked (users bench-techapp-*, clients
"BENCH-TECHAPP") and removed at the end (the access trail and job history stay: append-only).

Run: DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_techapp.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("AXES_ENABLED", "false")
os.environ["OUTBOX_PUBLISH_ON_COMMIT"] = "false"

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from hvaccrm.models import (  # noqa: E402
    Client,
    District,
    Equipment,
    IntegrationLog,
    RefrigerantRecord,
    ServiceJob,
    Site,
    Technician,
)

N_TECHS = 5
JOBS_PER_TECH = 10
MESSAGES_PER_JOB = 7
BATCH = 25
MARK = "BENCH-TECHAPP"
User = get_user_model()


def cleanup() -> None:
    from communications.models import Conversation

    with transaction.atomic():
        jobs = list(ServiceJob.objects.filter(client__name__startswith=MARK).values_list("pk", flat=True))
        Conversation.objects.filter(client__name__startswith=MARK).delete()
        IntegrationLog.objects.filter(object_type="hvaccrm.servicejob", object_id__in=[str(j) for j in jobs]).delete()
        # The bench's own F-gas register rows (synthetic jobs): the register protects its jobs and units.
        RefrigerantRecord.objects.filter(job_id__in=jobs).delete()
        with connection.cursor() as cur:
            cur.execute("DELETE FROM techapp_deviceaction WHERE job_id = ANY(%s)", [jobs])
            cur.execute("DELETE FROM hvaccrm_servicejob WHERE id = ANY(%s)", [jobs])
        Client.objects.filter(name__startswith=MARK).delete()
        Technician.objects.filter(user__username__startswith="bench-techapp-").delete()
        User.objects.filter(username__startswith="bench-techapp-").delete()


def create() -> list[tuple[Technician, list[ServiceJob]]]:
    district = District.objects.get(slug="mokotow")
    start = timezone.now() + timedelta(hours=1)
    out = []
    for t in range(N_TECHS):
        user = User.objects.create(username=f"bench-techapp-{t}", first_name=f"Tech{t}")
        user.groups.add(Group.objects.get(name="technician"))
        # A category I F-gas certificate: the completion reports record refrigerant added.
        tech = Technician.objects.create(
            user=user, home_district=district, phone="+48 601 200 300", on_shift=True,
            skills=["split_ac", "fgas_certified"], fgas_certificate_number=f"FGAZ-P/9{t:04d}/26",
            fgas_certificate_category="I", fgas_certificate_expires_on=timezone.localdate() + timedelta(days=365))
        jobs = []
        for j in range(JOBS_PER_TECH):
            client = Client.objects.create(name=f"{MARK} {t}-{j}", email=f"bench{t}-{j}@techapp.bench",
                                           is_synthetic=True)
            client_user = User.objects.create(username=f"bench-techapp-client-{t}-{j}")
            client_user.groups.add(Group.objects.get(name="client"))
            client.users.add(client_user)
            site = Site.objects.create(client=client, street=f"ul. Benchowa {j}", postal_code="02-001",
                                       district=district, latitude=52.19, longitude=21.02)
            unit = Equipment.objects.create(site=site, kind="split_ac", brand="Daikin", model="FTXM35",
                                            refrigerant="R32", refrigerant_charge_kg=1.2)
            jobs.append(ServiceJob.objects.create(
                client=client, site=site, equipment=unit, service_type="repair", status="scheduled",
                technician=tech, description="bench", district=district, is_synthetic=True,
                scheduled_start=start + timedelta(hours=j), scheduled_end=start + timedelta(hours=j + 1)))
        out.append((tech, jobs))
    return out


def queue(jobs: list[ServiceJob]) -> list[dict]:
    actions: list[dict] = []

    def add(kind: str, **payload) -> None:
        actions.append({"id": str(uuid.uuid4()), "seq": len(actions) + 1, "kind": kind, "payload": payload,
                        "device_time": timezone.now().isoformat()})

    for job in jobs:
        add("step", job=job.pk, to_status="en_route")
        add("step", job=job.pk, to_status="on_site")
        for m in range(MESSAGES_PER_JOB):
            add("message", job=job.pk, body=f"Wiadomość {m + 1} z wizyty")
        add("complete", job=job.pk, work_done="Wymiana filtra, czyszczenie", leak_check="no_leak",
            refrigerant_added_kg="0.3")
    return actions


def counts(job_ids: list[int]) -> dict[str, int]:
    from communications.models import Message
    from techapp.models import DeviceAction

    history = apps.get_model("hvaccrm", "ServiceJobEvent")
    return {
        "messages": Message.objects.filter(conversation__job_id__in=job_ids).count(),
        "transitions": history.objects.filter(pgh_obj_id__in=job_ids).count(),
        "outbox rows": IntegrationLog.objects.filter(object_type="hvaccrm.servicejob",
                                                     object_id__in=[str(j) for j in job_ids]).count(),
        "device actions": DeviceAction.objects.filter(job_id__in=job_ids).count(),
    }


def replay(clients: list[tuple[HttpClient, list[dict]]]) -> tuple[float, dict[str, int]]:
    answers: dict[str, int] = {}
    started = time.perf_counter()
    for http, actions in clients:
        for i in range(0, len(actions), BATCH):
            response = http.post("/tech/actions/", {"actions": actions[i:i + BATCH]}, content_type="application/json")
            assert response.status_code == 200, response.content[:300]
            for r in response.json()["results"]:
                key = "replayed" if r.get("replayed") else ("applied" if r["ok"] else f"refused:{r.get('code')}")
                answers[key] = answers.get(key, 0) + 1
    return time.perf_counter() - started, answers


def main() -> int:
    setup_test_environment()
    cleanup()
    try:
        made = create()
        job_ids = [j.pk for _t, jobs in made for j in jobs]
        clients = []
        for tech, jobs in made:
            http = HttpClient()
            http.force_login(tech.user)
            clients.append((http, queue(jobs)))
        total = sum(len(a) for _h, a in clients)
        before = counts(job_ids)
        elapsed, answers = replay(clients)
        after_first = counts(job_ids)
        again, answers_again = replay(clients)
        after_replay = counts(job_ids)
        duplicates = {k: after_replay[k] - after_first[k] for k in after_first}
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"{total} actions ({N_TECHS} technicians, {len(job_ids)} jobs, batches of {BATCH})")
        print(f"first pass: {elapsed:.1f} s, {total / elapsed:.0f} actions/s, answers {answers} (goal < 60 s)")
        print(f"rows made: { {k: after_first[k] - before[k] for k in before} }")
        print(f"replay: {again:.1f} s, {total / again:.0f} actions/s, answers {answers_again}")
        print(f"duplicates after the replay: {duplicates} (goal: all 0)")
        print(f"load: {load}")
        ok = elapsed < 60 and not any(duplicates.values()) and answers.get("applied") == total
        return 0 if ok else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
