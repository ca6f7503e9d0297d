"""Two-way channels: SMS, Telegram and e-mail into the client's one conversation, and back.

The webhooks are called through the Django test client with the gateways' own request shapes;
the office's replies go out to the loopback gateway of conftest.py (a real HTTP server)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communications import conf, services
from communications.inbound import email as inbound_email
from communications.inbound.sms import phone_e164, twilio_signature
from communications.models import (
    ChannelLink,
    Conversation,
    Delivery,
    EmergencyAlert,
    InboundThread,
    LinkCode,
    Message,
    Notification,
)
from communications.tests.factories import ConversationFactory
from hvaccrm.models import Consent, IntegrationLog
from hvaccrm.safety import gas_safety_instruction
from hvaccrm.services.outbox import outbox_process
from hvaccrm.tests.factories import TechnicianFactory, district

pytestmark = pytest.mark.django_db

SMS_SECRET = "sms-secret"
EMAIL_SECRET = "email-secret"
TG_SECRET = "tg-secret"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setattr(conf, "INBOUND_SMS_SECRET", SMS_SECRET)
    monkeypatch.setattr(conf, "INBOUND_EMAIL_SECRET", EMAIL_SECRET)
    monkeypatch.setattr(conf, "TELEGRAM_WEBHOOK_SECRET", TG_SECRET)
    monkeypatch.setattr(conf, "TWILIO_AUTH_TOKEN", "twilio-token")


@pytest.fixture
def anna_phone(client_anna):
    client_anna.phone = "+48 601 234 567"
    client_anna.save(update_fields=["phone"])
    return client_anna


def _signed(secret: str, data: dict) -> tuple[bytes, str]:
    body = json.dumps(data).encode()
    return body, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _sms(client, data: dict, *, secret: str = SMS_SECRET):
    body, signature = _signed(secret, data)
    return client.post(reverse("communications:inbound-sms"), body, content_type="application/json",
                       HTTP_X_SIGNATURE=signature)


_telegram_ids = itertools.count(9)


def _telegram(client, text: str, *, chat: int = 555, secret: str = TG_SECRET, language: str = "pl",
              message_id: int | None = None):
    """An Update as Telegram sends it; each with a new message id unless one is given (a retry)."""
    message_id = next(_telegram_ids) if message_id is None else message_id
    update = {"update_id": message_id, "message": {"message_id": message_id, "text": text, "chat": {"id": chat, "type": "private"},
                                          "from": {"id": chat, "language_code": language}}}
    return client.post(reverse("communications:inbound-telegram"), json.dumps(update),
                       content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret)


def _email(client, raw: str, *, secret: str = EMAIL_SECRET):
    body, signature = _signed(secret, {"raw": raw})
    return client.post(reverse("communications:inbound-email"), body, content_type="application/json",
                       HTTP_X_SIGNATURE=signature)


# --- SMS -----------------------------------------------------------------------------------------


def test_numbers_are_normalised_to_e164_in_the_default_region():
    assert phone_e164("601 234 567") == "+48601234567"
    assert phone_e164("+48-601-234-567") == "+48601234567"
    assert phone_e164("0048601234567") == "+48601234567"
    assert phone_e164("12") is None


def test_an_inbound_sms_about_a_gas_smell_alerts_the_districts_technicians(client, anna_phone):
    tech = TechnicianFactory(home_district=district("mokotow"), on_shift=True, last_latitude=52.19,
                             last_longitude=21.02)
    response = _sms(client, {"type": "message", "from": "601234567", "text": "Czuję gaz w kuchni!", "id": "gw-1"})
    assert response.status_code == 200
    message = Message.objects.get(pk=response.json()["results"][0]["message"])
    assert message.conversation.client == anna_phone and message.channel == "sms"
    assert message.author is None and message.author_role == "client" and message.urgency == "emergency"
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(message.pk))
    assert outbox_process(log_id=row.pk) == "succeeded"
    alert = EmergencyAlert.objects.get(message=message)
    assert alert.district.slug == "mokotow"
    assert Notification.objects.filter(recipient_id=tech.user_id, related_id=str(alert.pk)).exists()
    # The safety instruction goes back by SMS, where the client wrote.
    assert IntegrationLog.objects.filter(kind="message.relay", payload__channel="sms").exists()


def test_a_forged_sms_webhook_changes_nothing_and_answers_403(client, anna_phone):
    response = _sms(client, {"type": "message", "from": "601234567", "text": "Czuję gaz"}, secret="wrong")
    assert response.status_code == 403
    unsigned = client.post(reverse("communications:inbound-sms"), b"{}", content_type="application/json")
    assert unsigned.status_code == 403
    assert not Message.objects.exists() and not InboundThread.objects.exists()


def test_an_unknown_number_waits_for_the_office_which_links_it_to_a_client(client, client_anna, dispatcher):
    response = _sms(client, {"type": "message", "from": "+48 602 000 111", "text": "Proszę o przegląd pompy"})
    assert response.json()["results"] == [{"unknown_sender": True}]
    thread = InboundThread.objects.get()
    assert thread.address == "+48602000111" and not Message.objects.exists()
    conversation = services.inbound_thread_link(thread_id=thread.pk, client_id=client_anna.pk, actor=dispatcher)
    assert list(conversation.messages.values_list("body", "channel")) == [("Proszę o przegląd pompy", "sms")]
    thread.refresh_from_db()
    assert thread.texts == [] and thread.client == client_anna
    again = _sms(client, {"type": "message", "from": "602000111", "text": "Czy są wolne terminy?"})
    assert Message.objects.get(pk=again.json()["results"][0]["message"]).conversation == conversation


def test_a_gas_smell_by_sms_from_an_unknown_number_alerts_the_dispatchers_and_answers_with_safety(
        client, dispatcher, gateway):
    _sms(client, {"type": "message", "from": "+48 602 000 111", "text": "Proszę o przegląd pompy"})
    assert not IntegrationLog.objects.filter(kind="inbound.emergency").exists()  # a quiet text waits
    response = _sms(client, {"type": "message", "from": "+48 602 000 111", "text": "Czuję gaz w kuchni!"})
    assert response.json()["results"] == [{"unknown_sender": True}]
    thread = InboundThread.objects.get()
    assert [t["urgency"] for t in thread.texts] == ["normal", "emergency"] and not Message.objects.exists()
    row = IntegrationLog.objects.get(kind="inbound.emergency")
    assert row.payload["thread"] == thread.pk and row.payload["reply"] is True
    assert outbox_process(log_id=row.pk) == "succeeded"
    alert = Notification.objects.get(recipient=dispatcher, kind="inbound.emergency")
    assert alert.priority == "emergency" and alert.body == "Czuję gaz w kuchni!" and "+48602000111" in alert.title
    sent = [r["body"] for r in gateway.accepted() if r["path"] == "/sms"]
    assert sent == [{"to": "+48602000111", "text": gas_safety_instruction(language="pl"), "sender": conf.SMS_SENDER,
                     "reference": f"inbound-{thread.pk}"}]
    # The row run again (the outbox is at-least-once) alerts nobody twice.
    services.inbound_emergency_alert(thread_id=thread.pk, channel="sms", text="Czuję gaz w kuchni!", language="pl",
                                     safety=False, reply=True, dedupe_key=f"outbox:{row.pk}")
    assert Notification.objects.filter(kind="inbound.emergency").count() == 1


def test_a_refused_safety_instruction_leaves_the_row_for_a_retry_and_alerts_once(client, dispatcher):
    _sms(client, {"type": "message", "from": "+48 602 000 111", "text": "Czuję gaz w kuchni!"})
    row = IntegrationLog.objects.get(kind="inbound.emergency")
    assert outbox_process(log_id=row.pk) != "succeeded"  # no SMS gateway configured: refused
    assert Notification.objects.filter(recipient=dispatcher, kind="inbound.emergency").count() == 1


def test_stop_withdraws_marketing_sms_consent_and_saves_no_message(client, anna_phone):
    Consent.objects.create(client=anna_phone, purpose="marketing_sms", granted=True, channel="portal",
                           text_version="v1")
    response = _sms(client, {"type": "message", "from": "601234567", "text": "STOP"})
    assert response.json()["results"] == [{"stopped": True}]
    latest = Consent.objects.filter(client=anna_phone, purpose="marketing_sms").order_by("-id").first()
    assert latest.granted is False and not Message.objects.exists()


def test_a_sender_over_the_rate_limit_gets_429_and_nothing_is_saved(client, anna_phone, monkeypatch):
    monkeypatch.setattr(conf, "INBOUND_RATE_PER_MINUTE", 2)
    for _ in range(2):
        assert _sms(client, {"type": "message", "from": "601234567", "text": "Dzień dobry"}).status_code == 200
    assert _sms(client, {"type": "message", "from": "601234567", "text": "Dzień dobry"}).status_code == 429
    assert Message.objects.filter(author_role="client").count() == 2


def test_a_gateway_delivery_report_moves_the_delivery_to_delivered_or_failed(client, anna_user):
    n = Notification.objects.create(recipient=anna_user, kind="job.updated", title="Wizyta")
    sent = Delivery.objects.create(notification=n, channel="sms", state="sent", address="+48601234567")
    _sms(client, {"type": "report", "reference": f"delivery-{sent.pk}", "status": "delivered"})
    sent.refresh_from_db()
    assert sent.state == "delivered" and sent.delivered_at is not None
    n2 = Notification.objects.create(recipient=anna_user, kind="job.updated", title="Wizyta 2")
    other = Delivery.objects.create(notification=n2, channel="sms", state="sent", address="+48601234567")
    _sms(client, {"type": "report", "reference": f"delivery-{other.pk}", "status": "failed", "error": "absent"})
    other.refresh_from_db()
    assert other.state == "failed" and "absent" in other.last_error


def test_twilio_form_posts_are_checked_by_their_signature(client, anna_phone):
    url = "http://testserver" + reverse("communications:inbound-sms-provider", args=["twilio"])
    form = {"From": "+48601234567", "Body": "Klimatyzacja nie chłodzi", "MessageSid": "SM1"}
    forged = client.post(url, form, HTTP_X_TWILIO_SIGNATURE="nope")
    assert forged.status_code == 403 and not Message.objects.exists()
    signature = twilio_signature(url=url, params=form, token="twilio-token")
    assert client.post(url, form, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 200
    assert Message.objects.get().external_id == "SM1"


def test_an_office_reply_goes_out_by_sms_to_a_client_who_texted(client, anna_phone, dispatcher, gateway):
    response = _sms(client, {"type": "message", "from": "601234567", "text": "Kiedy przyjedzie technik?"})
    message = Message.objects.get(pk=response.json()["results"][0]["message"])
    reply = services.message_send(author=dispatcher, conversation_id=message.conversation_id, body="Jutro o 9:00.")
    row = IntegrationLog.objects.get(kind="message.relay", object_id=str(reply.pk))
    assert outbox_process(log_id=row.pk) == "succeeded"
    sent = [r for r in gateway.accepted() if r["path"] == "/sms"]
    assert sent[-1]["body"]["to"] == "+48 601 234 567" and sent[-1]["body"]["text"] == "Jutro o 9:00."


# --- Telegram ------------------------------------------------------------------------------------


def test_a_telegram_link_code_works_once(client, client_anna):
    code = services.telegram_link_code_create(client_id=client_anna.pk)["code"]
    assert LinkCode.objects.get().code_hash != code  # only its hash is stored
    first = _telegram(client, f"/start {code}", chat=555)
    assert first.status_code == 200 and first.json()["method"] == "sendMessage"
    assert ChannelLink.objects.get(channel="telegram").client == client_anna
    _telegram(client, f"/start {code}", chat=777)
    assert not ChannelLink.objects.filter(address="777").exists()


def test_an_expired_link_code_links_nothing(client, client_anna):
    code = services.telegram_link_code_create(client_id=client_anna.pk)["code"]
    LinkCode.objects.update(expires_at=timezone.now())
    _telegram(client, f"/start {code}")
    assert not ChannelLink.objects.exists()


def test_a_chat_that_is_no_clients_reads_nothing_and_saves_nothing(client, client_anna):
    ConversationFactory(client=client_anna, subject="Anna's private thread")
    response = _telegram(client, "Pokaż moje wiadomości", chat=999, language="en")
    assert response.json()["text"] == "This chat is not linked to a client. Link it in the client portal, Telegram page."
    assert not Message.objects.exists() and not InboundThread.objects.exists()


def test_a_gas_smell_from_an_unlinked_chat_alerts_the_dispatchers_and_the_bot_answers_with_safety(
        client, dispatcher, gateway):
    response = _telegram(client, "I smell gas in the kitchen, help!", chat=999, language="en")
    assert response.json()["text"] == gas_safety_instruction(language="en")
    thread = InboundThread.objects.get(channel="telegram")
    assert thread.address == "999" and not Message.objects.exists()
    row = IntegrationLog.objects.get(kind="inbound.emergency")
    assert outbox_process(log_id=row.pk) == "succeeded"
    assert Notification.objects.filter(recipient=dispatcher, kind="inbound.emergency").exists()
    assert gateway.accepted() == []  # answered in the webhook's response, not a second time


def test_a_forged_telegram_webhook_answers_403(client, client_anna):
    code = services.telegram_link_code_create(client_id=client_anna.pk)["code"]
    assert _telegram(client, f"/start {code}", secret="guess").status_code == 403
    assert not ChannelLink.objects.exists() and LinkCode.objects.get().used_at is None


def test_telegram_messages_go_both_ways_and_the_bot_speaks_the_clients_language(
        client, client_anna, dispatcher, gateway):
    client_anna.preferred_language = "en"
    client_anna.save(update_fields=["preferred_language"])
    code = services.telegram_link_code_create(client_id=client_anna.pk)["code"]
    answer = _telegram(client, f"/start {code}", chat=555, language="pl").json()["text"]
    assert answer == "Your chat is linked. Write here and the HVAC office will answer."
    _telegram(client, "Pompa ciepła głośno pracuje", chat=555)
    message = Message.objects.get(channel="telegram")
    assert message.conversation.client == client_anna
    reply = services.message_send(author=dispatcher, conversation_id=message.conversation_id, body="Sprawdzimy.")
    assert outbox_process(log_id=IntegrationLog.objects.get(kind="message.relay", object_id=str(reply.pk)).pk) \
        == "succeeded"
    sent = gateway.accepted()[-1]
    assert sent["path"].endswith("/sendMessage") and sent["body"] == {"chat_id": "555", "text": "Sprawdzimy."}
    services.telegram_unlink(client_id=client_anna.pk)
    assert _telegram(client, "Halo?", chat=555).json()["text"].startswith("Ten czat")


# --- e-mail --------------------------------------------------------------------------------------


def test_the_reply_is_separated_from_the_quoted_history():
    text = ("Tak, jutro pasuje.\n\nW dniu 3.03.2025 o 10:00 Biuro HVAC <biuro@hvac.pl> pisze:\n> Czy jutro?\n")
    assert inbound_email.reply_text(text) == "Tak, jutro pasuje."
    assert inbound_email.reply_text("Fine.\nOn Mon, 3 Mar 2025, Office <o@x.pl>\nwrote:\n> old") == "Fine."
    assert inbound_email.reply_text("OK\n-----Original Message-----\nFrom: x") == "OK"
    assert inbound_email.reply_text("> quoted\nNew line\n-- \nAnna") == "New line"


def test_an_email_reply_lands_in_the_right_conversation_without_the_quoted_text(client, client_anna, dispatcher):
    older = ConversationFactory(client=client_anna, subject="Przegląd")
    ConversationFactory(client=client_anna, subject="Newer thread")
    services.message_send(author=client_anna.users.get(), conversation_id=older.pk, body="Proszę o przegląd")
    services.channel_preference_set(client_id=client_anna.pk, channel="email")
    reply = services.message_send(author=dispatcher, conversation_id=older.pk, body="Czy pasuje wtorek?")
    outbox_process(log_id=IntegrationLog.objects.get(kind="message.relay", object_id=str(reply.pk)).pk)
    sent = mail.outbox[-1]
    our_id = sent.extra_headers["Message-ID"]
    assert sent.to == ["anna@example.com"] and sent.subject == "Re: Przegląd"
    # The newer conversation is touched last: only the In-Reply-To can bring the answer to the older.
    Conversation.objects.filter(pk=older.pk).update(last_message_at=timezone.now() - timezone.timedelta(days=9))
    raw = (f"From: Anna Kowalska <Anna@Example.com>\r\nTo: biuro@hvac.pl\r\nSubject: Re: Przegląd\r\n"
           f"Message-ID: <anna-1@example.com>\r\nIn-Reply-To: {our_id}\r\nReferences: {our_id}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
           "Tak, wtorek pasuje.\r\n\r\nW dniu wt., 4 mar 2025 o 10:00 Biuro <biuro@hvac.pl> pisze:\r\n"
           "> Czy pasuje wtorek?\r\n")
    response = _email(client, raw)
    assert response.status_code == 200
    message = Message.objects.get(pk=response.json()["message"])
    assert message.conversation_id == older.pk and message.body == "Tak, wtorek pasuje."
    assert message.channel == "email" and message.external_id == "<anna-1@example.com>"


def test_a_gas_smell_by_email_from_a_stranger_alerts_the_dispatchers_and_answers_by_email(client, dispatcher):
    raw = ("From: Jan <jan@elsewhere.example>\r\nTo: biuro@hvac.pl\r\nSubject: Gaz\r\n"
           "Message-ID: <jan-1@elsewhere.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Czuję gaz w piwnicy, co robić?\r\n")
    assert _email(client, raw).json()["unknown_sender"] is True
    assert outbox_process(log_id=IntegrationLog.objects.get(kind="inbound.emergency").pk) == "succeeded"
    assert Notification.objects.filter(recipient=dispatcher, kind="inbound.emergency").exists()
    sent = mail.outbox[-1]
    assert sent.to == ["jan@elsewhere.example"] and sent.body == gas_safety_instruction(language="pl")


def test_email_attachments_are_refused_and_the_text_is_kept(client, client_anna):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "anna@example.com", "biuro@hvac.pl", "Zdjęcie"
    msg.set_content("W załączniku zdjęcie jednostki.")
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="unit.png")
    response = _email(client, msg.as_string())
    assert response.json()["attachments_refused"] == 1
    assert Message.objects.get().body == "W załączniku zdjęcie jednostki."


def test_a_forged_email_webhook_answers_403_and_saves_nothing(client, client_anna):
    raw = "From: anna@example.com\r\nSubject: x\r\n\r\nCzuję gaz\r\n"
    assert _email(client, raw, secret="forged").status_code == 403
    assert not Message.objects.exists()


# --- privacy -------------------------------------------------------------------------------------


def test_inbound_texts_and_link_codes_are_exported_and_erased(client, anna_phone):
    from communications import privacy as comms_privacy
    from hvaccrm.privacy import ErasureContext

    services.telegram_link_code_create(client_id=anna_phone.pk)
    ChannelLink.objects.create(client=anna_phone, channel="telegram", address="555")
    InboundThread.objects.create(channel="sms", address="+48601234567", texts=[{"body": "stary numer"}])
    exported = comms_privacy.export(client=anna_phone)["channels"]
    assert exported["channel_links"][0]["address"] == "555" and len(exported["link_codes"]) == 1
    assert exported["unknown_sender_texts"][0]["texts"] == [{"body": "stary numer"}]
    comms_privacy.erase(client=anna_phone, context=ErasureContext(client_id=anna_phone.pk, actor=None, alias="x"))
    assert not ChannelLink.objects.exists() and not LinkCode.objects.exists() and not InboundThread.objects.exists()


# --- the office ----------------------------------------------------------------------------------


def test_the_office_links_an_unknown_sender_by_the_admin_action(client, client_anna, administrator):
    thread = InboundThread.objects.create(channel="sms", address="+48602000111",
                                          texts=[{"body": "Proszę o kontakt", "id": ""}])
    client.force_login(administrator)
    response = client.post(reverse("admin:communications_inboundthread_changelist"),
                           {"action": "link_to_client", "_selected_action": [thread.pk], "client": client_anna.pk})
    assert response.status_code == 302
    assert Message.objects.get().conversation.client == client_anna
    assert ChannelLink.objects.get(address="+48602000111").client == client_anna


def test_the_inbox_shows_the_channel_of_each_message(client, anna_phone, dispatcher):
    _sms(client, {"type": "message", "from": "601234567", "text": "Dzień dobry, proszę o przegląd"})
    conversation = Conversation.objects.get()
    client.force_login(dispatcher)
    page = client.get(reverse("communications:conversation", args=[conversation.pk]))
    assert '<span class="comms-channel" title="kanał">SMS</span>' in page.content.decode() or \
        '<span class="comms-channel" title="channel">SMS</span>' in page.content.decode()
