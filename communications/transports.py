"""One Transport class per outbound channel (the Healthchecks pattern).

A transport sends one Delivery and either returns (the channel accepted it) or raises
DeliveryFailed (the attempt failed and may be retried). Transports never touch the Delivery row:
`delivery_attempt` in services.py owns its state.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import translation

from communications import conf
from hvaccrm.realtime import events, presence
from hvaccrm.realtime import groups as g

if TYPE_CHECKING:
    from communications.models import Delivery


class DeliveryFailed(Exception):
    """The one failure of a delivery: the channel refused it or could not be reached.

    Transports raise it, delivery_attempt records it on the Delivery, delivery_attempt_or_raise
    raises it again for the outbox handler, which reports it to the outbox (HandlerFailed) so the
    recorded attempt stays and the row is retried with backoff."""


def delivery_reference(delivery: Delivery) -> str:
    """The one reference of a delivery on every gateway: each attempt of it carries the same."""
    return f"delivery-{delivery.pk}"


class Transport:
    channel = ""

    def send(self, delivery: Delivery) -> None:
        raise NotImplementedError


class InAppTransport(Transport):
    """The socket: a `notification.created` push to the recipient's own group.

    The push is only an announcement (the row is saved already). It counts as sent only when the
    recipient has an open socket and the channel layer took it; otherwise DeliveryFailed, and the
    delivery stays pending for the next page load. The page's `notification.received` frame moves
    it to delivered, reading it to read.
    """

    channel = "in_app"

    def send(self, delivery: Delivery) -> None:
        n = delivery.notification
        if not presence.users_with_open_sockets(user_ids=[n.recipient_id]):
            raise DeliveryFailed("no open socket")
        layer = get_channel_layer()
        if layer is None:
            raise DeliveryFailed("no channel layer")
        event = events.make_event("notification.created", row_id=n.pk, data=notification_data(n))
        try:
            async_to_sync(layer.group_send)(g.user_group(n.recipient_id), {"type": "realtime.push", "event": event})
        except Exception as exc:  # Redis refused or unreachable: not sent, say why
            raise DeliveryFailed(f"push failed: {type(exc).__name__}: {exc}") from exc


class EmailTransport(Transport):
    """Django e-mail: one template per format, translated into the recipient's language."""

    channel = "email"

    def send(self, delivery: Delivery, *, link: str = "") -> None:
        n = delivery.notification
        if not delivery.address:
            raise DeliveryFailed("no e-mail address")
        language = (n.payload or {}).get("language") or "pl"
        language = language if language in ("pl", "en") else "pl"
        # `link`: a secret issued for this attempt only (a sign-in link), rendered and stored nowhere.
        context = {"notification": n, "site_url": conf.SITE_URL, "link": link or (n.payload or {}).get("link")}
        # The recipient's language, not the sender's: a worker or the office may be in another one.
        with translation.override(language):
            text = render_to_string("communications/email/notification.txt", context)
            html = render_to_string("communications/email/notification.html", context)
        # The delivery's reference as the Message-ID: a resend after a crash is the same message.
        message = EmailMultiAlternatives(subject=n.title, body=text, to=[delivery.address],
                                         headers={"Message-ID": f"<{delivery_reference(delivery)}@{DNS_NAME}>"})
        message.attach_alternative(html, "text/html")
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # SMTP errors, refused connections: retried by the outbox
            raise DeliveryFailed(f"e-mail: {type(exc).__name__}: {exc}") from exc


def _post_json(url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",  # noqa: S310 - URL from settings
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=conf.GATEWAY_TIMEOUT) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"gateway answered {exc.code}: {exc.read()[:200]!r}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"gateway unreachable: {exc}") from exc
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {}


def _short_text(delivery: Delivery) -> str:
    n = delivery.notification
    return f"{n.title}\n{n.body}".strip()[:600]


def sms_post(*, address: str, text: str, reference: str) -> None:
    """One text to the HTTP SMS gateway: POST {"to", "text", "sender", "reference"} with a bearer
    token; the reference comes back in the gateway's delivery report (`delivery-<id>`, `message-<id>`)."""
    if not conf.SMS_GATEWAY_URL:
        raise DeliveryFailed("SMS gateway not configured (COMMS_SMS_GATEWAY_URL)")
    if not address:
        raise DeliveryFailed("no phone number")
    headers = {"Authorization": f"Bearer {conf.SMS_GATEWAY_TOKEN}"} if conf.SMS_GATEWAY_TOKEN else {}
    headers["Idempotency-Key"] = reference
    _post_json(conf.SMS_GATEWAY_URL, {"to": address, "text": text[:600], "sender": conf.SMS_SENDER,
                                      "reference": reference}, headers)


def telegram_post(*, chat_id: str, text: str, reference: str = "") -> None:
    """One text through the Telegram Bot API's sendMessage; an answer with ok=false is a failure.
    `reference` goes as the Idempotency-Key header, for a relay in front of the API to drop a resend."""
    if not conf.TELEGRAM_BOT_TOKEN:
        raise DeliveryFailed("Telegram not configured (COMMS_TELEGRAM_BOT_TOKEN)")
    if not chat_id:
        raise DeliveryFailed("no Telegram chat id")
    url = f"{conf.TELEGRAM_API_URL.rstrip('/')}/bot{conf.TELEGRAM_BOT_TOKEN}/sendMessage"
    answer = _post_json(url, {"chat_id": chat_id, "text": text[:4000]},
                        {"Idempotency-Key": reference} if reference else None)
    if answer.get("ok") is False:
        raise DeliveryFailed(f"telegram: {answer.get('description', 'refused')}")


class SmsTransport(Transport):
    """A notification by the HTTP SMS gateway (`sms_post`)."""

    channel = "sms"

    def send(self, delivery: Delivery) -> None:
        sms_post(address=delivery.address, text=_short_text(delivery), reference=delivery_reference(delivery))


class TelegramTransport(Transport):
    """A notification by the Telegram bot (`telegram_post`)."""

    channel = "telegram"

    def send(self, delivery: Delivery) -> None:
        telegram_post(chat_id=delivery.address, text=_short_text(delivery), reference=delivery_reference(delivery))


TRANSPORTS: dict[str, Transport] = {t.channel: t for t in (InAppTransport(), EmailTransport(), SmsTransport(),
                                                           TelegramTransport())}


def transport_for(channel: str) -> Transport:
    return TRANSPORTS[channel]


def notification_data(n) -> dict:
    """The data of a `notification.created` push (also the API's list item, minus deliveries)."""
    return {
        "notification": n.pk, "kind": n.kind, "title": n.title, "body": n.body, "priority": n.priority,
        "payload": n.payload, "related_type": n.related_type, "related_id": n.related_id,
        "created_at": n.created_at.isoformat() if n.created_at else None,
    }


# --- Two-way channels: a conversation's reply to the client's channel (communications/inbound) ---
# Not a Delivery (a message is not a notification and a client may have no login): the outbox's
# message.relay row retries it; the same gateway calls as the transports above (`sms_post`,
# `telegram_post`).


def text_send(*, channel: str, address: str, text: str, reference: str, subject: str = "",
              message_id: str = "", in_reply_to: str = "") -> None:
    """Send a conversation's text to one address on an outside channel; DeliveryFailed if refused."""
    if not address:
        raise DeliveryFailed(f"no {channel} address")
    if channel == "sms":
        sms_post(address=address, text=text, reference=reference)
    elif channel == "telegram":
        telegram_post(chat_id=address, text=text)
    elif channel == "email":
        headers = {"Message-ID": message_id} if message_id else {}
        if in_reply_to:
            headers |= {"In-Reply-To": in_reply_to, "References": in_reply_to}
        message = EmailMultiAlternatives(subject=subject, body=text, to=[address], headers=headers)
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # SMTP errors, refused connections: retried by the outbox
            raise DeliveryFailed(f"e-mail: {type(exc).__name__}: {exc}") from exc
    else:
        raise DeliveryFailed(f"no outside channel {channel!r}")
