"""The core's part of a client's personal data: the client, sites, equipment, jobs, feedback, consents,
the portal logins (users and their devices), and the copies in logs (outbox payloads, the admin's
change log, django-axes' lockout records). Registered last (order 90): see hvaccrm.privacy."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from hvaccrm.models import (
    AccessRecord,
    Agreement,
    Client,
    Consent,
    Equipment,
    IntegrationLog,
    JobFeedback,
    RefrigerantRecord,
    ServiceJob,
    Site,
)
from hvaccrm.models.jobs import ServiceJobEvent
from hvaccrm.privacy import ErasureContext, pseudonym, register_privacy
from hvaccrm.realtime.control import rights_changed
from hvaccrm.selectors import job_history

User = get_user_model()

# Report keys kept after erasure: the F-gas register needs refrigerant amounts and the leak check.
REPORT_KEEP = {"refrigerant", "leak_check", "refrigerant_added_kg", "refrigerant_recovered_kg", "result"}
# Payload keys that can carry personal data (free text, precise location, names).
PAYLOAD_PERSONAL = {"text", "latitude", "longitude", "description", "comment", "name", "email", "phone", "address", "street"}


def erasure_context(*, client: Client, actor) -> ErasureContext:
    """What the erasure needs to know before any app changes a row."""
    users = list(client.users.order_by("pk"))
    return ErasureContext(
        client_id=client.pk, actor=actor, alias=pseudonym(client.pk), user_ids=[u.pk for u in users],
        login_names=[u.username for u in users] + [u.email for u in users if u.email],
        job_ids=list(ServiceJob.objects.filter(client_id=client.pk).values_list("pk", flat=True)),
        site_ids=list(Site.objects.filter(client_id=client.pk).values_list("pk", flat=True)),
    )


# --- export -------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _technician_name(job: ServiceJob) -> str | None:
    if not job.technician_id:
        return None
    user = job.technician.user
    return user.get_full_name() or user.get_username()


def _export_client(client: Client) -> dict[str, Any]:
    return {
        "id": client.pk, "kind": client.kind, "name": client.name, "nip": client.nip, "email": client.email,
        "phone": client.phone, "billing_address": client.billing_address,
        "preferred_language": client.preferred_language, "created_at": _iso(client.created_at),
        "updated_at": _iso(client.updated_at),
    }


def _export_users(client: Client) -> list[dict[str, Any]]:
    return [
        {"id": u.pk, "username": u.username, "email": u.email, "first_name": u.first_name,
         "last_name": u.last_name, "date_joined": _iso(u.date_joined), "last_login": _iso(u.last_login)}
        for u in client.users.order_by("pk")
    ]


def _export_sites(client: Client) -> list[dict[str, Any]]:
    return [
        {"id": s.pk, "label": s.label, "street": s.street, "postal_code": s.postal_code, "city": s.city,
         "district": s.district.name if s.district_id else None, "latitude": s.latitude, "longitude": s.longitude}
        for s in Site.objects.filter(client=client).select_related("district").order_by("id")
    ]


def _export_equipment(client: Client) -> list[dict[str, Any]]:
    return [
        {"id": e.pk, "site": e.site_id, "kind": e.kind, "brand": e.brand, "model": e.model,
         "serial_number": e.serial_number, "refrigerant": e.refrigerant,
         "refrigerant_charge_kg": str(e.refrigerant_charge_kg), "installed_on": _iso(e.installed_on),
         "warranty_until": _iso(e.warranty_until), "last_maintenance_on": _iso(e.last_maintenance_on),
         "last_leak_check_on": _iso(e.last_leak_check_on)}
        for e in Equipment.objects.filter(site__client=client).order_by("id")
    ]


def _export_visits(client: Client) -> list[dict[str, Any]]:
    jobs = ServiceJob.objects.filter(client=client).select_related("technician__user").order_by("id")
    return [
        {"id": j.pk, "site": j.site_id, "equipment": j.equipment_id, "service_type": j.service_type,
         "urgency": j.urgency, "status": j.status, "source": j.source, "description": j.description,
         "requested_start": _iso(j.requested_start), "requested_end": _iso(j.requested_end),
         "scheduled_start": _iso(j.scheduled_start), "scheduled_end": _iso(j.scheduled_end),
         "technician": _technician_name(j), "completed_at": _iso(j.completed_at),
         "report": j.report, "created_at": _iso(j.created_at),
         "history": [{"at": _iso(h["at"]), "changes": {f: [_iso(a) if hasattr(a, "isoformat") else a,
                                                          _iso(b) if hasattr(b, "isoformat") else b]
                                                      for f, (a, b) in h["changes"].items()}}
                     for h in job_history(job_id=j.pk, client_safe=True)]}
        for j in jobs
    ]


def _export_ledgers(client: Client) -> dict[str, list[dict[str, Any]]]:
    """Feedback, the consent ledger and the access trail (the last 1000 entries)."""
    trail = AccessRecord.objects.filter(subject_client_id=client.pk).order_by("created_at", "id")[:1000]
    return {
        "feedback": [
            {"id": f.pk, "visit": f.job_id, "rating": f.rating, "comment": f.comment, "created_at": _iso(f.created_at)}
            for f in JobFeedback.objects.filter(client=client).order_by("id")
        ],
        "consents": [
            {"purpose": c.purpose, "granted": c.granted, "channel": c.channel, "text_version": c.text_version,
             "created_at": _iso(c.created_at)}
            for c in Consent.objects.filter(client=client).order_by("created_at", "id")
        ],
        "access_trail": [
            {"time": _iso(a.created_at), "who": a.actor_label, "action": a.action,
             "object": f"{a.object_type}:{a.object_id}", "purpose": a.purpose}
            for a in trail
        ],
    }


def _export_agreements(client: Client) -> list[dict[str, Any]]:
    agreements = Agreement.objects.filter(client=client).prefetch_related("sites", "equipment").order_by("id")
    return [
        {"id": a.pk, "state": a.state, "starts_on": _iso(a.starts_on), "ends_on": _iso(a.ends_on),
         "ended_on": _iso(a.ended_on), "visits_per_year": a.visits_per_year, "price": str(a.price),
         "auto_renew": a.auto_renew, "sites": [s.pk for s in a.sites.all()], "equipment": [e.pk for e in a.equipment.all()]}
        for a in agreements
    ]


def _export_refrigerant(client: Client) -> list[dict[str, Any]]:
    records = RefrigerantRecord.objects.filter(equipment__site__client=client).order_by("equipment_id", "performed_on", "id")
    return [
        {"visit": r.job_id, "equipment": r.equipment_id, "performed_on": _iso(r.performed_on),
         "refrigerant": r.refrigerant, "added_kg": str(r.added_kg), "recovered_kg": str(r.recovered_kg),
         "leak_check_done": r.leak_check_done, "leak_result": r.leak_result, "leak_location": r.leak_location,
         "repair": r.repair, "certificate_number": r.certificate_number}
        for r in records
    ]


def export(*, client: Client) -> dict[str, Any]:
    """The core's rows about one client, as plain JSON (the portal's export shows them at its top)."""
    return {
        "client": _export_client(client), "portal_users": _export_users(client), "sites": _export_sites(client),
        "equipment": _export_equipment(client), "visits": _export_visits(client), **_export_ledgers(client),
        "agreements": _export_agreements(client), "refrigerant_records": _export_refrigerant(client),
    }


# --- erasure ------------------------------------------------------------------------------------


def _erase_rows(context: ErasureContext) -> int:
    """Anonymise the client, its sites, units, jobs and feedback; returns the jobs updated. The jobs,
    units with refrigerant and consents stay, pseudonymised (portal.selectors.retained_records)."""
    now, alias, client_id = timezone.now(), context.alias, context.client_id
    Client.objects.filter(pk=client_id).update(
        name=alias, email="", phone="", billing_address="", notes="", kind=Client.Kind.RESIDENTIAL, nip="",
        anonymised_at=now, updated_at=now)
    Site.objects.filter(client_id=client_id).update(label="", street=alias, postal_code="", latitude=None,
                                                    longitude=None)
    Equipment.objects.filter(site__client_id=client_id).update(serial_number="")
    jobs_updated = 0
    for job in ServiceJob.objects.filter(client_id=client_id).only("pk", "report"):
        report = {k: v for k, v in (job.report or {}).items() if not isinstance(v, str) or k in REPORT_KEEP}
        jobs_updated += ServiceJob.objects.filter(pk=job.pk).update(
            description="", report=report, latitude=None, longitude=None)
    JobFeedback.objects.filter(client_id=client_id).update(comment="")
    _erase_job_history(context)
    return jobs_updated


def _erase_job_history(context: ErasureContext) -> int:
    """The job history's rows copy each version's description, report and point: the same erasure
    as the jobs themselves (after them: the erasing update wrote history rows of its own)."""
    return ServiceJobEvent.objects.filter(pgh_obj_id__in=context.job_ids).update(
        description="", report={}, latitude=None, longitude=None)


def _erase_users(context: ErasureContext) -> int:
    """The client's logins can no longer sign in and carry no name or address; their API tokens and
    second-factor devices go."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from knox.models import AuthToken

    for user in User.objects.filter(pk__in=context.user_ids):
        user.username = f"{context.alias}-user-{user.pk}"
        user.email = user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["username", "email", "first_name", "last_name", "is_active", "password"])
    for model in (AuthToken, TOTPDevice, StaticDevice):
        model.objects.filter(user_id__in=context.user_ids).delete()
    # Their open sockets were authorised at connect: told after commit, they close (4401) instead
    # of hearing the erased client's visits and messages until the tab is closed.
    rights_changed(user_ids=context.user_ids)
    return len(context.user_ids)


def _scrub_outbox(context: ErasureContext) -> int:
    """Outbox payloads copy message texts, descriptions and coordinates: drop those keys from every
    row about the client or about an object an app related to it."""
    context.relate("hvaccrm.servicejob", context.job_ids)
    context.relate("hvaccrm.client", [context.client_id])
    context.relate("hvaccrm.site", context.site_ids)
    log_q = IntegrationLog.objects.filter(payload__client=context.client_id)
    for object_type, ids in context.related.items():
        if ids:
            log_q = log_q | IntegrationLog.objects.filter(object_type=object_type, object_id__in=sorted(ids))
    scrubbed = 0
    for row in log_q.distinct():
        payload = {k: v for k, v in (row.payload or {}).items() if k not in PAYLOAD_PERSONAL}
        if payload != row.payload:
            IntegrationLog.objects.filter(pk=row.pk).update(payload=payload)
            scrubbed += 1
    return scrubbed


def _scrub_admin_log(context: ErasureContext) -> int:
    """The admin's change log names the object and what changed ("Changed phone for Anna ...")."""
    changed = 0
    for model, ids in ((Client, [context.client_id]), (Site, context.site_ids), (ServiceJob, context.job_ids)):
        ct = ContentType.objects.get_for_model(model)
        changed += LogEntry.objects.filter(content_type=ct, object_id__in=[str(i) for i in ids]).update(
            object_repr=context.alias, change_message="")
    return changed


def _axes_forget(context: ErasureContext) -> int:
    """django-axes keeps the usernames (here: e-mails) of sign-in attempts, with IP and browser."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    names = [n for n in context.login_names if n]
    return sum(model.objects.filter(username__in=names).delete()[0]
               for model in (AccessAttempt, AccessLog, AccessFailureLog))


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    """The core's erasure. The access trail is immutable (audit's database trigger) and is retained;
    portal logins have pseudonymous usernames for that reason, so its actor labels carry no e-mail."""
    jobs = _erase_rows(context)
    users = _erase_users(context)
    return {"jobs": jobs, "users": users, "sites": len(context.site_ids), "log_rows_scrubbed": _scrub_outbox(context),
            "admin_log": _scrub_admin_log(context), "lockout_records": _axes_forget(context)}


register_privacy(
    "core", order=90, export=export, erase=erase,
    covers=("hvaccrm.Client", "hvaccrm.Site", "hvaccrm.Equipment", "hvaccrm.ServiceJob", "hvaccrm.ServiceJobEvent",
            "hvaccrm.JobFeedback",
            "hvaccrm.IntegrationLog", "auth.User", "admin.LogEntry", "knox.AuthToken", "otp_totp.TOTPDevice",
            "otp_static.StaticDevice", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"),
    retains={
        "hvaccrm.Consent": "proof of consent (GDPR art. 7(1)); the ledger holds no contact data",
        "hvaccrm.Agreement": "the maintenance contract, its term and price: accounting records (Accounting Act "
                             "art. 74); it holds ids and dates, no contact data or free text",
        "hvaccrm.RefrigerantRecord": "the F-gas register the operator must keep (EU 2024/573 art. 6, 5 years); "
                                     "quantities and leak results of a unit, no contact data",
        "hvaccrm.AccessRecord": "accountability of the controller (GDPR art. 5(2)); immutable, "
                                "its actor labels are pseudonymous usernames",
    },
)
