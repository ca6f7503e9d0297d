"""The personal data of the two-way channels, for communications/privacy.py: a client's linked
addresses (Telegram chats, numbers), reply preference, link codes, and texts that waited as an
unknown sender's before the office linked them (or that came from the client's own number)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from communications.models import ChannelLink, ChannelPreference, InboundThread, LinkCode, Message, MessageChannel
from hvaccrm.models import Client


def _addresses(client: Client) -> Q:
    """The unknown-sender threads that are this client's by address (their phone, their e-mail)."""
    from communications.inbound.sms import phone_e164

    q = Q(client_id=client.pk)
    phone = phone_e164(client.phone) if client.phone else None
    if phone:
        q |= Q(channel=MessageChannel.SMS, address=phone)
    if client.email:
        q |= Q(channel=MessageChannel.EMAIL, address=client.email.lower())
    links = list(ChannelLink.objects.filter(client_id=client.pk).values_list("channel", "address"))
    for channel, address in links:
        q |= Q(channel=channel, address=address)
    return q


def export(*, client: Client) -> dict[str, Any]:
    preference = ChannelPreference.objects.filter(client_id=client.pk).values_list("channel", flat=True).first()
    return {
        "channel_links": [{"channel": c, "address": a, "linked_at": t.isoformat()} for c, a, t in
                          ChannelLink.objects.filter(client_id=client.pk).order_by("id")
                          .values_list("channel", "address", "linked_at")],
        "reply_channel": preference or "",
        # The code itself is never stored (only its hash, which is no personal data of use).
        "link_codes": [{"channel": c, "created_at": t.isoformat(), "expires_at": e.isoformat(),
                        "used_at": u.isoformat() if u else None} for c, t, e, u in
                       LinkCode.objects.filter(client_id=client.pk).order_by("id")
                       .values_list("channel", "created_at", "expires_at", "used_at")],
        "unknown_sender_texts": [{"channel": t.channel, "address": t.address, "texts": t.texts}
                                 for t in InboundThread.objects.filter(_addresses(client)).order_by("id")],
    }


def erase(*, client: Client) -> int:
    """Links, preference, codes and waiting texts go; messages keep no gateway ids (an e-mail's
    Message-ID often carries the sender's domain)."""
    changed = InboundThread.objects.filter(_addresses(client)).delete()[0]
    changed += ChannelLink.objects.filter(client_id=client.pk).delete()[0]
    changed += ChannelPreference.objects.filter(client_id=client.pk).delete()[0]
    changed += LinkCode.objects.filter(client_id=client.pk).delete()[0]
    changed += Message.objects.filter(conversation__client_id=client.pk).exclude(external_id="").update(external_id="")
    return changed
