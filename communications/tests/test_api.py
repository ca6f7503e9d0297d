"""The API: authentication, object permissions (someone else's id is 404), pagination, filters, since."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from communications import services
from communications.models import Delivery, Notification
from communications.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


@pytest.fixture
def anna_conv(client_anna):
    return ConversationFactory(client=client_anna)


@pytest.fixture
def anna_message(anna_conv, anna_user):
    return services.message_send(author=anna_user, conversation_id=anna_conv.pk, body="Przegląd proszę")


@pytest.fixture
def anna_notification(anna_user):
    return services.notify(
        user_ids=[anna_user.pk], spec=services.NotificationSpec(kind="t", title="Wizyta", body="jutro")
    )[0]


URLS = [
    ("get", "/api/communications/conversations/{conv}/"),
    ("get", "/api/communications/messages/{msg}/"),
    ("post", "/api/communications/messages/{msg}/read/"),
    ("get", "/api/communications/notifications/{n}/"),
    ("post", "/api/communications/notifications/{n}/ack/"),
    ("post", "/api/communications/notifications/{n}/read/"),
]


@pytest.mark.parametrize("method,url", URLS)
def test_every_endpoint_answers_404_for_another_clients_object(method, url, bartek_user, anna_conv, anna_message,
                                                               anna_notification):
    path = url.format(conv=anna_conv.pk, msg=anna_message.pk, n=anna_notification)
    assert getattr(api(bartek_user), method)(path).status_code == 404


@pytest.mark.parametrize("method,url", URLS + [("get", "/api/communications/conversations/"),
                                               ("get", "/api/communications/messages/"),
                                               ("get", "/api/communications/notifications/"),
                                               ("get", "/api/communications/deliveries/"),
                                               ("post", "/api/communications/classify/"),
                                               ("get", "/api/communications/preferences/"),
                                               ("put", "/api/communications/preferences/")])
def test_every_endpoint_refuses_anonymous_users(method, url, anna_conv, anna_message, anna_notification):
    path = url.format(conv=anna_conv.pk, msg=anna_message.pk, n=anna_notification)
    assert getattr(api(), method)(path).status_code in (401, 403)


def test_a_client_lists_only_their_own_conversations_and_messages(anna_user, bartek_user, anna_message, client_bartek):
    ConversationFactory(client=client_bartek)
    body = api(anna_user).get("/api/communications/conversations/").json()
    assert [c["id"] for c in body["results"]] == [anna_message.conversation_id]
    assert api(bartek_user).get("/api/communications/messages/").json()["count"] == 0


def test_sending_a_message_to_another_clients_conversation_is_404(bartek_user, anna_conv):
    r = api(bartek_user).post("/api/communications/messages/", {"conversation": anna_conv.pk, "body": "x"}, format="json")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_client_opens_a_conversation_with_a_first_message(anna_user, client_anna):
    r = api(anna_user).post("/api/communications/conversations/", {"subject": "Klima", "body": "Nie chłodzi"}, format="json")
    assert r.status_code == 201 and r.json()["client"] == client_anna.pk


def test_a_bad_message_gets_the_one_error_shape(anna_user, anna_conv):
    r = api(anna_user).post("/api/communications/messages/", {"conversation": anna_conv.pk}, format="json")
    assert r.status_code == 400 and "body" in r.json()["error"]["fields"]


def test_since_returns_only_newer_messages_oldest_first(anna_user, anna_conv):
    ids = [MessageFactory(conversation=anna_conv).pk for _ in range(4)]
    r = api(anna_user).get(f"/api/communications/messages/?since={ids[1]}")
    assert [m["id"] for m in r.json()["results"]] == ids[2:]
    assert api(anna_user).get("/api/communications/messages/?since=abc").status_code == 400


def test_messages_are_paginated_and_filtered(anna_user, anna_conv, dispatcher, django_assert_max_num_queries):
    for _ in range(5):
        MessageFactory(conversation=anna_conv)
    MessageFactory(conversation=anna_conv, urgency="emergency")
    with django_assert_max_num_queries(8):
        r = api(dispatcher).get("/api/communications/messages/?page_size=2")
    assert r.json()["count"] == 6 and len(r.json()["results"]) == 2
    assert api(anna_user).get("/api/communications/messages/?urgency=emergency").json()["count"] == 1


def test_notifications_ack_and_read_move_the_in_app_delivery(anna_user, anna_notification):
    c = api(anna_user)
    assert c.post(f"/api/communications/notifications/{anna_notification}/ack/").status_code == 200
    assert Delivery.objects.get(notification_id=anna_notification, channel="in_app").state == "delivered"
    c.post(f"/api/communications/notifications/{anna_notification}/read/")
    assert Delivery.objects.get(notification_id=anna_notification, channel="in_app").state == "read"
    assert c.get("/api/communications/notifications/?unread=true").json()["count"] == 0


def test_only_the_office_sees_deliveries_filtered_by_state_and_channel(anna_user, dispatcher, anna_notification):
    assert api(anna_user).get("/api/communications/deliveries/").status_code == 403
    body = api(dispatcher).get("/api/communications/deliveries/?state=pending&channel=email").json()
    assert body["count"] == Delivery.objects.filter(state="pending", channel="email").count() == 1


def test_the_office_retries_a_dead_delivery(dispatcher, anna_notification):
    d = Delivery.objects.get(notification_id=anna_notification, channel="email")
    Delivery.objects.filter(pk=d.pk).update(state="dead", attempts=8, last_error="gateway down")
    r = api(dispatcher).post(f"/api/communications/deliveries/{d.pk}/retry/")
    assert r.status_code == 200 and r.json()["state"] == "pending"
    r = api(dispatcher).post(f"/api/communications/deliveries/{Delivery.objects.get(notification_id=anna_notification, channel='in_app').pk}/retry/")
    assert r.status_code == 400


def test_classify_answers_the_issues_json(anna_user):
    r = api(anna_user).post("/api/communications/classify/", {"text": "Czuć gaz"}, format="json")
    assert r.json()["urgency"] == "emergency" and set(r.json()) == {
        "urgency", "service_types", "equipment", "language", "reasons", "confidence"}


def test_notifications_are_the_users_own(anna_user, bartek_user, anna_notification):
    assert api(bartek_user).get("/api/communications/notifications/").json()["count"] == 0
    assert Notification.objects.count() == 1


def test_the_schema_is_valid(dispatcher):
    r = api(dispatcher).get("/api/schema/")
    assert r.status_code == 200


def test_a_user_sets_their_own_channels_and_quiet_hours(anna_user):
    c = api(anna_user)
    assert c.get("/api/communications/preferences/").json()["channels"] == []
    r = c.put("/api/communications/preferences/", {"channels": ["in_app", "sms"], "quiet_start": "22:00",
                                                   "quiet_end": "07:00", "phone": "+48600100200"}, format="json")
    assert r.status_code == 200 and r.json()["quiet_start"] == "22:00:00"
    assert c.put("/api/communications/preferences/", {"channels": ["fax"]}, format="json").status_code == 400
    r = c.put("/api/communications/preferences/", {"quiet_start": "22:00"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
