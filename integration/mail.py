"""The e-mails the integration app sends for the office and the portal: an office booking's
confirmation to a client with no portal user, and sign-in links (the portal issues the token at
send time, so the outbox log never holds one). Apart from services.py by size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import services as comms
from communications.services.jobs import visit_window as comms_visit_window
from communications.transports import text_send
from hvaccrm.models import IntegrationLog, ServiceJob


def job_confirmation_email_send(*, job_id: int, log_id: int) -> dict[str, Any]:
    """E-mail an office booking's confirmation (the real date and window) to a client who has an
    e-mail address and no portal user, in the client's language. The address is read now (an
    erased client gets nothing). Sent once per outbox row: the row is marked in a transaction of
    its own right after the mail server took the e-mail, so a re-run of the row sends nothing;
    a refusing server raises DeliveryFailed and the sweep sends it again."""
    if IntegrationLog.objects.filter(pk=log_id, details__has_key="emailed_at").exists():
        return {"sent": False, "reason": "already sent by this row"}
    job = ServiceJob.objects.select_related("client", "site", "technician__user").filter(pk=job_id).first()
    if job is None or not job.client.email:
        return {"sent": False, "reason": "no job or address"}
    if job.client.users.filter(is_active=True).exists():
        return {"sent": False, "reason": "the client's users are notified"}
    with translation.override(job.client.preferred_language or settings.LANGUAGE_CODE):
        subject = _("Your visit no. %(id)s is booked") % {"id": job.pk}
        body = _("Hello %(name)s,\n\nwe have booked your visit: %(when)s.\nAddress: %(address)s\n"
                 "Technician: %(tech)s\n\nTo change the date, call or write to us.") % {
            "name": job.client.name, "when": comms_visit_window(job), "address": job.site.street,
            "tech": (job.technician.user.first_name or str(job.technician)) if job.technician_id else "-"}
    text_send(channel="email", address=job.client.email, text=body, reference=f"job-{job.pk}-confirmation",
              subject=str(subject))
    with transaction.atomic():
        row = IntegrationLog.objects.select_for_update().filter(pk=log_id).first()
        if row is not None:
            row.details = {**row.details, "emailed_at": timezone.now().isoformat()}
            row.save(update_fields=["details", "updated_at"])
    return {"sent": True}


# --- the portal's e-mails: sign-in links (the portal issues the token at send time) ------------------

# The portal's function that issues a sign-in link and words its e-mail, set by the portal when it
# is ready (nothing imports the portal): (user_id, purpose, created_by_id) -> {"url", "title",
# "body", "language", "address"}, or None when the user can no longer sign in.
SigninIssuer = Callable[..., dict[str, str] | None]
_signin_issuer: list[SigninIssuer] = []


def signin_issuer_register(issuer: SigninIssuer) -> None:
    _signin_issuer[:] = [issuer]


def signin_link_send_run(*, user_id: int, purpose: str, created_by: int | None, dedupe_key: str) -> dict[str, Any]:
    """E-mail a sign-in link through communications' e-mail delivery (a Delivery row with its state
    and attempts). Each attempt carries a fresh token, issued just before it and stored only as its
    hash; the e-mail's stored notification holds no link. DeliveryFailed when the mail server
    refused (the handler reports it; the outbox retries this row, with a new token)."""
    if not _signin_issuer:
        raise RuntimeError("the portal has not registered its sign-in link issuer")
    mail = _signin_issuer[0](user_id=user_id, purpose=purpose, created_by_id=created_by)
    if mail is None:
        return {"sent": False, "reason": "no active user with an address"}
    delivery_id, _state = comms.email_notification_create(
        user_id=user_id, kind=f"portal.{purpose}_link", title=mail["title"], body=mail["body"],
        address=mail["address"], language=mail["language"], dedupe_key=dedupe_key, send=False)
    # A delivery sent by an earlier run is not sent again (its token above is never e-mailed).
    state = comms.delivery_attempt_or_raise(delivery_id=delivery_id, link=mail["url"])
    return {"delivery": delivery_id, "state": str(state)}
