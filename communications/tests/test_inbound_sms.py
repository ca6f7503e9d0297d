"""Inbound SMS: Twilio's status callbacks, the sender's number matched through the index, and the
per-message cost of the webhook (queries and Redis round trips), which the 100/s figure depends on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communications import conf
from communications.inbound import sms
from communications.models import ChannelLink, Delivery, Message, Notification
from communications.tests.factories import ConversationFactory
from hvaccrm.models import IntegrationLog
from hvaccrm.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TOKEN = "twilio-token"
SMS_SECRET = "sms-secret"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setattr(conf, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setattr(conf, "INBOUND_SMS_SECRET", SMS_SECRET)
    monkeypatch.setattr(conf, "TELEGRAM_WEBHOOK_SECRET", "tg-secret")


def _twilio_signed(url: str, form: dict[str, str], token: str = TOKEN) -> str:
    """Twilio's documented algorithm, written out here apart from the code under test: the full
    URL, then each POST field's name and value in name order, HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _status_url(reference: str) -> str:
    return ("http://testserver" + reverse("communications:inbound-sms-provider", args=["twilio"]) + "?"
            + urlencode({"reference": reference}))


def _callback(client, url: str, form: dict[str, str], signature: str | None = None):
    return client.post(url, form, HTTP_X_TWILIO_SIGNATURE=signature if signature is not None
                       else _twilio_signed(url, form))


def _sent_delivery(anna_user, title: str = "Wizyta") -> Delivery:
    n = Notification.objects.create(recipient=anna_user, kind="job.updated", title=title)
    return Delivery.objects.create(notification=n, channel="sms", state="sent", address="+48601234567")


def _status_form(status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": "SM123", "AccountSid": "AC1", "From": "+48500000000", "To": "+48601234567",
            "MessageStatus": status, "SmsStatus": status, **extra}


def test_twilio_status_callbacks_move_the_delivery_their_url_names(client, anna_user):
    delivered, undelivered, failed, pending = (_sent_delivery(anna_user, f"Wizyta {i}") for i in range(4))
    assert _callback(client, _status_url(f"delivery-{delivered.pk}"), _status_form("delivered")).status_code == 200
    _callback(client, _status_url(f"delivery-{undelivered.pk}"), _status_form("undelivered", ErrorCode="30003"))
    _callback(client, _status_url(f"delivery-{failed.pk}"), _status_form("failed", ErrorCode="30008"))
    _callback(client, _status_url(f"delivery-{pending.pk}"), _status_form("sent"))  # not an end yet
    for d in (delivered, undelivered, failed, pending):
        d.refresh_from_db()
    assert delivered.state == "delivered" and delivered.delivered_at is not None
    assert undelivered.state == "failed" and "undelivered" in undelivered.last_error and "30003" in undelivered.last_error
    assert failed.state == "failed" and "30008" in failed.last_error
    assert pending.state == "sent"
    # A failed report starts the retry through the outbox, like a failed attempt.
    retries = IntegrationLog.objects.filter(kind="delivery.send", object_id__in=[str(undelivered.pk), str(failed.pk)])
    assert retries.count() == 2


def test_a_forged_twilio_status_callback_answers_403_and_changes_nothing(client, anna_user):
    d = _sent_delivery(anna_user)
    url = _status_url(f"delivery-{d.pk}")
    form = _status_form("failed", ErrorCode="30008")
    forged = [
        _callback(client, url, form, signature="nope"),
        _callback(client, url, form, signature=_twilio_signed(url, form, token="someone-else")),
        # Signed for another delivery's URL, replayed against this one.
        _callback(client, url, form, signature=_twilio_signed(_status_url("delivery-999999"), form)),
        # Signed with the status "delivered", sent with "failed".
        _callback(client, url, form, signature=_twilio_signed(url, {**form, "MessageStatus": "delivered"})),
    ]
    assert [r.status_code for r in forged] == [403, 403, 403, 403]
    d.refresh_from_db()
    assert d.state == "sent" and d.last_error == "" and not IntegrationLog.objects.filter(kind="delivery.send").exists()


def test_twilio_signs_the_public_url_when_one_is_set(client, anna_user, monkeypatch):
    monkeypatch.setattr(conf, "INBOUND_PUBLIC_URL", "https://crm.example.pl/")
    d = _sent_delivery(anna_user)
    path = reverse("communications:inbound-sms-provider", args=["twilio"]) + f"?reference=delivery-{d.pk}"
    form = _status_form("delivered")
    assert _callback(client, path, form, signature=_twilio_signed("http://testserver" + path, form)).status_code == 403
    assert _callback(client, path, form, signature=_twilio_signed("https://crm.example.pl" + path, form)).status_code == 200
    d.refresh_from_db()
    assert d.state == "delivered"


def test_the_office_link_of_a_number_wins_over_another_clients_phone_field():
    typed = ClientFactory(phone="601-234-567")
    assert sms.client_for_phone("+48601234567") == typed.pk
    linked = ClientFactory(phone="")
    ChannelLink.objects.create(channel="sms", address="+48601234567", client=linked)
    assert sms.client_for_phone("+48601234567") == linked.pk
    assert sms.client_for_phone("+48601234568") is None


def test_a_number_matches_the_phone_field_in_any_typed_form_but_not_an_anonymised_client():
    spaced = ClientFactory(phone="+48 (22) 555-12-34")
    assert sms.client_for_phone("+48225551234") == spaced.pk
    spaced.anonymised_at = timezone.now()
    spaced.save(update_fields=["anonymised_at"])
    assert sms.client_for_phone("+48225551234") is None


def test_the_number_match_reads_the_phone_index_not_the_whole_client_table():
    ClientFactory.create_batch(30, phone="+48 500 000 000")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small test table: show the index is usable
        cursor.execute("EXPLAIN " + sms.MATCH_SQL, ["sms", "+48601234567", "601234567"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "comms_client_phone_tail9" in plan, plan


def test_the_same_last_nine_digits_in_another_country_is_another_number():
    ClientFactory(phone="+49 601 234 567")
    assert sms.client_for_phone("+48601234567") is None


@pytest.mark.django_db(transaction=True)  # the request's own transaction, as in production (not the test's)
def test_an_inbound_text_of_a_client_with_a_conversation_costs_at_most_eight_queries(
        client, client_anna, settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # the rows' handlers are the workers' queries, not the webhook's
    client_anna.phone = "+48 601 234 567"
    client_anna.save(update_fields=["phone"])
    ConversationFactory(client=client_anna)
    body = json.dumps({"type": "message", "from": "601234567", "text": "Klimatyzacja nie chłodzi", "id": "g1"}).encode()
    signature = hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("communications:inbound-sms"), body, content_type="application/json",
                               HTTP_X_SIGNATURE=signature)
    assert response.status_code == 200 and Message.objects.get().external_id == "g1"
    # The match (1), the conversation (1, handed to message_send, not read again), message_send's
    # own: BEGIN, the district, the message, last_message_at, the map and vector-store outbox rows
    # (one INSERT), COMMIT. No session, user or savepoint query: the webhook is anonymous and signed.
    assert len(queries) <= 8, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert not [q for q in queries.captured_queries if "SAVEPOINT" in q["sql"] or "django_session" in q["sql"]]


# --- a gateway's retry ---------------------------------------------------------------------------
def _sms(client, data: dict):
    body = json.dumps(data).encode()
    return client.post(reverse("communications:inbound-sms"), body, content_type="application/json",
                       HTTP_X_SIGNATURE=hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest())


def test_a_gateways_retry_of_a_gas_smell_text_is_saved_and_alerted_once(client, client_anna):
    client_anna.phone = "+48 601 234 567"
    client_anna.save(update_fields=["phone"])
    text = {"type": "message", "from": "601234567", "text": "Czuję gaz w kuchni!", "id": "gw-7"}
    first, retry = _sms(client, text), _sms(client, text)
    assert first.json()["results"][0]["message"] == Message.objects.get(author_role="client").pk
    assert retry.status_code == 200 and retry.json()["results"] == [{"duplicate": True}]
    assert Message.objects.filter(author_role="client").count() == 1
    assert IntegrationLog.objects.filter(kind="emergency.alert").count() == 1
    # Two texts alike without the gateway's id are two texts; another id is another text.
    _sms(client, {"type": "message", "from": "601234567", "text": "Dzień dobry"})
    _sms(client, {"type": "message", "from": "601234567", "text": "Dzień dobry"})
    _sms(client, {**text, "id": "gw-8"})
    assert Message.objects.filter(author_role="client").count() == 4


def test_a_retried_twilio_message_and_a_generic_one_with_the_same_id_are_told_apart(client, client_anna):
    client_anna.phone = "+48 601 234 567"
    client_anna.save(update_fields=["phone"])
    _sms(client, {"type": "message", "from": "601234567", "text": "Proszę o przegląd", "id": "SM1"})
    url = "http://testserver" + reverse("communications:inbound-sms-provider", args=["twilio"])
    form = {"From": "+48601234567", "Body": "Proszę o przegląd", "MessageSid": "SM1"}
    for _ in range(2):
        assert client.post(url, form, HTTP_X_TWILIO_SIGNATURE=_twilio_signed(url, form)).status_code == 200
    assert Message.objects.filter(author_role="client").count() == 2  # one per provider


def test_telegram_retrying_an_update_saves_the_text_once(client, client_anna):
    ChannelLink.objects.create(channel="telegram", address="555", client=client_anna)
    update = json.dumps({"update_id": 1, "message": {"message_id": 41, "text": "Kiedy technik?",
                                                     "chat": {"id": 555, "type": "private"}}})
    for _ in range(2):
        response = client.post(reverse("communications:inbound-telegram"), update, content_type="application/json",
                               HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="tg-secret")
        assert response.status_code == 200
    assert Message.objects.filter(author_role="client", channel="telegram").count() == 1


def test_an_inbound_mail_service_retrying_a_message_id_saves_the_mail_once(client, client_anna, monkeypatch):
    monkeypatch.setattr(conf, "INBOUND_EMAIL_SECRET", "email-secret")
    raw = ("From: Anna Kowalska <anna@example.com>\r\nTo: biuro@hvac.pl\r\nSubject: Przegląd\r\n"
           "Message-ID: <anna-9@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nProszę o przegląd.\r\n")
    body = json.dumps({"raw": raw}).encode()
    signature = hmac.new(b"email-secret", body, hashlib.sha256).hexdigest()
    answers = [client.post(reverse("communications:inbound-email"), body, content_type="application/json",
                           HTTP_X_SIGNATURE=signature).json() for _ in range(2)]
    assert "message" in answers[0] and answers[1]["duplicate"] is True
    assert Message.objects.filter(author_role="client", channel="email").count() == 1
