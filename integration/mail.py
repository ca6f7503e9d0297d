"""The e-mails the integration app sends for the office and the portal: an office booking's
confirmation to a client with no portal user, and sign-in links (the portal issues the token at
send time, so the outbox log never holds one). Apart from services.py by size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import services as comms
from communications.services.jobs import visit_window as comms_visit_window
from communications.transports import text_send
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import record


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
    told = visit_told(job)
    _mark_emailed(log_id, **({"told_key": told_key(told)} if told else {}))
    return {"sent": True}


# --- a later change of the visit's time, e-mailed to the same clients ------------------------------

EMAIL_KINDS = ("job.confirmation_email", "job.time_change_email")
# The changes that can move the time a client was told; an ETA drift records no outbox row at all.
TIME_CHANGES = ("rescheduled", "assignment", "status")


def visit_told(job: ServiceJob) -> tuple[datetime, datetime] | None:
    """The date and window a client is told: the booked slot, else the window the job asks for. The
    plan's ETA is left out on purpose: the optimiser keeps it inside that window and on its day, so
    an ETA drift is never a change worth an e-mail (docs/office.md)."""
    if job.scheduled_start:
        return job.scheduled_start, job.scheduled_end or job.scheduled_start
    if job.requested_start:
        return job.requested_start, job.requested_end or job.requested_start
    return None


def told_key(told: tuple[datetime, datetime]) -> str:
    return f"{told[0].isoformat()}/{told[1].isoformat()}"


def _window_words(start: datetime, end: datetime) -> str:
    a, b = timezone.localtime(start), timezone.localtime(end)
    if a == b:
        return f"{a:%d.%m.%Y}, {a:%H:%M}"
    if a.date() == b.date():
        return f"{a:%d.%m.%Y}, {a:%H:%M}–{b:%H:%M}"
    return f"{a:%d.%m.%Y %H:%M} – {b:%d.%m.%Y %H:%M}"


def _emailable(job: ServiceJob) -> bool:
    return bool(job.is_open and job.client.email and not job.client.users.filter(is_active=True).exists())


def job_time_change_email_owe(*, job_id: int, change: str) -> IntegrationLog | None:
    """Owe an e-mail (outbox job.time_change_email) when a change moved the date or window a client
    without a portal user was last e-mailed. Only clients already e-mailed about the job (the
    office's confirmation) hear of a change. Idempotent: the row's key is the new window, and a
    window already owed or told records nothing; the job's row lock serialises two changes."""
    if change not in TIME_CHANGES:
        return None
    e_mailed = IntegrationLog.objects.filter(object_type="hvaccrm.servicejob", object_id=str(job_id),
                                             kind__in=EMAIL_KINDS)
    if not e_mailed.exists():
        return None  # the common case (a portal client, a job never e-mailed): one query, no lock
    with transaction.atomic():
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("client").filter(pk=job_id).first()
        told = visit_told(job) if job is not None else None
        if told is None or not _emailable(job):
            return None
        last = e_mailed.order_by("-pk").first()
        key = told_key(told)
        # A confirmation recorded before its row carried a key says what it told once sent.
        if last is None or key in (last.payload.get("key"), last.details.get("told_key")):
            return None
        return record(source="integration", target=Target.NOTIFICATIONS, kind="job.time_change_email", obj=job,
                      payload={"job": job.pk, "key": key, "start": told[0].isoformat(), "end": told[1].isoformat()})


def job_time_change_email_send(*, job_id: int, log_id: int, key: str) -> dict[str, Any]:
    """E-mail the visit's new date and window, in the client's language. Sent once per row (marked
    right after the mail server took it, as the confirmation); a row whose window the job no longer
    has sends nothing: a later row tells the newer time."""
    if IntegrationLog.objects.filter(pk=log_id, details__has_key="emailed_at").exists():
        return {"sent": False, "reason": "already sent by this row"}
    job = ServiceJob.objects.select_related("client", "site", "technician__user").filter(pk=job_id).first()
    if job is None or not _emailable(job):
        return {"sent": False, "reason": "no job, no address, closed, or the client's users are notified"}
    told = visit_told(job)
    if told is None or told_key(told) != key:
        return {"sent": False, "reason": "superseded by a later change"}
    with translation.override(job.client.preferred_language or settings.LANGUAGE_CODE):
        subject = _("Change of date for your visit no. %(id)s") % {"id": job.pk}
        body = _("Hello %(name)s,\n\nthe time of your visit has changed: %(when)s.\nAddress: %(address)s\n"
                 "Technician: %(tech)s\n\nIf this does not suit you, call or write to us.") % {
            "name": job.client.name, "when": _window_words(*told), "address": job.site.street,
            "tech": (job.technician.user.first_name or str(job.technician)) if job.technician_id else "-"}
    text_send(channel="email", address=job.client.email, text=body, reference=f"job-{job.pk}-time-{log_id}",
              subject=str(subject))
    _mark_emailed(log_id)
    return {"sent": True}


def _mark_emailed(log_id: int, **extra: str) -> None:
    with transaction.atomic():
        row = IntegrationLog.objects.select_for_update().filter(pk=log_id).first()
        if row is not None:
            row.details = {**row.details, "emailed_at": timezone.now().isoformat(), **extra}
            row.save(update_fields=["details", "updated_at"])


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
