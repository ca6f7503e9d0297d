"""Maintenance notices (docs/maintenance.md): clients before a planned visit, with the one-click
link to move it; the office before an agreement ends and before an F-gas certificate lapses (the
technician too); the office when a client moved a visit.

Each run looks at a window ending N days ahead, not at the one day N days ahead: a night the beat
missed is caught up the next night. What makes a re-run (or two at once) tell nobody twice is the
notification's dedupe key, one per object and period: the visit and its day, the agreement and its
end, the certificate and its expiry. A visit moved, an agreement extended or a certificate renewed
is a new period and is told again."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import conf
from communications.models import Notification
from communications.services.common import User
from communications.services.notifications import NotificationSpec, notify
from hvaccrm.models import Agreement, ServiceJob, Technician
from hvaccrm.models.jobs import JobStatus
from hvaccrm.services.maintenance import visit_move_token

OFFICE_ROLES = ("dispatcher", "manager")


def _notify_new(*, user_ids: list[int], spec: NotificationSpec) -> int:
    """Notify the users who do not have this notice yet; the number newly told. (`notify` itself
    makes nothing twice for a dedupe key but answers with the existing ids too.)"""
    told = set(Notification.objects.filter(recipient_id__in=user_ids, dedupe_key=spec.dedupe_key)
               .values_list("recipient_id", flat=True))
    fresh = [u for u in dict.fromkeys(user_ids) if u not in told]
    return len(notify(user_ids=fresh, spec=spec)) if fresh else 0


def _office_notify(*, spec: NotificationSpec, also: tuple[int, ...] = ()) -> int:
    """Dispatchers and managers (and `also`); someone in both groups is told once."""
    office = User.objects.filter(groups__name__in=OFFICE_ROLES, is_active=True).values_list("pk", flat=True)
    return _notify_new(user_ids=[*office, *also], spec=spec)


def _office_language():
    # Office notices are written once for every recipient, in the office's language.
    return translation.override(settings.LANGUAGE_CODE[:2])


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), timezone.get_current_timezone())


def visit_move_link(*, job: ServiceJob) -> str:
    """The absolute one-click link of a visit's reminder (the portal's move page)."""
    token = visit_move_token(job=job)
    try:
        path = reverse("portal:maintenance_move", args=[token])
    except NoReverseMatch:  # the portal may not be mounted in every deployment
        path = f"/portal/maintenance/move/{token}/"
    return conf.SITE_URL.rstrip("/") + path


def maintenance_reminders_send(*, today: date | None = None) -> int:
    """Clients of planned visits (agreement visits, due checks) falling within the next
    MAINTENANCE_REMINDER_DAYS; a visit not yet given to a technician carries the move link.
    Returns the notifications made by this run."""
    today = today or timezone.localdate()
    first, last = _day_start(today + timedelta(days=1)), _day_start(today + timedelta(days=settings.MAINTENANCE_REMINDER_DAYS + 1))
    jobs = (ServiceJob.objects.filter(period_key__isnull=False, status__in=[JobStatus.NEW, JobStatus.SCHEDULED])
            .filter(Q(scheduled_start__gte=first, scheduled_start__lt=last)
                    | Q(scheduled_start__isnull=True, requested_start__gte=first, requested_start__lt=last))
            .select_related("client", "site", "equipment").order_by("pk"))
    made = 0
    for job in jobs:
        day = timezone.localdate(job.scheduled_start or job.requested_start)
        user_ids = list(job.client.users.filter(is_active=True).values_list("pk", flat=True))
        if not user_ids:
            continue
        movable = job.status == JobStatus.NEW
        link = visit_move_link(job=job) if movable else ""
        language = job.client.preferred_language or "pl"
        with translation.override(language):
            title = _("Maintenance visit on %(day)s") % {"day": day.strftime("%d.%m.%Y")}
            body = _("We plan the maintenance of %(unit)s at %(address)s on %(day)s.") % {
                "unit": job.equipment or _("your unit"), "address": job.site.address, "day": day.strftime("%d.%m.%Y")}
            if movable:
                body += " " + _("Does another day suit you better? Choose one here: %(link)s") % {"link": link}
        made += _notify_new(user_ids=user_ids, spec=NotificationSpec(
            kind="maintenance.reminder", title=str(title), body=str(body),
            payload={"job": job.pk, "day": day.isoformat(), "move_link": link, "language": language},
            related_type="hvaccrm.servicejob", related_id=str(job.pk),
            dedupe_key=f"maintenance.reminder:{job.pk}:{day.isoformat()}",
        ))
    return made


def agreement_end_notices_send(*, today: date | None = None) -> int:
    """The office, for active agreements ending within AGREEMENT_END_NOTICE_DAYS that were not
    renewed yet: renew one that should go on, let the others end."""
    today = today or timezone.localdate()
    ending = (Agreement.objects.filter(state=Agreement.State.ACTIVE, ends_on__gt=today,
                                       ends_on__lte=today + timedelta(days=settings.AGREEMENT_END_NOTICE_DAYS),
                                       renewal__isnull=True)
              .select_related("client").order_by("ends_on", "pk"))
    made = 0
    for agreement in ending:
        with _office_language():
            title = _("Agreement #%(id)s ends on %(day)s") % {"id": agreement.pk, "day": agreement.ends_on.strftime("%d.%m.%Y")}
            body = (_("The maintenance agreement of %(client)s renews automatically on %(day)s.")
                    if agreement.auto_renew else
                    _("The maintenance agreement of %(client)s ends on %(day)s; renew it or let it end.")) % {
                "client": agreement.client, "day": agreement.ends_on.strftime("%d.%m.%Y")}
        made += _office_notify(spec=NotificationSpec(
            kind="maintenance.agreement_ending", title=str(title), body=str(body),
            payload={"agreement": agreement.pk, "ends_on": agreement.ends_on.isoformat()},
            related_type="hvaccrm.agreement", related_id=str(agreement.pk),
            dedupe_key=f"agreement.ending:{agreement.pk}:{agreement.ends_on.isoformat()}",
        ))
    return made


def certificate_expiry_notices_send(*, today: date | None = None) -> int:
    """The office and the technician, for F-gas certificates lapsing within FGAS_EXPIRY_NOTICE_DAYS:
    after that day `technician_can_do` refuses the technician's refrigerant work."""
    today = today or timezone.localdate()
    lapsing = (Technician.objects.filter(active=True, fgas_certificate_expires_on__gt=today,
                                         fgas_certificate_expires_on__lte=today + timedelta(days=settings.FGAS_EXPIRY_NOTICE_DAYS))
               .select_related("user").order_by("fgas_certificate_expires_on", "pk"))
    made = 0
    for tech in lapsing:
        expires = tech.fgas_certificate_expires_on
        with _office_language():
            title = _("F-gas certificate of %(tech)s expires on %(day)s") % {"tech": tech, "day": expires.strftime("%d.%m.%Y")}
            body = _("Certificate %(number)s expires on %(day)s; from then on no refrigerant work can be "
                     "given to %(tech)s until a renewed certificate is recorded.") % {
                "number": tech.fgas_certificate_number or "-", "day": expires.strftime("%d.%m.%Y"), "tech": tech}
        spec = NotificationSpec(
            kind="maintenance.certificate_expiring", title=str(title), body=str(body),
            payload={"technician": tech.pk, "expires_on": expires.isoformat()},
            related_type="hvaccrm.technician", related_id=str(tech.pk),
            dedupe_key=f"fgas.expiring:{tech.pk}:{expires.isoformat()}",
        )
        made += _office_notify(spec=spec, also=(tech.user_id,) if tech.user_id else ())
    return made


def visit_moved_notify(*, job_id: int, day: str, previous_day: str) -> int:
    """The office learns that a client moved a planned visit by the reminder's link (outbox
    handler of notifications/visit.moved; idempotent by the visit and its new day)."""
    job = ServiceJob.objects.select_related("client", "site").filter(pk=job_id).first()
    if job is None:
        return 0
    with _office_language():
        title = _("A client moved a planned visit")
        body = _("%(client)s moved the visit #%(job)s at %(address)s from %(old)s to %(new)s.") % {
            "client": job.client, "job": job.pk, "address": job.site.address,
            "old": previous_day or "-", "new": day}
    return _office_notify(spec=NotificationSpec(
        kind="maintenance.visit_moved", title=str(title), body=str(body),
        payload={"job": job.pk, "day": day, "previous_day": previous_day},
        related_type="hvaccrm.servicejob", related_id=str(job.pk),
        dedupe_key=f"visit.moved:{job.pk}:{day}",
    ))


def maintenance_notices_send(*, today: date | None = None) -> dict[str, int]:
    """The nightly run of the three notices (one beat entry)."""
    return {
        "reminders": maintenance_reminders_send(today=today),
        "agreements_ending": agreement_end_notices_send(today=today),
        "certificates_expiring": certificate_expiry_notices_send(today=today),
    }
