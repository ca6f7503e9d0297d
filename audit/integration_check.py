"""`manage.py integration_check`: the design's five scenarios against the configured system.

Everything runs inside ONE database transaction that is rolled back at the end: the synthetic
rows (a client and a job marked is_synthetic, a portal user, a technician, messages, outbox
rows, notifications and deliveries) vanish, and because Celery publishes, socket pushes and
deliveries are all registered with `on_commit`, none of them ever happens: no e-mail, SMS,
Telegram or push leaves the process. Only the outbox rows of the synthetic objects are run (never
a `delivery.send` row). The vector store's entries of the synthetic client are erased before the
rollback, for the case where the store lives outside the database (Weaviate).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from hvaccrm.models import Client, District, IntegrationLog, JobFeedback, ServiceJob, Site, Technician
from hvaccrm.services.outbox import outbox_process, record

# Śródmieście, as in the design's example of a located emergency.
POINT = (52.2297, 21.0122)
DISTRICT = "srodmiescie"


class _Rollback(Exception):
    pass


@dataclass
class ScenarioResult:
    name: str
    ok: bool
    ms: float
    detail: str = ""


@dataclass
class Synthetic:
    tag: str
    client: Client | None = None
    user: object | None = None
    technician: Technician | None = None
    site: Site | None = None
    office: object | None = None
    objects: list[tuple[str, str]] = field(default_factory=list)


def _run_owed(refs: list[tuple[str, str]]) -> list[IntegrationLog]:
    """Run every owed row of the given objects now (in this process, inside the transaction)."""
    rows = []
    for otype, oid in refs:
        for row in IntegrationLog.objects.filter(object_type=otype, object_id=str(oid)).exclude(kind="delivery.send"):
            if row.state != IntegrationLog.State.SUCCEEDED:
                outbox_process(log_id=row.pk)
            row.refresh_from_db()
            rows.append(row)
    return rows


def _expect_succeeded(rows: list[IntegrationLog], wanted: set[tuple[str, str]]) -> None:
    seen = {(r.target, r.kind): r for r in rows}
    for key in sorted(wanted):
        row = seen.get(key)
        if row is None:
            raise AssertionError(f"no {key[0]}/{key[1]} row was recorded")
        if row.state != IntegrationLog.State.SUCCEEDED:
            raise AssertionError(f"{key[0]}/{key[1]} {row.state}: {row.error[:200]}")


def _setup(s: Synthetic) -> None:
    users = get_user_model()
    district = District.objects.get(slug=DISTRICT)
    s.client = Client.objects.create(name=f"[synthetic] integration check {s.tag}", email=f"{s.tag}@synthetic.invalid",
                                     is_synthetic=True)
    s.user = users.objects.create(username=f"{s.tag}@synthetic.invalid", email=f"{s.tag}@synthetic.invalid",
                                  first_name="Synthetic", last_name="Client")
    s.user.set_unusable_password()
    s.user.save(update_fields=["password"])
    s.user.groups.add(Group.objects.get(name="client"))
    s.client.users.add(s.user)
    s.office = users.objects.create(username=f"{s.tag}-office", email=f"{s.tag}-office@synthetic.invalid",
                                    is_staff=True)
    s.office.groups.add(Group.objects.get(name="dispatcher"))
    tech_user = users.objects.create(username=f"{s.tag}-tech", email=f"{s.tag}-tech@synthetic.invalid")
    tech_user.groups.add(Group.objects.get(name="technician"))
    s.technician = Technician.objects.create(user=tech_user, home_district=district, on_shift=True,
                                             last_latitude=POINT[0], last_longitude=POINT[1],
                                             last_position_at=timezone.now())
    s.site = Site.objects.create(client=s.client, street="ul. Marszałkowska 1 [synthetic]", postal_code="00-001",
                                 latitude=POINT[0], longitude=POINT[1], district=district)


def _job(s: Synthetic, *, source: str = "phone", description: str = "Klimatyzacja nie chłodzi [synthetic]"):
    from hvaccrm.services.jobs import job_create

    start = timezone.now() + timedelta(days=3)
    return job_create(site=s.site, service_type="repair", description=description, source=source,
                      requested_start=start, requested_end=start + timedelta(hours=2), is_synthetic=True)


def _message(s: Synthetic, *, job: ServiceJob, body: str, located: bool):
    from communications.services import conversation_start, message_send

    conv = conversation_start(author=s.office, client_id=s.client.pk, subject="[synthetic]", job_id=job.pk)
    return message_send(author=s.user, conversation_id=conv.pk, body=body,
                        latitude=POINT[0] if located else None, longitude=POINT[1] if located else None)


def scenario_cross_system(s: Synthetic) -> str:
    """One emergency message reaches the vector store, the map and the district's technicians."""
    job = _job(s)
    msg = _message(s, job=job, body="Klimatyzacja nie chłodzi, serwerownia się przegrzewa! [synthetic]", located=True)
    if msg.urgency != "emergency":
        raise AssertionError(f"the message was classified {msg.urgency}, not emergency")
    rows = _run_owed([("communications.message", str(msg.pk))])
    _expect_succeeded(rows, {("prophecy", "message.created"), ("map", "message.created"),
                             ("notifications", "emergency.alert")})
    from communications.models import EmergencyAlert, Notification

    alert = EmergencyAlert.objects.filter(message=msg).first()
    if alert is None:
        raise AssertionError("no emergency alert was raised")
    told = Notification.objects.filter(related_type="communications.emergencyalert", related_id=str(alert.pk))
    if not told.exists():
        raise AssertionError("the emergency notified nobody")
    return f"3 targets, {told.count()} notification(s)"


def scenario_message_to_map(s: Synthetic) -> str:
    """A located message moves its job on the map (mapping's job_locate through the core)."""
    job = _job(s)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    msg = _message(s, job=job, body="Proszę o przegląd klimatyzacji w biurze", located=True)
    rows = _run_owed([("communications.message", str(msg.pk))])
    _expect_succeeded(rows, {("map", "message.created")})
    job.refresh_from_db()
    if job.latitude is None or job.district_id is None:
        raise AssertionError("the job was not located")
    return f"job located in {job.district.slug}"


def scenario_prophecy_to_notification(s: Synthetic) -> str:
    """A hotspot becomes a district alert to managers."""
    from communications.models import Notification

    ref = ("prophecy.prediction", f"synthetic-{s.tag}")
    with transaction.atomic():
        record(source="prophecy", target="notifications", kind="prophecy.alert", object_type=ref[0], object_id=ref[1],
               payload={"prediction": 0, "district": "Wilanów", "district_slug": "wilanow", "predictedDemand": 0.92,
                        "confidence": 0.88, "serviceTypes": ["installation", "maintenance"],
                        "week_start": timezone.localdate().isoformat()})
    rows = _run_owed([ref])
    _expect_succeeded(rows, {("notifications", "prophecy.alert")})
    n = Notification.objects.filter(kind="prophecy.alert", dedupe_key=f"outbox:{rows[0].pk}").count()
    return f"{n} manager notification(s)"


def scenario_portal_to_systems(s: Synthetic) -> str:
    """A booking reaches the map, prophecy and technicians; a low rating reaches managers."""
    from hvaccrm.services.jobs import job_feedback_give, job_transition

    job = _job(s, source="portal", description="Montaż klimatyzacji w salonie [synthetic]")
    rows = _run_owed([("hvaccrm.servicejob", str(job.pk))])
    _expect_succeeded(rows, {("portal", "booking.created"), ("map", "job.created"), ("notifications", "job.created")})
    for status in ("scheduled", "en_route", "on_site", "completed"):
        job = job_transition(job=job, to_status=status, technician=s.technician)
    fb = job_feedback_give(job=job, rating=1, comment="Technik się spóźnił [synthetic]")
    rows = _run_owed([("hvaccrm.jobfeedback", str(fb.pk))])
    _expect_succeeded(rows, {("portal", "feedback.created")})
    detail = JobFeedback.objects.filter(pk=fb.pk).exists()
    return f"booking and feedback synced (feedback kept: {detail})"


def scenario_data_consistency(s: Synthetic) -> str:
    """The synthetic objects leave nothing out of step."""
    from audit.consistency import get_data_consistency_report

    report = get_data_consistency_report(grace_seconds=0, window_days=1,
                                         kinds=["message_without_log", "synced_without_vector",
                                                "emergency_without_notification", "job_without_location",
                                                "log_of_deleted_object"])
    from communications.models import Message

    mine = {
        "message_without_log": set(Message.objects.filter(conversation__client=s.client).values_list("pk", flat=True)),
        "emergency_without_notification": set(
            Message.objects.filter(conversation__client=s.client).values_list("pk", flat=True)),
        "job_without_location": set(ServiceJob.objects.filter(client=s.client).values_list("pk", flat=True)),
    }
    bad = []
    for f in report["findings"]:
        ours = mine.get(f["kind"])
        if ours is not None and ours & set(f["objects"]):
            bad.append(f["kind"])
    if bad:
        raise AssertionError("out of step: " + ", ".join(bad))
    return f"{len(report['checked'])} checks"


SCENARIOS: list[tuple[str, Callable[[Synthetic], str]]] = [
    ("Cross-system integration", scenario_cross_system),
    ("Message-to-map sync", scenario_message_to_map),
    ("Prophecy-to-notification sync", scenario_prophecy_to_notification),
    ("Client portal system sync", scenario_portal_to_systems),
    ("Data consistency verification", scenario_data_consistency),
]


def integration_check_run() -> list[ScenarioResult]:
    """Run the five scenarios on synthetic data and roll everything back."""
    results: list[ScenarioResult] = []
    s = Synthetic(tag=f"synthetic-{uuid.uuid4().hex[:10]}")
    try:
        with transaction.atomic():
            _setup(s)
            for name, fn in SCENARIOS:
                started = time.perf_counter()
                try:
                    with transaction.atomic():
                        detail = fn(s)
                    ok = True
                except Exception as exc:  # a failed scenario is reported, the others still run
                    ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
                results.append(ScenarioResult(name, ok, round((time.perf_counter() - started) * 1000, 1), detail))
            _erase_vectors(s)
            raise _Rollback
    except _Rollback:
        pass
    return results


def _erase_vectors(s: Synthetic) -> None:
    try:
        from prophecy.services import vectors_erase_for_client
    except ImportError:
        return
    try:
        vectors_erase_for_client(client_id=s.client.pk)
    except Exception:  # noqa: S110 - the rollback removes the embedded store's rows anyway
        pass
