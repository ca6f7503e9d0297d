"""The portal's writes: access (invitations, sign-in links, sessions), booking and changes to
visits, feedback, and the client's rights over their data (RODO). Views call these and nothing else
writes. Job changes go through the core's job services, which record the outbox rows."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from hvaccrm.cache import UNAVAILABLE as CACHE_UNAVAILABLE
from hvaccrm.errors import ServiceError
from hvaccrm.models import Client, Consent, Equipment, ServiceJob, Site
from hvaccrm.models.jobs import OPEN_STATUSES, JobSource, JobStatus, ServiceType, Urgency
from hvaccrm.privacy import client_erase_all
from hvaccrm.privacy_core import erasure_context
from hvaccrm.safety import gas_safety_instruction
from hvaccrm.services import access_record, job_create, job_feedback_give, job_reschedule, job_transition
from integration import portal as subsystems
from portal import conf, selectors
from portal.models import Booking, ErasureRequest, LoginLink, PortalSession

logger = logging.getLogger(__name__)
User = get_user_model()


def _not_found() -> ServiceError:
    return ServiceError(_("Not found."), code="not_found", status_code=404)


def _client_language(user) -> str:
    client = Client.objects.filter(users=user).order_by("pk").first()
    return client.preferred_language if client else settings.LANGUAGE_CODE


# --- sign-in links ------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_link_create(*, user, purpose: str = LoginLink.Purpose.LOGIN, created_by=None) -> tuple[LoginLink, str]:
    """A new single-use link for `user`; returns the row and the raw token (only ever in the e-mail)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    lifetime = (timedelta(hours=conf.INVITE_LINK_HOURS) if purpose == LoginLink.Purpose.INVITE
                else timedelta(minutes=conf.LOGIN_LINK_MINUTES))
    link = LoginLink.objects.create(user=user, token_hash=_hash(token), purpose=purpose, created_at=now,
                                    expires_at=now + lifetime, created_by=created_by)
    return link, token


def login_link_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("portal:link_login", kwargs={"token": token})


def login_link_send(*, user, purpose: str = LoginLink.Purpose.LOGIN, created_by=None) -> None:
    """Owe the user a sign-in (or invitation) link: an outbox row in the caller's transaction, sent
    and retried through communications' e-mail delivery. The link itself is issued when the e-mail
    goes out (signin_link_issue), so no raw token is ever stored, and a retry carries a fresh one."""
    subsystems.signin_link_record(user_id=user.pk, purpose=purpose,
                                  created_by_id=created_by.pk if created_by is not None else None)


def signin_link_issue(*, user_id: int, purpose: str, created_by_id: int | None = None) -> dict[str, str] | None:
    """A new link for one send attempt and its e-mail's wording in the client's language (called by
    the outbox handler through integration, which imports no portal): {"url", "title", "body",
    "language", "address"}; None when the user can no longer sign in. The body holds no link: the
    e-mail adds it below, and only the e-mail carries it."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return None
    created_by = User.objects.filter(pk=created_by_id).first() if created_by_id else None
    link, token = login_link_create(user=user, purpose=purpose, created_by=created_by)
    minutes = int((link.expires_at - link.created_at).total_seconds() // 60)
    language = _client_language(user)
    with translation.override(language):
        if purpose == LoginLink.Purpose.INVITE:
            title, template = _("Your access to the client portal"), "portal/email/invite.txt"
        else:
            title, template = _("Your sign-in link"), "portal/email/login_link.txt"
        body = render_to_string(template, {"minutes": minutes, "user": user, "site_url": settings.SITE_URL})
    return {"url": login_link_url(token), "title": str(title), "body": body.strip(), "language": language,
            "address": user.email}


def _rate_limited(key: str, *, limit: int = conf.LINK_REQUESTS_PER_WINDOW,
                  window_seconds: int = conf.LINK_REQUEST_WINDOW_SECONDS) -> bool:
    """Count one more use of `key` in its window; True once the count passes `limit`, and True
    while the cache cannot count (Redis down): login throttling fails closed."""
    cache_key = f"portal:rate:{window_seconds}:{hashlib.sha256(key.encode()).hexdigest()}"
    cache.add(cache_key, 0, window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the key expired between add and incr
        cache.set(cache_key, 1, window_seconds)
        count = 1
    except CACHE_UNAVAILABLE:
        logger.warning("sign-in link refused: the rate limit cannot count (cache unavailable)")
        return True
    return count > limit


def login_link_request(*, email: str, ip_address: str | None = None) -> bool:
    """E-mail a sign-in link when the address belongs to an active portal user. The caller answers
    the same either way, so the form does not tell who is a client. Returns whether one was sent."""
    email = (email or "").strip().lower()
    if not email or _rate_limited(f"email:{email}") or (ip_address and _rate_limited(f"ip:{ip_address}")):
        return False
    user = User.objects.filter(email__iexact=email, is_active=True, clients__isnull=False).distinct().first()
    if user is None:
        return False
    with transaction.atomic():
        login_link_send(user=user)
    return True


def login_link_peek(*, token: str):
    """The user a still-valid link would sign in (for the confirmation page); None otherwise."""
    link = LoginLink.objects.filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=timezone.now(),
                                    user__is_active=True).select_related("user").first()
    return link.user if link else None


def login_link_redeem(*, token: str):
    """Use a link: one conditional UPDATE, so two concurrent clicks cannot both succeed."""
    now = timezone.now()
    with transaction.atomic():
        link = (LoginLink.objects.select_for_update().filter(token_hash=_hash(token or ""))
                .select_related("user").first())
        if link is None or link.used_at is not None or link.expires_at <= now or not link.user.is_active:
            return None
        updated = LoginLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not updated:
            return None
        # Older unused links of the same account are retired: the newest sign-in wins.
        LoginLink.objects.filter(user=link.user, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        access_record(actor=link.user, action="view", object_type="portal.loginlink", object_id=link.pk,
                      subject_client_id=_first_client_id(link.user), purpose="passwordless sign-in")
    return link.user


def _first_client_id(user) -> int | None:
    return Client.objects.filter(users=user).order_by("pk").values_list("pk", flat=True).first()


def username_for_email(email: str) -> str | None:
    """The username of the portal login with this e-mail (clients are preferred over staff)."""
    users = User.objects.filter(email__iexact=(email or "").strip()).order_by("is_staff", "pk")
    user = users.filter(clients__isnull=False).first() or users.first()
    return user.get_username() if user else None


# --- invitations --------------------------------------------------------------------------------


def client_invite(*, client: Client, actor) -> Any:
    """Create (or reuse) the client's portal login from their e-mail and send an invitation link."""
    email = (client.email or "").strip().lower()
    if not email:
        raise ServiceError(_("The client has no e-mail address."), code="no_email", fields={"email": [_("Required.")]})
    if client.anonymised_at:
        raise ServiceError(_("This client was erased."), code="erased")
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).order_by("pk").first()
        if user is None:
            # A pseudonymous username: it is what the access trail records, and that trail outlives
            # an erasure; the client signs in with the e-mail address (username_for_email).
            user = User(username=f"client-{secrets.token_hex(5)}", email=email)
            user.set_unusable_password()
            user.save()
        if user.is_staff:
            raise ServiceError(_("This address belongs to a staff account."), code="staff_account")
        group = Group.objects.filter(name="client").first()
        if group is not None:
            user.groups.add(group)
        client.users.add(user)
        login_link_send(user=user, purpose=LoginLink.Purpose.INVITE, created_by=actor)
        access_record(actor=actor, action="create", obj=client, subject_client_id=client.pk,
                      purpose="portal invitation", fields=["users"])
    return user


# --- sessions -----------------------------------------------------------------------------------


def session_register(*, user, session_key: str | None) -> None:
    if session_key:
        PortalSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


def session_end_all(*, user) -> int:
    """End every session of this user (all devices), including the current one."""
    # The configured session backend, as Django's SessionMiddleware finds it (a setting names it).
    session_store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    keys = list(PortalSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        session_store(session_key=key).delete()
    PortalSession.objects.filter(user=user).delete()
    return len(keys)


# --- booking and visits -------------------------------------------------------------------------


def description_triage(description: str) -> tuple[bool, str]:
    """(gas or carbon monoxide, urgency) of a booking description, by the one triage classifier
    (communications', the same as for messages: a gas smell is an emergency wherever it is written)."""
    verdict = subsystems.classify(description)
    return bool(verdict["gas"]), verdict["urgency"] if verdict["urgency"] in Urgency.values else Urgency.NORMAL


def description_triage_live(*, user, description: str) -> dict[str, Any]:
    """What the booking page shows while the client types: the urgency and, for gas or carbon
    monoxide, the one safety instruction (hvaccrm.safety) in the page's language.

    Rate limited per user (each call runs the classifier): over the limit it raises ServiceError,
    and the page keeps what it showed; the booking itself is classified again when it is sent.
    """
    if _rate_limited(f"triage:{user.pk}", limit=conf.TRIAGE_CHECKS_PER_MINUTE, window_seconds=60):
        raise ServiceError(_("Too many checks: please wait a moment."), code="rate_limited", status_code=429)
    gas, urgency = description_triage((description or "")[:conf.TRIAGE_MAX_CHARS])
    return {"urgency": urgency, "emergency": urgency == Urgency.EMERGENCY, "gas": gas,
            "safety_instruction": gas_safety_instruction() if gas else None}


def _lock_district(district_id: int | None) -> None:
    """Serialise bookings per district so two clients cannot both take the last place in a window."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7, district_id or 0])


def _open_window(*, site: Site, key: str, now: datetime, exclude_job_id: int | None = None) -> tuple[datetime, datetime]:
    bounds = selectors.window_from_key(key)
    if bounds is None:
        raise ServiceError(_("There is no such window."), fields={"windows": [_("Choose a window from the list.")]})
    if bounds[0] < now:
        raise ServiceError(_("This window is in the past."), fields={"windows": [_("This window is in the past.")]})
    for window in selectors.window_list(site=site, now=now, exclude_job_id=exclude_job_id):
        if window.key == key:
            if not window.open:
                raise ServiceError(_("This window is not open for booking."),
                                   fields={"windows": [_("This window is not open (%(reason)s).") % {"reason": window.reason}]})
            return bounds
    raise ServiceError(_("This window is outside the booking period."), fields={"windows": [_("Choose a window from the list.")]})


def booking_create(*, user, site_id: int, service_type: str, description: str = "", window_keys: list[str] | None = None,
                   equipment_id: int | None = None, now: datetime | None = None) -> tuple[ServiceJob, Booking]:
    """Book a visit: validate ownership and windows, create the job (source portal) through the core,
    keep the preferred windows. An emergency-sounding description skips the windows and is routed
    to on-shift technicians at once."""
    now = now or timezone.now()
    ids = selectors.client_ids_for_user(user=user)
    site = Site.objects.filter(pk=site_id, client_id__in=ids).select_related("district").first() if site_id else None
    if site is None:
        raise ServiceError(_("Choose one of your sites."), fields={"site": [_("Choose one of your sites.")]})
    if service_type not in ServiceType.values:
        raise ServiceError(_("Choose a service type."), fields={"service_type": [_("Choose a service type.")]})
    equipment = None
    if equipment_id:
        equipment = Equipment.objects.filter(pk=equipment_id, site=site).first()
        if equipment is None:
            raise ServiceError(_("Choose a unit at this site."), fields={"equipment": [_("Choose a unit at this site.")]})
    description = (description or "").strip()
    gas, urgency = description_triage(description)
    emergency = urgency == Urgency.EMERGENCY
    keys = [k for k in dict.fromkeys(window_keys or []) if k]
    if len(keys) > 3:
        raise ServiceError(_("Choose at most three windows."), fields={"windows": [_("Choose at most three windows.")]})
    if not emergency and not keys:
        raise ServiceError(_("Choose at least one window."), fields={"windows": [_("Choose at least one window.")]})
    with transaction.atomic():
        _lock_district(site.district_id)
        if emergency:
            # A client who resubmits the same emergency (no answer fast enough, a double click)
            # gets the booking they already made, not a second job and a second alert.
            again = _emergency_booking_again(user=user, site=site, description=description, now=now)
            if again is not None:
                return again.job, again
        # An emergency is handled at once: the preferred windows do not apply (nor can they block it).
        bounds = [] if emergency else sorted(_open_window(site=site, key=k, now=now) for k in keys)
        first = bounds[0] if bounds else (None, None)
        job = job_create(
            site=site, service_type=service_type, description=description,
            urgency=urgency, source=JobSource.PORTAL, equipment=equipment,
            requested_start=first[0], requested_end=first[1], actor=user,
        )
        booking = Booking.objects.create(
            job=job, booked_by=user, emergency=emergency, gas_warning=gas,
            windows=[{"start": a.isoformat(), "end": b.isoformat()} for a, b in bounds],
        )
        access_record(actor=user, action="create", obj=job, subject_client_id=site.client_id, purpose="portal booking")
        # Both owed through the outbox in this transaction, each its own row: the alert (on the
        # emergency queue) never depends on the e-mail, and neither can be lost after the commit.
        if emergency:
            subsystems.emergency_booking_record(job=job)
        subsystems.booking_confirmation_record(job=job, user_id=user.pk)
    return job, booking


def _emergency_booking_again(*, user, site: Site, description: str, now: datetime) -> Booking | None:
    """The same emergency booked by the same user at the same site a moment ago, still open."""
    since = now - timedelta(minutes=conf.EMERGENCY_RESUBMIT_MINUTES)
    return (Booking.objects.filter(booked_by=user, emergency=True, job__site=site, job__description=description,
                                   created_at__gte=since, job__status__in=OPEN_STATUSES)
            .select_related("job").order_by("-created_at").first())


def _own_job(*, user, job_id: int, lock: bool = False) -> ServiceJob:
    qs = ServiceJob.objects.filter(pk=job_id, client_id__in=selectors.client_ids_for_user(user=user))
    job = qs.select_related("site", "site__district").first()
    if job is None:
        raise _not_found()
    return job


def visit_cancel(*, user, job_id: int, now: datetime | None = None) -> ServiceJob:
    job = _own_job(user=user, job_id=job_id)
    if not selectors.visit_changeable(job, now=now):
        raise ServiceError(_("This visit can no longer be cancelled in the portal; please call the office."),
                           code="cutoff_passed")
    with transaction.atomic():
        job = job_transition(job=job, to_status=JobStatus.CANCELLED, actor=user, reason="cancelled by the client")
        access_record(actor=user, action="change", obj=job, subject_client_id=job.client_id, purpose="visit cancelled",
                      fields=["status"])
    return job


def visit_move(*, user, job_id: int, window_key: str, now: datetime | None = None) -> ServiceJob:
    now = now or timezone.now()
    job = _own_job(user=user, job_id=job_id)
    if not selectors.visit_changeable(job, now=now):
        raise ServiceError(_("This visit can no longer be moved in the portal; please call the office."),
                           code="cutoff_passed")
    with transaction.atomic():
        _lock_district(job.site.district_id)
        start, end = _open_window(site=job.site, key=window_key, now=now, exclude_job_id=job.pk)
        job = job_reschedule(job=job, scheduled_start=start, scheduled_end=end, actor=user)
        access_record(actor=user, action="change", obj=job, subject_client_id=job.client_id, purpose="visit moved",
                      fields=["scheduled_start", "scheduled_end"])
    return job


def feedback_give(*, user, job_id: int, rating: int, comment: str = ""):
    job = _own_job(user=user, job_id=job_id)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ServiceError(_("Choose a rating from 1 to 5."), fields={"rating": [_("Choose a rating from 1 to 5.")]})
    with transaction.atomic():
        feedback = job_feedback_give(job=job, rating=rating, comment=(comment or "").strip(), actor=user)
        access_record(actor=user, action="create", obj=feedback, subject_client_id=job.client_id, purpose="visit feedback")
    return feedback


# --- the client's own data (RODO) ---------------------------------------------------------------

CONTACT_FIELDS = ("name", "email", "phone", "billing_address", "preferred_language")


def contact_update(*, user, client: Client, data: dict[str, Any], request=None) -> list[str]:
    """Correct contact data (RODO art. 16). Returns the names of the fields that changed."""
    if client.pk not in selectors.client_ids_for_user(user=user):
        raise _not_found()
    changed = [f for f in CONTACT_FIELDS if f in data and (data[f] or "") != getattr(client, f)]
    for f in changed:
        setattr(client, f, (data[f] or "").strip())
    try:
        client.full_clean()
    except ValidationError as err:
        raise ServiceError(_("Please correct the marked fields."), fields=err.message_dict)
    if changed:
        with transaction.atomic():
            client.save(update_fields=[*changed, "updated_at"])
            access_record(actor=user, action="change", obj=client, subject_client_id=client.pk,
                          purpose="contact data corrected by the client (art. 16)", fields=changed, request=request)
    return changed


def consent_set(*, user, client: Client, purpose: str, granted: bool, request=None) -> Consent | None:
    """Append a ledger entry when the choice differs from the current one; returns it (or None)."""
    if client.pk not in selectors.client_ids_for_user(user=user):
        raise _not_found()
    if purpose not in Consent.Purpose.values:
        raise ServiceError(_("Unknown purpose."), fields={"purpose": [_("Unknown purpose.")]})
    current = selectors.consent_state(client=client).get(purpose)
    if current is not None and current.granted == bool(granted):
        return None
    with transaction.atomic():
        entry = Consent.objects.create(client=client, purpose=purpose, granted=bool(granted),
                                       channel=Consent.Channel.PORTAL, text_version=conf.CONSENT_TEXT_VERSION,
                                       recorded_by=user)
        access_record(actor=user, action="change", obj=entry, subject_client_id=client.pk,
                      purpose=f"consent {'granted' if granted else 'withdrawn'}: {purpose}", request=request)
    return entry


def data_export_record(*, user, client: Client, fmt: str, request=None) -> dict[str, Any]:
    if client.pk not in selectors.client_ids_for_user(user=user):
        raise _not_found()
    data = selectors.client_data_export(client=client)
    access_record(actor=user, action="export", obj=client, subject_client_id=client.pk,
                  purpose=f"data export by the client ({fmt}, art. 15/20)", request=request)
    return data


def erasure_request_create(*, user, client: Client, reason: str = "") -> ErasureRequest:
    if client.pk not in selectors.client_ids_for_user(user=user):
        raise _not_found()
    with transaction.atomic():
        existing = ErasureRequest.objects.filter(client_id=client.pk, state=ErasureRequest.State.REQUESTED).first()
        if existing:
            return existing
        req = ErasureRequest.objects.create(client_id=client.pk, reason=(reason or "").strip()[:2000])
        access_record(actor=user, action="create", object_type="portal.erasurerequest", object_id=req.pk,
                      subject_client_id=client.pk, purpose="erasure requested by the client (art. 17)")
        req_id = req.pk
        transaction.on_commit(lambda: subsystems.managers_tell(
            kind="portal.erasure_requested", title=_("Erasure request"),
            body=_("A client asked for erasure of their data (request %(id)s); execute it in the admin.") % {"id": req_id},
            related_type="portal.erasurerequest", related_id=str(req_id), dedupe_key=f"portal:erasure:{req_id}"))
    return req


def erasure_execute(*, request_id: int, actor) -> ErasureRequest:
    """Staff carry out a pending erasure request (admin action)."""
    with transaction.atomic():
        req = ErasureRequest.objects.select_for_update().get(pk=request_id)
        if req.state != ErasureRequest.State.REQUESTED:
            raise ServiceError(_("This request was already handled."), code="handled")
        client = Client.objects.get(pk=req.client_id)
        email, language = client.email, client.preferred_language or settings.LANGUAGE_CODE
        user_id = client.users.order_by("pk").values_list("pk", flat=True).first()
        summary = client_erase(client_id=req.client_id, actor=actor)
        req.state, req.executed_at, req.executed_by, req.summary = (
            ErasureRequest.State.EXECUTED, timezone.now(), actor, summary)
        req.reason = ""  # the client's free-text note is personal data as well
        req.save(update_fields=["state", "executed_at", "executed_by", "summary", "reason"])
        if email and user_id:  # the address is gone from the database; this notice is its last use
            _erasure_notice(user_id=user_id, email=email, language=language, request_id=req.pk)
    return req


def _erasure_notice(*, user_id: int, email: str, language: str, request_id: int) -> None:
    """Recorded after the erase, in its transaction: the erase would blank the delivery's address;
    the notice commits with the erasure or not at all, and its delivery forgets the address once sent."""
    with translation.override(language):
        title = str(_("Your data has been erased"))
        body = render_to_string("portal/email/erasure_done.txt", {"retained": selectors.retained_records()})
    subsystems.erasure_notice_record(user_id=user_id, address=email, language=language, title=title,
                                     body=body.strip(), request_id=request_id)


def client_erase(*, client_id: int, actor) -> dict[str, Any]:
    """Anonymise one client everywhere: every app's privacy module, in the registry's order (see
    hvaccrm.privacy); what the law requires is kept, pseudonymised (selectors.retained_records).
    Idempotent: running it twice changes nothing more. Returns the counts of all apps, flat (each
    app names its own counts)."""
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client_id)
        context = erasure_context(client=client, actor=actor)
        done = client_erase_all(client=client, context=context)
        access_record(actor=actor, action="erase", obj=client, subject_client_id=client_id,
                      purpose="erasure executed (art. 17); retained records pseudonymised")
    summary: dict[str, Any] = {"client": client_id}
    for counts in done.values():
        summary.update(counts)
    return summary
