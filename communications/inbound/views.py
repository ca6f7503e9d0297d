"""The gateways' webhooks: CSRF-exempt, authenticated only by their signature or secret.

A request that fails its check answers 403 and changes nothing; a sender over the rate limit
429 and nothing is saved. Each view parses, checks, calls the channel's write and answers.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from communications import conf
from communications.inbound import email as inbound_email
from communications.inbound import sms, telegram
from communications.inbound.common import Received, inbound_admit, inbound_saved, signature_valid
from communications.models import MessageChannel
from hvaccrm.errors import ServiceError


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "forbidden"}, status=403)


def _too_many() -> JsonResponse:
    return JsonResponse({"error": "rate_limited"}, status=429)


def _outcome(result) -> dict:
    if isinstance(result, Received):
        return {"message": result.message.pk} if result.message else {"unknown_sender": True}
    return {"stopped": True} if result is not None else {"ignored": "invalid number"}


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest, provider: str = "generic") -> HttpResponse:
    adapter = sms.ADAPTERS.get(provider)
    if adapter is None:
        return JsonResponse({"error": "unknown provider"}, status=404)
    verify, events_of = adapter
    body = request.body  # read first: the form is then parsed from it, and both stay readable
    if provider == "twilio":
        # The URL Twilio signed, query string included (a status callback carries our reference there).
        url = (conf.INBOUND_PUBLIC_URL.rstrip("/") + request.get_full_path()) if conf.INBOUND_PUBLIC_URL \
            else request.build_absolute_uri()
        ok = verify(url=url, form=request.POST, headers=request.headers)
    else:
        ok = verify(body=body, headers=request.headers)
    if not ok:
        return _forbidden()
    try:
        events = events_of(body=body, form=request.POST, query=request.GET)
    except sms.BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    results = []
    for event in events:
        if event.kind == "report":
            results.append({"report": sms.sms_report(event=event)})
            continue
        reference = f"{provider}:{event.external_id}" if event.external_id else ""
        admitted = inbound_admit(channel=MessageChannel.SMS, address=sms.phone_e164(event.sender) or event.sender,
                                 reference=reference)
        if admitted == "rate_limited":
            return _too_many()
        if admitted == "duplicate":  # the gateway's retry of a text saved already
            results.append({"duplicate": True})
            continue
        try:
            results.append(_outcome(sms.sms_receive(event=event)))
        except ServiceError as exc:
            results.append({"error": exc.message})
            continue
        inbound_saved(channel=MessageChannel.SMS, reference=reference)
    if provider == "twilio":
        # Twilio reads TwiML; an empty response sends no automatic SMS back.
        return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml")
    return JsonResponse({"results": results})


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    if not telegram.secret_valid(header=request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")):
        return _forbidden()
    try:
        update = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "not JSON"}, status=400)
    text = telegram.update_text(update)
    if text is None:
        return JsonResponse({})
    reference = f"{text.chat_id}:{text.message_id}" if text.message_id else ""
    admitted = inbound_admit(channel=MessageChannel.TELEGRAM, address=text.chat_id, reference=reference)
    if admitted == "rate_limited":
        return _too_many()
    if admitted == "duplicate":  # Telegram retries an update until it is answered 2xx
        return JsonResponse({})
    try:
        answer = telegram.telegram_receive(text=text)
        inbound_saved(channel=MessageChannel.TELEGRAM, reference=reference)
    except ServiceError:
        answer = ""
    if not answer:
        return JsonResponse({})
    # Telegram runs a method given in the webhook's answer: the bot's reply needs no second call.
    return JsonResponse({"method": "sendMessage", "chat_id": text.chat_id, "text": answer})


@csrf_exempt
@require_POST
def email_webhook(request: HttpRequest) -> HttpResponse:
    if not signature_valid(secret=conf.INBOUND_EMAIL_SECRET, body=request.body,
                           signature=request.headers.get("X-Signature", "")):
        return _forbidden()
    if len(request.body) > conf.INBOUND_EMAIL_MAX_BYTES:
        return JsonResponse({"error": "too large"}, status=413)
    try:
        mail = inbound_email.parse(inbound_email.raw_of(request.body))
    except inbound_email.BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    admitted = inbound_admit(channel=MessageChannel.EMAIL, address=mail.sender, reference=mail.message_id)
    if admitted == "rate_limited":
        return _too_many()
    if admitted == "duplicate":  # the service's retry of a Message-ID saved already
        return JsonResponse({"duplicate": True, "attachments_refused": mail.attachments})
    try:
        result = inbound_email.email_receive(mail=mail)
    except ServiceError as exc:
        return JsonResponse({"error": exc.message, "attachments_refused": mail.attachments})
    inbound_saved(channel=MessageChannel.EMAIL, reference=mail.message_id)
    return JsonResponse({**_outcome(result), "attachments_refused": mail.attachments})
