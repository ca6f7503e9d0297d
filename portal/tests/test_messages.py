"""Messages with the office and notifications, through communications' services and selectors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications import services as comms
from communications.models import Conversation, Message, Notification
from portal import selectors

pytestmark = pytest.mark.django_db


def test_a_clients_first_message_opens_a_conversation_and_reaches_the_office(anna_http, client_anna, dispatcher):
    response = anna_http.post(reverse("portal:messages"), {"body": "Dzień dobry, kiedy przyjedzie technik?"})
    conversation = Conversation.objects.get(client=client_anna)
    assert response.status_code == 302 and response.url.endswith(f"?conversation={conversation.pk}")
    message = Message.objects.get(conversation=conversation)
    assert message.author_role == "client" and message.author == client_anna.users.get()
    comms.message_send(author=dispatcher, conversation_id=conversation.pk, body="Jutro między 8 a 12.")
    page = anna_http.get(reverse("portal:messages"))
    assert [m.body for m in page.context["thread"]] == ["Dzień dobry, kiedy przyjedzie technik?", "Jutro między 8 a 12."]
    anna_http.post(reverse("portal:messages"), {"body": "Dziękuję", "conversation": conversation.pk})
    assert Message.objects.filter(conversation=conversation).count() == 3


def test_a_client_cannot_read_or_write_to_another_clients_conversation(anna_http, bartek_user, client_bartek):
    theirs = comms.conversation_start(author=bartek_user, client_id=client_bartek.pk)
    comms.message_send(author=bartek_user, conversation_id=theirs.pk, body="Bartek's private question")
    assert anna_http.get(reverse("portal:messages") + f"?conversation={theirs.pk}").status_code == 404
    assert anna_http.post(reverse("portal:messages"), {"body": "intrusion", "conversation": theirs.pk}).status_code == 404
    assert not Message.objects.filter(body="intrusion").exists()
    page = anna_http.get(reverse("portal:messages"))
    assert "Bartek's private question" not in page.content.decode()
    assert anna_http.get(reverse("portal:messages") + "?conversation=abc").status_code == 404


def test_notifications_show_an_unread_badge_and_can_be_marked_read(anna_http, anna_user, bartek_user):
    comms.notify(
        user_ids=[anna_user.pk],
        spec=comms.NotificationSpec(kind="job.confirmed", title="Wizyta potwierdzona", body="Jutro 8-12"),
    )
    comms.notify(
        user_ids=[anna_user.pk], spec=comms.NotificationSpec(kind="job.reminder", title="Przypomnienie", body="Jutro")
    )
    comms.notify(
        user_ids=[bartek_user.pk], spec=comms.NotificationSpec(kind="job.reminder", title="Bartek only", body="x")
    )
    page = anna_http.get(reverse("portal:home"))
    assert page.context["unread_count"] == 2 and 'id="unread-badge"' in page.content.decode()
    listing = anna_http.get(reverse("portal:notifications"))
    assert [n.title for n in listing.context["items"]] == ["Przypomnienie", "Wizyta potwierdzona"]
    anna_http.post(reverse("portal:notifications_read"))
    assert anna_http.get(reverse("portal:home")).context["unread_count"] == 0
    assert Notification.objects.get(title="Bartek only").read_at is None


def test_the_export_includes_the_clients_messages_and_the_erasure_removes_them(anna_http, anna_user, client_anna, administrator):
    anna_http.post(reverse("portal:messages"), {"body": "Mój numer drzwi to 14B, kod 4431"})
    data = anna_http.get(reverse("portal:export_json")).json()
    bodies = [m["body"] for c in data["communications"]["conversations"] for m in c["messages"]]
    assert "Mój numer drzwi to 14B, kod 4431" in bodies
    from portal import services

    services.client_erase(client_id=client_anna.pk, actor=administrator)
    assert not Message.objects.filter(body__contains="4431").exists()
    assert selectors.client_ids_for_user(user=type(anna_user).objects.get(pk=anna_user.pk)) == []
