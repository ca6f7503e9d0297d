"""Actions from the phone are applied exactly once, in the order they were made, each answered;
one that no longer fits the job is refused with a reason the technician understands, and nothing
of a refused action is left behind."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from communications.models import AlertResponse, Message
from hvaccrm.models import RefrigerantRecord
from hvaccrm.services import job_transition
from hvaccrm.tests.factories import TechnicianFactory
from mapping.models import LocationPing
from techapp.models import DeviceAction
from techapp.services import device_action_apply, device_actions_replay
from techapp.tests.helpers import action, emergency_alert, job_for

pytestmark = pytest.mark.django_db


def _apply(tech, a):
    return device_action_apply(technician=tech, action_id=a["id"], kind=a["kind"], payload=a["payload"],
                               device_time=a["device_time"])


def test_the_same_action_twice_is_applied_once_and_answered_the_same(technician_mokotow):
    job = job_for(technician_mokotow)
    msg = action("message", job=job.pk, body="Będę za 10 minut")
    first, again = _apply(technician_mokotow, msg), _apply(technician_mokotow, msg)
    assert first["ok"] and not first["replayed"]
    assert again["replayed"] and again["message"] == first["message"]
    assert Message.objects.filter(body="Będę za 10 minut").count() == 1
    assert DeviceAction.objects.get(pk=msg["id"]).payload["body"] == len("Będę za 10 minut")  # no text kept


def test_a_first_message_on_a_job_without_a_conversation_opens_the_jobs_conversation(technician_mokotow):
    job = job_for(technician_mokotow, conversation=False)
    first = _apply(technician_mokotow, action("message", job=job.pk, body="Jestem pod blokiem"))
    second = _apply(technician_mokotow, action("message", job=job.pk, body="Proszę otworzyć bramę"))
    assert first["ok"] and second["ok"] and first["conversation"] == second["conversation"]
    conversation = Message.objects.get(pk=first["message"]).conversation
    assert conversation.job_id == job.pk and conversation.client_id == job.client_id
    assert conversation.messages.count() == 2


def test_a_queue_is_applied_in_the_order_it_was_made_even_when_sent_shuffled(technician_mokotow):
    job = job_for(technician_mokotow)
    steps = [action("step", order=1, job=job.pk, to_status="en_route"),
             action("step", order=2, job=job.pk, to_status="on_site"),
             action("complete", order=3, job=job.pk, work_done="Wymiana filtra", leak_check="no_leak",
                    refrigerant_added_kg="0.3")]
    results = device_actions_replay(technician=technician_mokotow, actions=[steps[2], steps[0], steps[1]])
    assert [r["ok"] for r in results] == [True, True, True]
    job.refresh_from_db()
    assert job.status == "completed"


def test_a_step_out_of_order_is_refused_clearly_and_changes_nothing(technician_mokotow):
    job = job_for(technician_mokotow)
    result = _apply(technician_mokotow, action("complete", job=job.pk, work_done="x"))
    assert not result["ok"] and result["code"] == "not_on_site" and f"#{job.pk}" in result["message"]
    job.refresh_from_db()
    assert job.status == "scheduled"


def test_a_stale_step_after_the_office_cancelled_the_job_is_refused_with_the_reason(technician_mokotow):
    job = job_for(technician_mokotow)
    job_transition(job=job, to_status="cancelled", reason="client called")
    with translation.override("en"):  # an earlier test's language must not decide the wording
        result = _apply(technician_mokotow, action("step", job=job.pk, to_status="en_route"))
    assert result["code"] == "job_cancelled" and "cancelled" in result["message"]


@pytest.mark.parametrize("amount", ["-0.5", "abc", "250", "NaN"])
def test_negative_or_absurd_refrigerant_amounts_are_refused_and_nothing_is_half_applied(technician_mokotow, amount):
    job = job_for(technician_mokotow, status="on_site")
    result = _apply(technician_mokotow, action("complete", job=job.pk, work_done="Naprawa", leak_check="no_leak",
                                               refrigerant_added_kg=amount))
    assert not result["ok"] and "refrigerant_added_kg" in result["fields"]
    job.refresh_from_db()
    assert job.status == "on_site" and not RefrigerantRecord.objects.filter(job=job).exists()


def test_a_device_clock_minutes_off_is_recorded_but_the_server_time_stamps_the_work(technician_mokotow):
    job = job_for(technician_mokotow)
    a = action("step", job=job.pk, to_status="en_route")
    a["device_time"] = (timezone.now() + timedelta(minutes=17)).isoformat()
    assert _apply(technician_mokotow, a)["ok"]
    row = DeviceAction.objects.get(pk=a["id"])
    assert row.device_time > row.applied_at + timedelta(minutes=15)
    job.refresh_from_db()
    assert job.status_changed_at <= timezone.now()


def test_another_technicians_job_is_refused_as_not_yours(technician_mokotow):
    other = TechnicianFactory()
    job = job_for(other)
    result = _apply(technician_mokotow, action("step", job=job.pk, to_status="en_route"))
    assert result["code"] == "not_yours"


def test_another_phones_action_id_is_not_answered_with_its_result(technician_mokotow):
    other = TechnicianFactory()
    job = job_for(other)
    a = action("message", job=job.pk, body="tajne")
    assert _apply(other, a)["ok"]
    stolen = _apply(technician_mokotow, a)
    assert stolen["code"] == "invalid_id" and "message" not in stolen or stolen["message"] != "tajne"


def test_bad_ids_and_kinds_get_an_answer_each(technician_mokotow):
    results = device_actions_replay(technician=technician_mokotow, actions=[
        {"id": "not-a-uuid", "kind": "step", "payload": {}},
        {"id": str(uuid.uuid4()), "kind": "explode", "payload": {}},
    ])
    assert [r["code"] for r in results] == ["invalid_id", "unknown_kind"]


def test_accept_takes_the_emergency_and_a_second_technician_is_told_already_taken(client_anna):
    first, second = TechnicianFactory(), TechnicianFactory()
    alert = emergency_alert(client_anna)
    won = _apply(first, action("accept", alert=alert.pk))
    lost = _apply(second, action("accept", alert=alert.pk))
    assert won["ok"] and won["job"]
    assert not lost["ok"] and lost["code"] == "already_taken"


def test_decline_needs_a_reason(client_anna):
    tech = TechnicianFactory()
    alert = emergency_alert(client_anna)
    refused = _apply(tech, action("decline", alert=alert.pk, reason=" "))
    assert refused["code"] == "reason_required"
    assert _apply(tech, action("decline", alert=alert.pk, reason="Jestem na dachu w Ursusie"))["ok"]
    assert AlertResponse.objects.get(alert=alert, user=tech.user).state == "declined"


def test_an_offline_position_is_history_only_and_dropped_outside_the_shift(technician_mokotow):
    at = timezone.now() - timedelta(minutes=30)
    result = _apply(technician_mokotow, action("position", latitude=52.2, longitude=21.0, accuracy=10,
                                               device_time=at.isoformat(), seq=7))
    assert result["ok"] and result["status"] == "stored", result
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.last_position_at is None  # never the current position
    assert LocationPing.objects.filter(technician=technician_mokotow, seq=7).exists()
    night = TechnicianFactory(shift_start=timezone.localtime().time().replace(hour=6, minute=0),
                              shift_end=timezone.localtime().time().replace(hour=7, minute=0))
    at = timezone.localtime().replace(hour=12, minute=0)
    if at > timezone.now():
        at -= timedelta(days=1)
    dropped = _apply(night, action("position", latitude=52.2, longitude=21.0, accuracy=10,
                                   device_time=at.isoformat(), seq=8))
    assert dropped["status"] == "off_shift" and not LocationPing.objects.filter(technician=night).exists()
