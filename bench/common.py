"""Helpers the benches share (no side effects on import: each bench sets its own environment first).

Benches run as `python bench/bench_<name>.py`, so this folder is on the path."""

from __future__ import annotations


def worker_bench_environment(name: str) -> None:
    """Environment of a bench that runs real workers: publish on commit, never eager, and queues
    nobody else consumes (another bench or a developer's `make run` on this Redis must not take our
    tasks, nor we theirs); the emergency queue follows (`<CELERY_QUEUE>-emergency`). Before django_setup."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
    os.environ.setdefault("EMAIL_URL", "memorymail://")
    os.environ["OUTBOX_PUBLISH_ON_COMMIT"] = "true"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["CELERY_QUEUE"] = f"{os.environ.get('CELERY_QUEUE', 'hvaccrm')}-bench-{name}-{os.getpid()}"
    os.environ.pop("CELERY_EMERGENCY_QUEUE", None)


def django_setup() -> None:
    """django.setup(), with channels_redis's per-message INFO logs quiet (a fan-out bench makes
    thousands of "channel full" lines)."""
    import logging

    import django

    django.setup()
    logging.getLogger("channels_redis").setLevel(logging.WARNING)


def pct(values: list[float], p: float) -> float:
    """The p-quantile (0..1) of `values`, linearly interpolated."""
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# --- the emergency benches (bench_emergency, bench_techapp_alert) ----------------------------------


def uptime() -> str:
    import subprocess

    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def process_stop(proc) -> None:
    """Stop a worker or server the bench started (its own Popen), killed after 30 s."""
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def celery_queues_clear() -> None:
    """Empty the bench's own Celery queues (default and emergency) and their bindings."""
    import redis
    from django.conf import settings

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_EMERGENCY_QUEUE):
        r.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def technicians_on_shift(*, prefix: str, n: int, district_slug: str, phone: str) -> list:
    """n on-shift technicians of one district (users `<prefix>000`...), placed around its centre."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from hvaccrm.geo import DISTRICTS
    from hvaccrm.models import District, Technician

    rng = random.Random(7)
    district = District.objects.get(slug=district_slug)
    _n, lat, lng, _t, _w = DISTRICTS[district_slug]
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"{prefix}{i:03d}", first_name="Bench", last_name=f"T{i}") for i in range(n)])
    Group.objects.get(name="technician").user_set.add(*users)
    Technician.objects.bulk_create([
        Technician(user=u, home_district=district, phone=f"{phone}{i:03d}", on_shift=True,
                   last_latitude=lat + rng.uniform(-0.02, 0.02), last_longitude=lng + rng.uniform(-0.03, 0.03))
        for i, u in enumerate(users)])
    return list(Technician.objects.filter(user__username__startswith=prefix))


def emergency_rows_delete(*, client_name: str, user_prefix: str) -> list[int]:
    """Delete a bench's emergencies (the client's messages, alerts, notifications, deliveries and
    their outbox rows), its client and users; returns the client ids (for rows the caller adds)."""
    from django.contrib.auth import get_user_model

    from communications.models import Delivery, EmergencyAlert, Message, Notification
    from communications.services import ALERT_OBJECT
    from hvaccrm.models import Client, IntegrationLog

    clients = Client.objects.filter(name=client_name)
    client_ids = list(clients.values_list("pk", flat=True))
    message_ids = [str(i) for i in Message.objects.filter(conversation__client__in=clients).values_list("pk", flat=True)]
    alerts = list(EmergencyAlert.objects.filter(message__conversation__client__in=clients).values_list("pk", flat=True))
    notes = Notification.objects.filter(related_type=ALERT_OBJECT, related_id__in=[str(a) for a in alerts])
    users = get_user_model().objects.filter(username__startswith=user_prefix)
    notes = notes | Notification.objects.filter(recipient__in=users)
    delivery_ids = [str(i) for i in Delivery.objects.filter(notification__in=notes).values_list("pk", flat=True)]
    IntegrationLog.objects.filter(object_type="communications.delivery", object_id__in=delivery_ids).delete()
    IntegrationLog.objects.filter(object_type="communications.message", object_id__in=message_ids).delete()
    IntegrationLog.objects.filter(object_type="communications.emergencyalert",
                                  object_id__in=[str(a) for a in alerts]).delete()
    EmergencyAlert.objects.filter(pk__in=alerts).delete()
    notes.delete()
    clients.delete()
    users.delete()
    return client_ids
