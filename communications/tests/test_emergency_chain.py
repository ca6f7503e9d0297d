"""The escalation chain of an emergency: accept takes the job (first one wins), decline needs a
reason and the last decline of a step starts the next one at once; bad answers change nothing;
the alert is dispatched once however often its row runs; the row goes to the emergency queue."""

from __future__ import annotations

import threading

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from communications import services
from communications.models import AlertResponse, EmergencyAlert, Notification
from communications.tests.factories import ConversationFactory
from hvaccrm.errors import ServiceError
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services.outbox import handler_for, outbox_process, record
from hvaccrm.tests.factories import TechnicianFactory, district

pytestmark = pytest.mark.django_db

GAS = "Czuć gaz w kuchni przy kotle!"


def _tech(slug: str = "mokotow", **kw):
    return TechnicianFactory(home_district=district(slug), **kw)


def _neighbour_slug() -> str:
    return district("mokotow").neighbours.order_by("slug").first().slug


def _emergency_message(client_anna):
    conversation = ConversationFactory(client=client_anna)
    return services.message_send(author=client_anna.users.get(), conversation_id=conversation.pk, body=GAS)


def _alert_of(message) -> EmergencyAlert:
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    outbox_process(log_id=row.pk)
    return EmergencyAlert.objects.get(message=message)


def test_the_first_accept_assigns_a_new_job_puts_it_en_route_and_tells_the_client_the_eta(client_anna):
    near = _tech(last_latitude=52.1935, last_longitude=21.0260)
    other = _tech()
    alert = _alert_of(_emergency_message(client_anna))
    assert alert.job is None
    services.alert_accept(alert_id=alert.pk, user=near.user)
    alert.refresh_from_db()
    job = ServiceJob.objects.get(pk=alert.job_id)
    assert alert.state == "accepted" and alert.accepted_by == near.user
    assert job.technician == near and job.status == "en_route" and job.eta is not None
    assert job.urgency == "emergency" and job.conversations.filter(pk=alert.message.conversation_id).exists()
    states = dict(AlertResponse.objects.filter(alert=alert).values_list("user_id", "state"))
    assert states == {near.user_id: "accepted", other.user_id: "taken"}
    for row in IntegrationLog.objects.filter(target="notifications", kind="job.updated", object_id=str(job.pk)):
        outbox_process(log_id=row.pk)  # what the worker does after the commit
    told = Notification.objects.get(recipient=client_anna.users.get(), kind="job.en_route")
    assert told.payload["eta"] == job.eta.isoformat()
    chain = services.alert_chain(alert)
    assert chain["accepted_by"] and chain["seconds_to_accept"] is not None


def test_a_second_accept_is_refused_as_already_taken_and_changes_nothing(client_anna):
    first, second = _tech(), _tech()
    alert = _alert_of(_emergency_message(client_anna))
    services.alert_accept(alert_id=alert.pk, user=first.user)
    with pytest.raises(ServiceError) as err:
        services.alert_accept(alert_id=alert.pk, user=second.user)
    assert err.value.code == "already_taken" and err.value.status_code == 409
    alert.refresh_from_db()
    assert alert.accepted_by == first.user
    assert AlertResponse.objects.get(alert=alert, user=second.user).state == "taken"


def test_a_technician_who_was_not_alerted_cannot_accept_another_districts_alert(client_anna):
    _tech()
    stranger = _tech("bialoleka")
    alert = _alert_of(_emergency_message(client_anna))
    with pytest.raises(ServiceError) as err:
        services.alert_accept(alert_id=alert.pk, user=stranger.user)
    assert err.value.code == "not_alerted"
    assert EmergencyAlert.objects.get(pk=alert.pk).state == "open"
    assert not AlertResponse.objects.filter(user=stranger.user).exists()


def test_a_decline_needs_a_reason_and_without_one_nothing_changes(client_anna):
    tech = _tech()
    alert = _alert_of(_emergency_message(client_anna))
    for reason in ("", "   "):
        with pytest.raises(ServiceError) as err:
            services.alert_decline(alert_id=alert.pk, user=tech.user, reason=reason)
        assert "reason" in err.value.fields
    assert AlertResponse.objects.get(alert=alert).state == "alerted"


def test_when_all_of_a_step_decline_the_next_step_starts_without_waiting(client_anna, dispatcher):
    a, b = _tech(), _tech()
    neighbour = _tech(_neighbour_slug())
    alert = _alert_of(_emergency_message(client_anna))
    services.alert_decline(alert_id=alert.pk, user=a.user, reason="Jestem na innym zleceniu")
    assert EmergencyAlert.objects.get(pk=alert.pk).step == 0  # b still may accept
    services.alert_decline(alert_id=alert.pk, user=b.user, reason="Brak części")
    alert.refresh_from_db()
    assert alert.step == 1 and alert.state == "escalated"
    assert AlertResponse.objects.get(alert=alert, user=neighbour.user).step == 1
    services.alert_decline(alert_id=alert.pk, user=neighbour.user, reason="Za daleko")
    alert.refresh_from_db()
    assert alert.step == 2 and AlertResponse.objects.filter(alert=alert, user=dispatcher).exists()
    chain = services.alert_chain(alert)
    assert [s["kind"] for s in chain["steps"]] == ["district", "neighbours", "dispatchers"]
    assert chain["steps"][0]["responses"][0]["reason"] in ("Jestem na innym zleceniu", "Brak części")


def test_the_api_accepts_and_answers_400_with_the_field_for_a_decline_without_a_reason(client_anna):
    tech, other = _tech(), _tech()
    alert = _alert_of(_emergency_message(client_anna))
    api = APIClient()
    api.force_authenticate(other.user)
    response = api.post(reverse("communications-api:alert-decline", args=[alert.pk]), {}, format="json")
    assert response.status_code == 400 and "reason" in str(response.json())
    api.force_authenticate(tech.user)
    response = api.post(reverse("communications-api:alert-accept", args=[alert.pk]))
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    api.force_authenticate(other.user)
    response = api.post(reverse("communications-api:alert-accept", args=[alert.pk]))
    assert response.status_code == 409


def test_a_worker_killed_mid_dispatch_alerts_once_after_the_sweep(client_anna):
    """The row was recorded and its publish lost (or its worker died before the row's state was
    saved): the sweep runs it, and running it again, or its handler twice, alerts nobody twice."""
    tech = _tech()
    message = _emergency_message(client_anna)
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    handler = handler_for("notifications", "emergency.alert")  # looked up, not imported (import-linter)
    handler(row)  # the dead worker's run: its writes committed, the row still pending
    for _ in range(2):
        outbox_process(log_id=row.pk)
    handler(row)
    assert EmergencyAlert.objects.filter(message=message).count() == 1
    assert Notification.objects.filter(recipient=tech.user, kind="emergency.alert").count() == 1
    assert AlertResponse.objects.filter(user=tech.user).count() == 1


def test_a_run_that_died_after_the_alert_was_pushed_finishes_the_chain_once_when_retried(client_anna, monkeypatch):
    """The first half (alert, responses, in-app notifications) committed and the frames went out,
    then the worker died: the retry writes the wake-up SMS, the routing log and the managers' part
    once, and a third run adds nothing."""
    from communications import conf
    from communications.models import AlertDecision, Delivery
    from communications.services import emergencies

    monkeypatch.setattr(conf, "SMS_GATEWAY_URL", "http://127.0.0.1:9/sms")
    tech = _tech(on_shift=True, phone="+48 601 200 400")
    message = _emergency_message(client_anna)
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    complete = emergencies._alert_complete

    def died(*args, **kwargs):
        raise RuntimeError("worker killed between the halves")

    monkeypatch.setattr(emergencies, "_alert_complete", died)
    with pytest.raises(RuntimeError):
        handler_for("notifications", "emergency.alert")(row)
    alert = EmergencyAlert.objects.get(message=message)
    note = Notification.objects.get(recipient=tech.user, related_id=str(alert.pk))
    assert list(Delivery.objects.filter(notification=note).values_list("channel", flat=True)) == ["in_app"]
    assert not AlertDecision.objects.filter(alert=alert).exists()

    monkeypatch.setattr(emergencies, "_alert_complete", complete)
    for _ in range(2):
        outbox_process(log_id=row.pk)
        handler_for("notifications", "emergency.alert")(row)
    channels = sorted(Delivery.objects.filter(notification=note).values_list("channel", flat=True))
    assert "sms" in channels and len(channels) == len(set(channels))  # each channel once
    assert AlertDecision.objects.filter(alert=alert, step="managers").count() == 1
    assert AlertDecision.objects.filter(alert=alert, step="routed", user=tech.user).count() == 1
    assert IntegrationLog.objects.filter(kind=services.DELIVERY_KIND,
                                         object_id__in=[str(d) for d in note.deliveries.values_list("pk", flat=True)]
                                         ).count() == len(channels) - 1  # one row per external delivery
    assert Notification.objects.filter(recipient=tech.user, kind="emergency.alert").count() == 1


def test_the_task_of_an_emergency_row_goes_to_the_emergency_queue(settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue, default = settings.CELERY_EMERGENCY_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE
    broker.delete(queue, default)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record(source="communications", target="notifications", kind="emergency.alert", object_type="x",
               object_id=1, payload={"message": None, "job": None, "district": "mokotow", "text": GAS,
                                     "urgency": "emergency", "service_types": []})
        record(source="core", target="map", kind="job.created", object_type="x", object_id=1, payload={"job": 1})
    try:
        assert broker.llen(queue) == 1 and broker.llen(default) == 1
    finally:
        broker.delete(queue, default)


@pytest.mark.django_db(transaction=True)
def test_two_technicians_accepting_at_the_same_moment_one_wins(client_anna):
    first, second = _tech(), _tech()
    alert = _alert_of(_emergency_message(client_anna))
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def accept(tech) -> None:
        try:
            barrier.wait()
            services.alert_accept(alert_id=alert.pk, user=tech.user)
            outcome[tech.pk] = "won"
        except ServiceError as exc:
            outcome[tech.pk] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(t,)) for t in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["already_taken", "won"]
    winner = next(pk for pk, v in outcome.items() if v == "won")
    alert.refresh_from_db()
    assert alert.accepted_by.technician.pk == winner
    assert AlertResponse.objects.filter(alert=alert, state="accepted").count() == 1
    assert ServiceJob.objects.get(pk=alert.job_id).technician_id == winner
    assert settings.CELERY_EMERGENCY_QUEUE


def test_the_office_inbox_shows_each_emergencys_chain(client, dispatcher, client_anna):
    a, b = _tech(), _tech()
    alert = _alert_of(_emergency_message(client_anna))
    services.alert_decline(alert_id=alert.pk, user=a.user, reason="Brak części w aucie")
    services.alert_accept(alert_id=alert.pk, user=b.user)
    client.force_login(dispatcher)
    page = client.get(reverse("communications:inbox")).content.decode()
    chain = page[page.index('id="comms-chains"'):page.index('class="comms-search"')]
    assert f'data-alert="{alert.pk}"' in chain and "Brak części w aucie" in chain
    assert "comms-declined" in chain and "comms-accepted" in chain
