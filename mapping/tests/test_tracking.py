from __future__ import annotations

from datetime import time, timedelta
from time import time as time_now

import pytest
from django.utils import timezone

from hvaccrm.realtime import groups as g
from hvaccrm.tests.factories import TechnicianFactory
from mapping.models import LocationPing
from mapping.services import PingRejected, gps_retention_apply, location_ping_ingest, technician_private_mode_set
from mapping.tests.factories import LocationPingFactory
from mapping.tests.realtime import events_to_group

pytestmark = pytest.mark.django_db


def ping(tech, **kw):
    args = {"latitude": 52.1930, "longitude": 21.0250, "accuracy": 8.0, "speed": 5.0, "heading": 90.0,
            "device_time": timezone.now() - timedelta(seconds=5), "seq": 1}
    args.update(kw)
    return location_ping_ingest(technician=tech, **args)


def test_a_valid_ping_is_stored_and_becomes_the_last_known_position(technician_mokotow):
    result = ping(technician_mokotow, latitude=52.2000, longitude=21.0100, accuracy=12.5)
    assert result["stored"] and result["status"] == "stored"
    technician_mokotow.refresh_from_db()
    assert (technician_mokotow.last_latitude, technician_mokotow.last_longitude) == (52.2000, 21.0100)
    assert technician_mokotow.last_accuracy_m == 12.5
    row = LocationPing.objects.get()
    assert row.seq == 1 and row.speed_mps == 5.0 and row.heading == 90.0


def test_a_resent_ping_is_stored_once(technician_mokotow):
    first = ping(technician_mokotow, seq=7)
    again = ping(technician_mokotow, seq=7)
    assert first["stored"] and not again["stored"] and again["status"] == "duplicate"
    assert again["ping"] == first["ping"]
    assert LocationPing.objects.count() == 1


def test_the_same_sequence_number_of_another_technician_is_a_different_ping(technician_mokotow):
    other = TechnicianFactory()
    ping(technician_mokotow, seq=1)
    assert ping(other, seq=1)["stored"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"latitude": 95.0}, "out_of_range"),
        ({"longitude": -181.0}, "out_of_range"),
        ({"speed": -1.0}, "out_of_range"),
        ({"heading": 400.0}, "out_of_range"),
        ({"accuracy": -3.0}, "out_of_range"),
        ({"accuracy": 950.0}, "inaccurate"),
        ({"device_time": timezone.now() + timedelta(minutes=10)}, "future_time"),
        ({"device_time": timezone.now() - timedelta(hours=2)}, "stale_time"),
    ],
)
def test_each_invalid_ping_is_rejected_with_its_reason_and_nothing_is_stored(technician_mokotow, change, reason):
    with pytest.raises(PingRejected) as exc:
        ping(technician_mokotow, **change)
    assert exc.value.code == reason and exc.value.fields == {"reason": [reason]}
    assert not LocationPing.objects.exists()
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.last_latitude is None


def test_an_implausible_jump_is_rejected_with_its_reason(technician_mokotow):
    t0 = timezone.now() - timedelta(seconds=30)
    ping(technician_mokotow, seq=1, device_time=t0)
    # Gdańsk, 20 seconds later: about 280 km away.
    with pytest.raises(PingRejected) as exc:
        ping(technician_mokotow, seq=2, latitude=54.35, longitude=18.65, device_time=t0 + timedelta(seconds=20))
    assert exc.value.code == "implausible_jump" and " m " in exc.value.message
    # A plausible drive (500 m in 60 s) is fine.
    assert ping(technician_mokotow, seq=3, latitude=52.1975, device_time=t0 + timedelta(seconds=60))["stored"]
    assert LocationPing.objects.count() == 2


def test_an_older_ping_arriving_late_is_stored_but_does_not_move_the_last_position(technician_mokotow):
    now = timezone.now()
    ping(technician_mokotow, seq=2, latitude=52.1940, device_time=now - timedelta(seconds=5))
    assert ping(technician_mokotow, seq=1, latitude=52.1935, device_time=now - timedelta(seconds=30))["stored"]
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.last_latitude == 52.1940


def test_off_shift_nothing_is_stored(technician_mokotow):
    technician_mokotow.on_shift = False
    technician_mokotow.save()
    assert ping(technician_mokotow) == {"stored": False, "status": "off_shift", "ping": None}
    assert not LocationPing.objects.exists()


def test_outside_the_shift_hours_nothing_is_stored_even_with_the_flag_on(technician_mokotow):
    now = timezone.localtime()
    start = (now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=3)).time().replace(second=0, microsecond=0)
    if end <= start:  # near midnight: a shift earlier in the day instead
        start, end = time(0, 0), time(0, 1)
    technician_mokotow.shift_start, technician_mokotow.shift_end = start, end
    technician_mokotow.save()
    assert ping(technician_mokotow)["status"] == "off_shift"
    assert not LocationPing.objects.exists()


def test_in_private_mode_nothing_is_stored_and_dispatch_is_told_private(technician_mokotow, django_capture_on_commit_callbacks):
    ping(technician_mokotow, seq=1)

    def go_private():
        with django_capture_on_commit_callbacks(execute=True):
            technician_private_mode_set(technician=technician_mokotow, private=True)

    received = events_to_group(g.dispatch_group(), go_private)
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.last_latitude is None  # the map shows "private", not an old point
    assert ping(technician_mokotow, seq=2) == {"stored": False, "status": "private", "ping": None}
    assert LocationPing.objects.count() == 1
    assert [e["type"] for e in received] == ["locations.updated"]
    [item] = received[0]["data"]["locations"]
    assert item["technician"] == technician_mokotow.pk and item["private"] is True and "latitude" not in item


def test_positions_reach_dispatch_batched_with_each_technicians_latest(technician_mokotow,
                                                                        django_capture_on_commit_callbacks):
    other = TechnicianFactory()
    now = timezone.now()

    def burst():
        for i in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                ping(technician_mokotow, seq=i + 1, latitude=52.1930 + i * 0.0001,
                     device_time=now - timedelta(seconds=10 - i))
        with django_capture_on_commit_callbacks(execute=True):
            ping(other, seq=1)

    received = events_to_group(g.dispatch_group(), burst, wait=1.5)
    # The first position leaves at once (the buffer was idle), the rest in one batch an interval later.
    assert [e["type"] for e in received] == ["locations.updated"] * len(received) and len(received) <= 2
    latest = {}
    for event in received:
        assert event["stream"] == "locations"
        assert event["id"] == max(p["ping"] for p in event["data"]["locations"])
        latest.update({p["technician"]: p for p in event["data"]["locations"]})
    assert set(latest) == {technician_mokotow.pk, other.pk}
    assert latest[technician_mokotow.pk]["latitude"] == 52.1934
    assert latest[technician_mokotow.pk]["ping"] == LocationPing.objects.get(technician=technician_mokotow, seq=5).pk
    assert LocationPing.objects.filter(technician=technician_mokotow).count() == 5


def test_with_no_push_interval_each_position_is_sent_at_once(technician_mokotow, django_capture_on_commit_callbacks,
                                                             monkeypatch):
    from mapping import conf

    monkeypatch.setattr(conf, "GPS_PUSH_INTERVAL_S", 0.0)
    now = timezone.now()

    def burst():
        for i in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                ping(technician_mokotow, seq=i + 1, device_time=now - timedelta(seconds=10 - i))

    received = events_to_group(g.dispatch_group(), burst)
    assert [len(e["data"]["locations"]) for e in received] == [1, 1, 1]


def test_a_position_another_process_still_holds_is_not_sent_after_private_mode(technician_mokotow,
                                                                               django_capture_on_commit_callbacks):
    """The position waits in one web process's buffer while private mode is set through another:
    when that buffer sends, the older position is dropped, so the marker does not come back."""
    from hvaccrm.realtime.coalesce import CoalescingPush
    from mapping.services import tracking

    other_process = CoalescingPush(event_type="locations.updated", group=g.dispatch_group(), items_key="locations",
                                   interval=lambda: 60.0, row_id=tracking._newest_ping,
                                   prepare=tracking._drop_superseded)
    other_process.put(technician_mokotow.pk, {"technician": technician_mokotow.pk, "private": False,
                                              "received": round(time_now() - 0.5, 3), "latitude": 52.2,
                                              "longitude": 21.0, "ping": 1})
    colleague = TechnicianFactory()
    other_process.put(colleague.pk, {"technician": colleague.pk, "private": False, "received": round(time_now(), 3),
                                     "latitude": 52.21, "longitude": 21.01, "ping": 2})

    def private_then_the_other_process_sends():
        with django_capture_on_commit_callbacks(execute=True):
            technician_private_mode_set(technician=technician_mokotow, private=True)
        other_process.flush()

    received = events_to_group(g.dispatch_group(), private_then_the_other_process_sends)
    assert [[(p["technician"], p["private"]) for p in e["data"]["locations"]] for e in received] == [
        [(technician_mokotow.pk, True)], [(colleague.pk, False)]]


def test_retention_keeps_recent_points_and_thins_old_ones_to_one_per_interval(settings):
    from mapping import conf

    tech = TechnicianFactory()
    now = timezone.now().replace(second=0, microsecond=0)
    old_base = now - timedelta(days=conf.GPS_RETENTION_DAYS + 2)
    old_base = old_base.replace(minute=0)
    # 20 points a minute apart -> 4 five-minute intervals
    for i in range(20):
        LocationPingFactory(technician=tech, device_time=old_base + timedelta(minutes=i), seq=i + 1)
    for i in range(10):
        LocationPingFactory(technician=tech, device_time=now - timedelta(hours=1, minutes=i), seq=100 + i)
    LocationPingFactory(technician=tech, device_time=now - timedelta(days=conf.GPS_PURGE_DAYS + 1), seq=999)
    result = gps_retention_apply(now=now)
    assert result == {"deleted": 16, "reduced": 4, "purged": 1}
    kept_old = list(LocationPing.objects.filter(device_time__lt=now - timedelta(days=1)).order_by("device_time"))
    assert [p.seq for p in kept_old] == [1, 6, 11, 16] and all(p.reduced for p in kept_old)
    assert LocationPing.objects.filter(reduced=False).count() == 10
    # Running it again changes nothing.
    assert gps_retention_apply(now=now) == {"deleted": 0, "reduced": 0, "purged": 0}


def test_an_en_route_jobs_eta_follows_the_technicians_live_position(technician_mokotow):
    from hvaccrm.services import job_assign, job_transition
    from hvaccrm.tests.factories import ServiceJobFactory

    job = ServiceJobFactory()  # at 52.1930, 21.0250
    job_assign(job=job, technician=technician_mokotow)
    job_transition(job=job, to_status="en_route")
    before = timezone.now()
    ping(technician_mokotow, seq=1, latitude=52.2318, longitude=21.0060, device_time=before - timedelta(seconds=2))
    job.refresh_from_db()
    # about 4.5 km away as the crow flies: some minutes, certainly not hours
    assert before + timedelta(minutes=3) < job.eta < before + timedelta(minutes=40)
    first_eta = job.eta
    ping(technician_mokotow, seq=2, latitude=52.2316, longitude=21.0062, device_time=before)
    job.refresh_from_db()
    assert job.eta == first_eta  # recomputed at most once a minute
