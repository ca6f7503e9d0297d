"""Inbound e-mail through an inbound-mail service's webhook (the IMAP poller is not built).

The service POSTs {"raw": "<the RFC 5322 message>"} (or {"raw_base64": ...}) signed with
HMAC-SHA256 of the body in X-Signature. The message is parsed with the standard library
(`email`, policy=default), its sender matched to a client, the reply separated from the quoted
history, and it is threaded by In-Reply-To/References against the Message-IDs we keep.

Attachments are refused, not stored: the office has no place for files from strangers (no
malware scanning, no retention or erasure rules for them), and a photo belongs in the portal,
where the client is signed in. The text is kept and the answer says how many were dropped.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

from django.db.models import Q
from django.utils.html import strip_tags

from communications.inbound.common import Received, client_for_link, inbound_receive
from communications.models import MessageChannel
from hvaccrm.models import Client


class BadRequest(ValueError):
    """Signed, but not an e-mail the webhook can read (answered 400)."""


# Where the quoted history starts: the line of the client's mail program that introduces it.
QUOTE_HEADERS = [
    re.compile(r"^On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^W dniu\b.{0,300}\b(pisze|napisał\(a\)|napisał|napisała):\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^-{2,}\s*(Original Message|Wiadomość oryginalna|Oryginalna wiadomość)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above "From: ... Sent: ..."
    re.compile(r"^(From|Od):\s.+", re.IGNORECASE),  # a forwarded or Outlook-quoted header block
]


def reply_text(body: str) -> str:
    """The new text of a reply: everything above the first quote header, without ">" lines and
    without the signature ("-- "). A header wrapped over two lines ("On ..., Anna <a@b>\\nwrote:")
    is recognised too."""
    lines = body.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        two = f"{stripped} {lines[i + 1].strip()}" if i + 1 < len(lines) else stripped
        if any(p.match(stripped) or p.match(two) for p in QUOTE_HEADERS[:2]) or any(
                p.match(stripped) for p in QUOTE_HEADERS[2:]):
            break
        if line.rstrip() == "--":  # the signature separator "-- "
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


@dataclass(frozen=True)
class InboundEmail:
    sender: str
    subject: str
    message_id: str
    in_reply_to: str
    text: str
    attachments: int


def parse(raw: bytes) -> InboundEmail:
    """Read an RFC 5322 message: sender, subject, Message-ID, what it answers, the reply text."""
    message = message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage):
        raise BadRequest("not an e-mail")
    _name, sender = parseaddr(str(message.get("From", "")))
    if "@" not in sender:
        raise BadRequest("no sender")
    part = message.get_body(preferencelist=("plain", "html"))
    content = part.get_content() if part is not None else ""
    if part is not None and part.get_content_type() == "text/html":
        content = strip_tags(content)
    attachments = sum(1 for _part in message.iter_attachments())
    answered = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References")).split()
    return InboundEmail(sender=sender.strip().lower(), subject=str(message.get("Subject", ""))[:200],
                        message_id=str(message.get("Message-ID", "")).strip()[:255],
                        in_reply_to=" ".join(answered), text=reply_text(content), attachments=attachments)


def raw_of(body: bytes) -> bytes:
    """The raw message from the webhook's JSON body."""
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise BadRequest("not JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("not an object")
    if isinstance(data.get("raw"), str):
        return data["raw"].encode("utf-8", "surrogateescape")
    if isinstance(data.get("raw_base64"), str):
        try:
            return base64.b64decode(data["raw_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("raw_base64 is not base64") from exc
    raise BadRequest("raw or raw_base64 is required")


def client_for_email(address: str) -> int | None:
    """The client with this e-mail (linked by the office, the client's address, or a portal login's)."""
    linked = client_for_link(channel=MessageChannel.EMAIL, address=address)
    if linked:
        return linked
    return (Client.objects.filter(Q(email__iexact=address) | Q(users__email__iexact=address),
                                  anonymised_at__isnull=True)
            .order_by("id").values_list("pk", flat=True).first())


def email_receive(*, mail: InboundEmail) -> Received:
    client_id = client_for_email(mail.sender)
    return inbound_receive(channel=MessageChannel.EMAIL, address=mail.sender, client_id=client_id, body=mail.text,
                           external_id=mail.message_id, in_reply_to=mail.in_reply_to, subject=mail.subject)
