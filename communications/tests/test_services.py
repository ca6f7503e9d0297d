"""Messages, their outbox rows (the cross-app contracts), job notifications and the client's data."""

from __future__ import annotations

import pytest
from django.utils import timezone

from communications import selectors, services
from communications.models import Message, Notification
from communications.tests.factories import ConversationFactory
from hvaccrm.errors import ServiceError
from hvaccrm.models import IntegrationLog
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def _rows(message) -> dict[tuple[str, str], dict]:
    return {(r.target, r.kind): r.payload for r in IntegrationLog.objects.filter(object_id=str(message.pk),
                                                                                  object_type="communications.message")}


def test_a_normal_message_records_only_the_prophecy_row_when_it_has_no_district(anna_user, client_anna):
    client_anna.sites.update(district=None)
    conv = ConversationFactory(client=client_anna)
    message = services.message_send(author=anna_user, conversation_id=conv.pk, body="Proszę o fakturę")
    rows = _rows(message)
    assert set(rows) == {("prophecy", "message.created")}
    payload = rows[("prophecy", "message.created")]
    assert set(payload) == {"message", "conversation", "client", "text", "language", "district", "service_type",
                            "urgency", "created"}
    assert payload["client"] == client_anna.pk and payload["urgency"] == "normal"


def test_an_emergency_message_records_the_map_and_emergency_rows_of_the_contract(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    message = services.message_send(author=anna_user, conversation_id=conv.pk,
                                     body="Awaria klimatyzacji w biurze na Mokotowie, leje się woda z jednostki",
                                     latitude=52.19, longitude=21.02)
    rows = _rows(message)
    assert set(rows) == {("prophecy", "message.created"), ("map", "message.created"), ("notifications", "emergency.alert")}
    assert rows[("map", "message.created")] == {"message": message.pk, "job": None, "latitude": 52.19,
                                                 "longitude": 21.02, "district": message.district.slug,
                                                 "urgency": "emergency"}
    alert = rows[("notifications", "emergency.alert")]
    assert alert["district"] == "mokotow" and alert["service_types"] == ["repair"] and alert["text"] == message.body


def test_a_gas_emergency_gets_an_automatic_reply_with_the_safety_instruction(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    services.message_send(author=anna_user, conversation_id=conv.pk, body="I can smell gas in the kitchen")
    reply = Message.objects.filter(conversation=conv, author_role="system").get()
    assert "112" in reply.body and "992" in reply.body and reply.language == "en"


def test_office_replies_are_not_triaged(dispatcher, client_anna):
    conv = ConversationFactory(client=client_anna)
    message = services.message_send(author=dispatcher, conversation_id=conv.pk, body="Czy nadal czuć gaz?")
    assert message.urgency == "normal" and message.author_role == "staff"
    assert ("notifications", "emergency.alert") not in _rows(message)


def test_a_client_cannot_write_to_another_clients_conversation(bartek_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    with pytest.raises(ServiceError) as err:
        services.message_send(author=bartek_user, conversation_id=conv.pk, body="hej")
    assert err.value.status_code == 404


def test_an_empty_message_is_refused(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    with pytest.raises(ServiceError) as err:
        services.message_send(author=anna_user, conversation_id=conv.pk, body="   ")
    assert "body" in err.value.fields


def test_the_assigned_technician_may_write_in_the_jobs_conversation(client_anna):
    tech = TechnicianFactory()
    job = ServiceJobFactory(site=client_anna.sites.get(), technician=tech, status="scheduled")
    conv = ConversationFactory(client=client_anna, job=job)
    message = services.message_send(author=tech.user, conversation_id=conv.pk, body="Będę za 10 minut")
    assert message.author_role == "technician"


def test_the_assigned_technician_may_open_their_jobs_conversation_and_no_other(client_anna):
    tech, other = TechnicianFactory(), TechnicianFactory()
    job = ServiceJobFactory(site=client_anna.sites.get(), technician=tech)
    conversation = services.conversation_start(author=tech.user, client_id=client_anna.pk, job_id=job.pk)
    assert conversation.job_id == job.pk and conversation.client_id == client_anna.pk
    message = services.message_send(author=tech.user, conversation_id=conversation.pk, body="Będę o 10")
    assert message.author_role == Message.AuthorRole.TECHNICIAN
    for author, job_id in ((other.user, job.pk), (tech.user, None),
                           (tech.user, ServiceJobFactory(site=client_anna.sites.get(), technician=other).pk)):
        with pytest.raises(ServiceError):
            services.conversation_start(author=author, client_id=client_anna.pk, job_id=job_id)


def test_unread_counts_count_client_messages_the_office_has_not_read(anna_user, dispatcher, client_anna):
    conv = ConversationFactory(client=client_anna)
    first = services.message_send(author=anna_user, conversation_id=conv.pk, body="Pierwsza")
    services.message_send(author=anna_user, conversation_id=conv.pk, body="Druga")
    services.message_send(author=dispatcher, conversation_id=conv.pk, body="Odpowiedź")
    assert selectors.conversation_list_with_unread().get(pk=conv.pk).unread == 2
    services.message_read(user=dispatcher, message_id=first.pk)
    assert selectors.conversation_list_with_unread().get(pk=conv.pk).unread == 1


@pytest.mark.parametrize("language,title", [("pl", "Technik jest w drodze"), ("en", "The technician is on the way")])
def test_the_client_is_told_the_technician_is_on_the_way_with_the_eta_in_their_language(client_anna, language, title):
    client_anna.preferred_language = language
    client_anna.save(update_fields=["preferred_language"])
    tech = TechnicianFactory()
    job = ServiceJobFactory(site=client_anna.sites.get(), technician=tech, status="en_route",
                            eta=timezone.now() + timezone.timedelta(minutes=25))
    ids = services.job_update_notify(job_id=job.pk, change="status", previous_status="scheduled", dedupe_key="log:1")
    n = Notification.objects.get(pk=ids[0])
    assert n.title == title and n.payload["eta"] and n.kind == "job.en_route"
    assert services.job_update_notify(job_id=job.pk, change="status", previous_status="scheduled",
                                      dedupe_key="log:1") == ids


def test_a_completed_job_notification_carries_the_feedback_link(client_anna):
    tech = TechnicianFactory()
    job = ServiceJobFactory(site=client_anna.sites.get(), technician=tech, status="completed")
    [nid] = services.job_update_notify(job_id=job.pk, change="status", previous_status="on_site", dedupe_key="k")
    assert f"/portal/visits/{job.pk}/feedback/" in Notification.objects.get(pk=nid).payload["link"]


def test_a_booking_confirmation_is_sent_when_a_new_job_is_scheduled(client_anna):
    tech = TechnicianFactory()
    job = ServiceJobFactory(site=client_anna.sites.get(), technician=tech, status="scheduled",
                            scheduled_start=timezone.now())
    [nid] = services.job_update_notify(job_id=job.pk, change="status", previous_status="new", dedupe_key="k2")
    assert Notification.objects.get(pk=nid).kind == "job.confirmed"
    assert services.job_update_notify(job_id=job.pk, change="assignment", previous_status=None, dedupe_key="k3") == []


def test_reminders_are_sent_once_for_tomorrows_visits(client_anna):
    tech = TechnicianFactory()
    tomorrow = timezone.localtime() + timezone.timedelta(days=1)
    ServiceJobFactory(site=client_anna.sites.get(), technician=tech, status="scheduled", scheduled_start=tomorrow)
    assert services.reminders_send() == 1
    assert services.reminders_send() == 1  # the same ids again, nothing new
    assert Notification.objects.filter(kind="job.reminder").count() == 1


def test_the_clients_data_is_exported_then_anonymised(anna_user, client_anna):
    conv = ConversationFactory(client=client_anna)
    services.message_send(author=anna_user, conversation_id=conv.pk, body="Mój numer to 600 100 200",
                          latitude=52.19, longitude=21.02)
    services.notify(
        user_ids=[anna_user.pk], spec=services.NotificationSpec(kind="t", title="Wizyta", body="Jutro o 10")
    )
    exported = selectors.client_data_export(client_id=client_anna.pk)
    assert exported["conversations"][0]["messages"][0]["body"] == "Mój numer to 600 100 200"
    assert exported["notifications"][0]["title"] == "Wizyta"
    assert services.client_data_anonymise(client_id=client_anna.pk) > 0
    exported = selectors.client_data_export(client_id=client_anna.pk)
    assert "600 100 200" not in str(exported)
    assert exported["conversations"][0]["messages"][0]["latitude"] is None
    assert services.client_data_anonymise(client_id=client_anna.pk) == 0
