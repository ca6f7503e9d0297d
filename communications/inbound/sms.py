"""Inbound SMS: the gateways' request shapes, the sender's number in E.164, STOP, delivery reports.

Two adapters turn a provider's request into `SmsEvent`s:
- `generic` (our documented JSON shape, HMAC-SHA256 of the body in X-Signature):
  {"type": "message", "from": "+48601234567", "to": "...", "text": "...", "id": "gw-1"} or
  {"type": "report", "reference": "delivery-12", "status": "delivered" | "failed", "error": "..."};
- `twilio` (Twilio's form posts, X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted
  form fields with the account's auth token): a message (From, Body, MessageSid), or a status
  callback (MessageStatus, ErrorCode) of a send whose StatusCallback URL carried our reference
  (`...?reference=delivery-12`, signed by Twilio with the rest of the URL).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import phonenumbers
from django.db import connection, transaction

from communications import conf
from communications.inbound.common import Received, inbound_receive, signature_valid
from communications.models import ChannelLink, MessageChannel
from communications.services.deliveries import delivery_report
from hvaccrm.models import Client, Consent

# A text that is only one of these words withdraws marketing-SMS consent (Polish and English).
STOP_WORDS = {"stop", "stop sms", "nie", "rezygnuje", "rezygnuję", "unsubscribe", "wypisz"}


class BadRequest(ValueError):
    """The request is signed but not in the shape its adapter reads (answered 400)."""


@dataclass(frozen=True)
class SmsEvent:
    """One thing a gateway tells us: a text from a number, or a delivery report of our send."""

    kind: str  # "message" | "report"
    sender: str = ""
    text: str = ""
    external_id: str = ""
    reference: str = ""
    delivered: bool = False
    error: str = ""


def phone_e164(raw: str) -> str | None:
    """The number in E.164 (+48601234567), read in the default region when it has no country code;
    None when it is not a valid number. Remembered per process (a text's number is read three times
    on its way in, and phonenumbers' parse and check cost ~0.1-0.2 ms each)."""
    return _e164(raw or "", conf.SMS_DEFAULT_REGION)


@functools.lru_cache(maxsize=4096)
def _e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The office's link, then the clients whose phone field as typed ends in the same nine digits:
# RIGHT(regexp_replace(...)) is verbatim the expression of migration 0007's index (a test EXPLAINs it).
MATCH_SQL = (
    "SELECT 0, client_id, '' FROM communications_channellink WHERE channel = %s AND address = %s "
    "UNION ALL SELECT 1, id, phone FROM hvaccrm_client "
    r"WHERE anonymised_at IS NULL AND RIGHT(regexp_replace(phone, '\D', '', 'g'), 9) = %s ORDER BY 1, 2"
)


def client_for_phone(e164: str) -> int | None:
    """The client with this number: linked by the office, else the client's phone field (stored as
    typed, "+48 601 234 567" or "601-234-567": candidates by their last nine digits through an
    index, each checked in E.164). Two clients with one number: the longest-standing one (lowest id).

    One query, the office's link and the phone candidates together (the link ranks first), in SQL
    written out: it runs for every inbound text, and composing it in the ORM cost more CPU than
    running it. A short foreign number (under nine digits) is matched by its digits at the end."""
    national = str(phonenumbers.parse(e164).national_number)
    if len(national) < 9:
        linked = ChannelLink.objects.filter(channel=MessageChannel.SMS, address=e164).values_list("client_id", flat=True)
        pattern = r"\D*".join(re.escape(d) for d in national) + r"\D*$"
        rows = [(0, pk, "") for pk in linked[:1]] + [
            (1, pk, phone) for pk, phone in Client.objects.filter(phone__regex=pattern, anonymised_at__isnull=True)
            .order_by("id").values_list("pk", "phone")]
    else:
        with connection.cursor() as cursor:
            cursor.execute(MATCH_SQL, [MessageChannel.SMS, e164, national[-9:]])
            rows = cursor.fetchall()
    for rank, client_id, phone in rows:
        if rank == 0 or phone_e164(phone) == e164:
            return client_id
    return None


# --- adapters ------------------------------------------------------------------------------------


def generic_verify(*, body: bytes, headers) -> bool:
    return signature_valid(secret=conf.INBOUND_SMS_SECRET, body=body, signature=headers.get("X-Signature", ""))


def generic_events(*, body: bytes, form, query) -> list[SmsEvent]:
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise BadRequest("not JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("not an object")
    if data.get("type") == "report":
        status = str(data.get("status", ""))
        if status not in ("delivered", "failed"):
            raise BadRequest("status must be delivered or failed")
        return [SmsEvent(kind="report", reference=str(data.get("reference", "")), delivered=status == "delivered",
                         error=str(data.get("error", ""))[:500])]
    if data.get("type") != "message" or not isinstance(data.get("text"), str) or not data.get("from"):
        raise BadRequest("a message needs from and text")
    return [SmsEvent(kind="message", sender=str(data["from"]), text=data["text"], external_id=str(data.get("id", "")))]


def twilio_signature(*, url: str, params, token: str) -> str:
    """Twilio's request signature: base64(HMAC-SHA1(token, the full URL (query included) + each
    POST field's name and value, names sorted; a repeated field's values sorted))."""
    values = params.getlist if hasattr(params, "getlist") else (lambda key: [params[key]])
    signed = url + "".join(f"{key}{value}" for key in sorted(params) for value in sorted(values(key)))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def twilio_verify(*, url: str, form, headers) -> bool:
    if not conf.TWILIO_AUTH_TOKEN:
        return False
    expected = twilio_signature(url=url, params=form, token=conf.TWILIO_AUTH_TOKEN)
    return hmac.compare_digest(expected.encode(), headers.get("X-Twilio-Signature", "").encode())


# Twilio's MessageStatus values that end a send: delivered, or not (read is WhatsApp's "delivered").
TWILIO_FINAL = {"delivered": True, "read": True, "failed": False, "undelivered": False}


def twilio_events(*, body: bytes, form, query) -> list[SmsEvent]:
    if form.get("Body") is not None and form.get("From"):
        return [SmsEvent(kind="message", sender=form["From"], text=form["Body"],
                         external_id=form.get("MessageSid", ""))]
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if status not in TWILIO_FINAL or not query.get("reference"):
        # queued, sending, sent, accepted...: not an end yet; a callback without our reference
        # (a send that did not set it) names only Twilio's id: nothing to move.
        return []
    error = f"Twilio {status}" + (f", error {form['ErrorCode']}" if form.get("ErrorCode") else "")
    return [SmsEvent(kind="report", reference=query["reference"], delivered=TWILIO_FINAL[status],
                     error="" if TWILIO_FINAL[status] else error[:500])]


ADAPTERS = {"generic": (generic_verify, generic_events), "twilio": (twilio_verify, twilio_events)}


# --- the writes ----------------------------------------------------------------------------------


def sms_stop(*, client_id: int) -> Consent:
    """A client texted STOP: marketing by SMS withdrawn, a new entry of the consent ledger."""
    with transaction.atomic():
        return Consent.objects.create(client_id=client_id, purpose=Consent.Purpose.MARKETING_SMS, granted=False,
                                      channel=Consent.Channel.PHONE, text_version="sms-stop")


def sms_receive(*, event: SmsEvent) -> Received | Consent | None:
    """One text from a number: STOP withdraws consent; otherwise the client's message (or an
    unknown sender's thread for the office). None when the sender is not a valid number."""
    e164 = phone_e164(event.sender)
    if e164 is None:
        return None
    client_id = client_for_phone(e164)
    if client_id is not None and event.text.strip().lower().strip(".!") in STOP_WORDS:
        return sms_stop(client_id=client_id)
    return inbound_receive(channel=MessageChannel.SMS, address=e164, client_id=client_id, body=event.text,
                           external_id=event.external_id)


def sms_report(*, event: SmsEvent) -> bool:
    """A delivery report of one of our sends ("delivery-<id>"): the delivery moves to delivered or
    failed. Reports of conversation replies ("message-<id>") change nothing."""
    match = re.fullmatch(r"delivery-(\d+)", event.reference)
    if match is None:
        return False
    return delivery_report(delivery_id=int(match.group(1)), delivered=event.delivered, error=event.error)
