"""Portal pages. Thin: parse the request, call a selector or a service, render. Every object is
looked up through the selectors scoped to the signed-in client, so foreign ids give 404."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hvaccrm.errors import ServiceError
from hvaccrm.models import Client, Consent
from hvaccrm.services import access_record
from hvaccrm.services.maintenance import visit_from_move_token, visit_move_to_day, visit_windows_open
from integration import portal as subsystems
from portal import conf, selectors, services
from portal.forms import (
    BookingForm,
    ConsentForm,
    ContactForm,
    EmailAuthenticationForm,
    ErasureForm,
    FeedbackForm,
    LinkRequestForm,
    MaintenanceMoveForm,
    MoveForm,
)
from portal.models import Booking, ErasureRequest


def _page(request, template: str, context: dict | None = None, status: int = 200):
    """Render a portal page with what the navigation needs (unread notifications)."""
    ctx = {"portal_nav": True, "unread_count": subsystems.notification_unread_count(user=request.user)}
    ctx.update(context or {})
    return render(request, template, ctx, status=status)


def client_required(view):
    """Signed in and linked to a (not erased) client; office staff have the admin, not the portal."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        client = selectors.client_for_user(user=request.user)
        if client is None:
            return _page(request, "portal/no_client.html", status=403)
        request.portal_client = client
        return view(request, *args, **kwargs)

    return wrapper


def _form_errors(form, err: ServiceError) -> None:
    for field, errors in (err.fields or {}).items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)
    if not err.fields:
        form.add_error(None, err.message)


# --- access -------------------------------------------------------------------------------------


class PortalLoginView(auth_views.LoginView):
    """E-mail and password sign-in (django-axes counts the failures and locks the account)."""

    template_name = "portal/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("portal:home")


def home(request):
    if not request.user.is_authenticated:
        return redirect("portal:login")
    return dashboard(request)


@require_http_methods(["GET", "POST"])
def link_request(request):
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.login_link_request(email=form.cleaned_data["email"], ip_address=request.META.get("REMOTE_ADDR"))
        return _page(request, "portal/link_sent.html", {"minutes": conf.LOGIN_LINK_MINUTES})
    return _page(request, "portal/link_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def link_login(request, token: str):
    """GET shows a button (mail scanners that prefetch links must not use them up); POST signs in."""
    if request.method == "GET":
        user = services.login_link_peek(token=token)
        if user is None:
            return _page(request, "portal/link_invalid.html", status=410)
        return _page(request, "portal/link_confirm.html", {"account": user.email or user.get_username()})
    pending = services.login_link_peek(token=token)
    if pending is not None and _axes_locked(request, pending):
        # A locked account stays locked for links too (django-axes guards every way in).
        return _page(request, "portal/locked.html", status=429)
    user = services.login_link_redeem(token=token)
    if user is None:
        return _page(request, "portal/link_invalid.html", status=410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if not user.has_usable_password():
        messages.info(request, _("You are signed in. You can set a password for next time on the account page."))
    return redirect("portal:home")


def _axes_locked(request, user) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("portal:login")


@require_POST
@login_required
def logout_all(request):
    services.session_end_all(user=request.user)
    logout(request)
    messages.info(request, _("You are signed out on all devices."))
    return redirect("portal:login")


@client_required
@require_http_methods(["GET", "POST"])
def account(request):
    form_class = PasswordChangeForm if request.user.has_usable_password() else SetPasswordForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password was saved."))
        return redirect("portal:account")
    return _page(request, "portal/account.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


# --- dashboard, sites, equipment, visits --------------------------------------------------------

DASHBOARD_VISITS = 5


@client_required
def dashboard(request):
    user = request.user
    sites = list(selectors.site_list(user=user))
    upcoming_ids = list(selectors.visit_list_upcoming(user=user).values_list("pk", flat=True)[:DASHBOARD_VISITS])
    past_ids = list(selectors.visit_list_past(user=user).values_list("pk", flat=True)[:DASHBOARD_VISITS])
    rows = selectors.visits_hydrate(upcoming_ids + past_ids)  # one query for both lists
    upcoming, past = rows[:len(upcoming_ids)], rows[len(upcoming_ids):]
    now = timezone.now()
    today = [j for j in upcoming if selectors.visit_is_today(j, now=now)]
    access_record(actor=user, action="view", obj=request.portal_client, subject_client_id=request.portal_client.pk,
                  purpose="portal dashboard", request=request)
    return _page(request, "portal/dashboard.html", {
        "client": request.portal_client, "sites": sites, "upcoming": upcoming, "past": past, "today": today,
        "now": now,
    })


@client_required
def site_detail(request, site_id: int):
    site = selectors.site_get(user=request.user, site_id=site_id)
    units = list(site.equipment.order_by("id"))
    access_record(actor=request.user, action="view", obj=site, subject_client_id=site.client_id,
                  purpose="site shown to the client", request=request)
    return _page(request, "portal/site.html", {"site": site, "units": units})


@client_required
def equipment_detail(request, equipment_id: int):
    unit = selectors.equipment_get(user=request.user, equipment_id=equipment_id)
    history = selectors.equipment_history(equipment=unit)
    return _page(request, "portal/equipment.html", {"unit": unit, "history": history})


VISITS_PER_PAGE = 20


@client_required
def visit_list(request):
    which = request.GET.get("show", "upcoming")
    qs = selectors.visit_list_past(user=request.user) if which == "past" else selectors.visit_list_upcoming(user=request.user)
    page = Paginator(qs.only("pk"), VISITS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.visits_hydrate(page.object_list)
    return _page(request, "portal/visits.html", {"page": page, "show": "past" if which == "past" else "upcoming"})


def _visit_context(request, job):
    now = timezone.now()
    return {
        "job": job, "changeable": selectors.visit_changeable(job, now=now),
        "feedback_allowed": selectors.visit_feedback_allowed(job), "today": selectors.visit_is_today(job, now=now),
        "technician": selectors.technician_name(job), "cutoff_hours": conf.CHANGE_CUTOFF_HOURS,
        "booking": Booking.objects.filter(job=job).first(), "history": selectors.visit_history(job),
    }


@client_required
def visit_detail(request, job_id: int):
    job = selectors.visit_get(user=request.user, job_id=job_id)
    access_record(actor=request.user, action="view", obj=job, subject_client_id=job.client_id,
                  purpose="visit shown to the client", request=request)
    return _page(request, "portal/visit.html", _visit_context(request, job))


@client_required
def visit_card(request, job_id: int):
    """The live part of a visit as JSON (the page's script refreshes it on `job.updated`)."""
    job = selectors.visit_get(user=request.user, job_id=job_id)
    return JsonResponse(selectors.visit_card(job))


@require_POST
@client_required
def visit_cancel(request, job_id: int):
    selectors.visit_get(user=request.user, job_id=job_id)  # 404 before anything else
    try:
        services.visit_cancel(user=request.user, job_id=job_id)
    except ServiceError as err:
        messages.error(request, err.message)
        return redirect("portal:visit", job_id=job_id)
    messages.success(request, _("The visit was cancelled."))
    return redirect("portal:visit", job_id=job_id)


@client_required
@require_http_methods(["GET", "POST"])
def visit_move(request, job_id: int):
    job = selectors.visit_get(user=request.user, job_id=job_id)
    windows = selectors.window_list(site=job.site, exclude_job_id=job.pk)
    form = MoveForm(request.POST or None, windows=windows)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_move(user=request.user, job_id=job.pk, window_key=form.cleaned_data["window"])
        except ServiceError as err:
            for message in [m for msgs in err.fields.values() for m in msgs] or [err.message]:
                form.add_error("window", message)
        else:
            messages.success(request, _("The visit was moved."))
            return redirect("portal:visit", job_id=job.pk)
    return _page(request, "portal/visit_move.html", {
        "job": job, "form": form, "days": _days(windows), "changeable": selectors.visit_changeable(job),
    }, status=400 if form.errors else 200)


@client_required
@require_http_methods(["GET", "POST"])
def feedback(request, job_id: int):
    job = selectors.visit_get(user=request.user, job_id=job_id)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_give(user=request.user, job_id=job.pk, rating=form.cleaned_data["rating"],
                                   comment=form.cleaned_data["comment"])
        except ServiceError as err:
            _form_errors(form, err)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("portal:visit", job_id=job.pk)
    return _page(request, "portal/feedback.html", {"job": job, "form": form,
                                                   "allowed": selectors.visit_feedback_allowed(job)},
                 status=400 if form.errors else 200)


# --- booking ------------------------------------------------------------------------------------


def _days(windows):
    """Group windows by day for the picker (only open ones are offered)."""
    days: dict = {}
    for w in windows:
        if w.open:
            days.setdefault(timezone.localtime(w.start).date(), []).append(w)
    return sorted(days.items())


@client_required
@require_http_methods(["GET", "POST"])
def book(request):
    sites = list(selectors.site_list(user=request.user))
    if not sites:
        return _page(request, "portal/no_sites.html")
    site_id = request.POST.get("site") or request.GET.get("site") or sites[0].pk
    site = next((s for s in sites if str(s.pk) == str(site_id)), sites[0])
    windows = selectors.window_list(site=site)
    refresh = request.method == "POST" and request.POST.get("action") == "refresh"
    if request.method == "POST" and not refresh:
        form = BookingForm(request.POST, sites=sites, windows=windows)
    else:  # first view, or the site changed: nothing is validated yet
        initial = {"site": site.pk, **({k: request.POST.get(k) for k in ("service_type", "equipment", "description")} if refresh else {})}
        form = BookingForm(sites=sites, windows=windows, initial=initial)
    gas = False
    if request.method == "POST" and not refresh:
        gas = services.description_triage(request.POST.get("description", ""))[0]
        if form.is_valid():
            data = form.cleaned_data
            try:
                job, booking = services.booking_create(
                    user=request.user, site_id=data["site"], service_type=data["service_type"],
                    description=data["description"], window_keys=data["windows"], equipment_id=data["equipment"])
            except ServiceError as err:
                _form_errors(form, err)
            else:
                return redirect("portal:booked", job_id=job.pk)
    return _page(request, "portal/book.html", {
        "form": form, "site": site, "days": _days(windows), "gas": gas,
        "selected": request.POST.getlist("windows"),
    }, status=400 if form.is_bound and form.errors else 200)


@require_POST
@client_required
def book_triage(request):
    """The booking page's live check while the client types: the one triage classifier's urgency
    and, for gas or carbon monoxide, the safety instruction (JSON; 429 when checked too often)."""
    try:
        verdict = services.description_triage_live(user=request.user, description=request.POST.get("description", ""))
    except ServiceError as err:
        return JsonResponse({"error": err.code, "message": err.message}, status=err.status_code)
    return JsonResponse(verdict)


@client_required
def booked(request, job_id: int):
    job = selectors.visit_get(user=request.user, job_id=job_id)
    booking = Booking.objects.filter(job=job).first()
    return _page(request, "portal/booked.html", {"job": job, "booking": booking})


# --- messages and notifications (communications) ------------------------------------------------


@client_required
@require_http_methods(["GET", "POST"])
def messages_page(request):
    """The client's conversation with the office; new messages and replies arrive live (live.js)."""
    client = request.portal_client
    try:
        conversation_id = int(request.GET.get("conversation") or request.POST.get("conversation") or 0) or None
    except ValueError:
        raise Http404 from None
    if request.method == "POST":
        body = (request.POST.get("body") or "").strip()
        if not body:
            messages.error(request, _("Write a message first."))
        else:
            try:
                message = subsystems.client_message_send(user=request.user, client_id=client.pk, body=body,
                                                         conversation_id=conversation_id)
            except ServiceError as err:
                if err.status_code == 404:
                    raise Http404 from None
                messages.error(request, err.message)
            else:
                return redirect(f"{reverse('portal:messages')}?conversation={message.conversation_id}")
    context = subsystems.conversation_for_client(user=request.user, client_id=client.pk,
                                                 conversation_id=conversation_id)
    if not context["found"]:
        raise Http404
    access_record(actor=request.user, action="view", obj=client, subject_client_id=client.pk,
                  purpose="client's conversation with the office", request=request)
    context["labels"] = {"you": _("You"), "office": _("Office"), "system": _("Automatic message")}
    return _page(request, "portal/messages.html", context)


@client_required
def notifications_page(request):
    items = subsystems.notification_list(user=request.user)
    return _page(request, "portal/notifications.html", {"items": items})


@require_POST
@client_required
def notifications_read(request):
    subsystems.notification_read_all(user=request.user)
    return redirect("portal:notifications")


# --- the client's data (RODO) -------------------------------------------------------------------


@client_required
def privacy(request):
    client = request.portal_client
    return _page(request, "portal/privacy.html", {
        "client": client, "retained": selectors.retained_records(client_id=client.pk),
        "open_request": ErasureRequest.objects.filter(client_id=client.pk, state=ErasureRequest.State.REQUESTED).first(),
    })


@client_required
@require_http_methods(["GET", "POST"])
def contact(request):
    client = request.portal_client
    access_record(actor=request.user, action="view", obj=client, subject_client_id=client.pk,
                  purpose="contact data shown to the client", request=request)
    # The form edits a copy: services.contact_update compares the submitted values with the saved ones.
    form = ContactForm(request.POST or None, instance=Client.objects.get(pk=client.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(user=request.user, client=client, data=form.cleaned_data, request=request)
        except ServiceError as err:
            _form_errors(form, err)
        else:
            messages.success(request, _("Your contact data was saved."))
            return redirect("portal:contact")
    return _page(request, "portal/contact.html", {"form": form}, status=400 if form.errors else 200)


@client_required
def export_json(request):
    data = services.data_export_record(user=request.user, client=request.portal_client, fmt="json", request=request)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.localdate():%Y-%m-%d}.json"'
    return response


@client_required
def export_page(request):
    data = services.data_export_record(user=request.user, client=request.portal_client, fmt="page", request=request)
    return _page(request, "portal/export.html", {"data": data,
                                                 "communications_json": json.dumps(data.get("communications") or {},
                                                                                   ensure_ascii=False, indent=2)})


@client_required
@require_http_methods(["GET", "POST"])
def consents(request):
    client = request.portal_client
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            services.consent_set(user=request.user, client=client, purpose=form.cleaned_data["purpose"],
                                 granted=form.cleaned_data["granted"], request=request)
            messages.success(request, _("Your choice was saved."))
            return redirect("portal:consents")
        return _page(request, "portal/consents.html", _consent_context(client, form), status=400)
    return _page(request, "portal/consents.html", _consent_context(client, None))


def _consent_context(client, form):
    state = selectors.consent_state(client=client)
    rows = [{"purpose": value, "label": label, "entry": state.get(value)} for value, label in Consent.Purpose.choices]
    return {"rows": rows, "history": selectors.consent_history(client=client), "form": form,
            "version": conf.CONSENT_TEXT_VERSION}


@client_required
@require_http_methods(["GET", "POST"])
def erasure(request):
    client = request.portal_client
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.erasure_request_create(user=request.user, client=client, reason=form.cleaned_data["reason"])
        messages.success(request, _("Your request was received. The office will carry it out and confirm by e-mail."))
        return redirect("portal:privacy")
    return _page(request, "portal/erasure.html", {"form": form, "retained": selectors.retained_records(client_id=client.pk)})


def privacy_policy(request):
    """The public part: what is kept after an erasure, why and for how long (no personal data)."""
    return _page(request, "portal/retention.html", {"retained": selectors.retained_records()})


def not_found(request):
    raise Http404


# --- maintenance agreements and the reminder's move link ---------------------------------------

AGREEMENTS_PER_PAGE = 10


@client_required
def agreement_list(request):
    page = Paginator(selectors.agreement_list(user=request.user).only("pk"), AGREEMENTS_PER_PAGE).get_page(
        request.GET.get("page"))
    page.object_list = selectors.agreements_hydrate(page.object_list)
    return _page(request, "portal/agreements.html", {"page": page})


@client_required
def agreement_detail(request, agreement_id: int):
    agreement = selectors.agreement_get(user=request.user, agreement_id=agreement_id)
    access_record(actor=request.user, action="view", obj=agreement, subject_client_id=agreement.client_id,
                  purpose="maintenance agreement shown to the client", request=request)
    return _page(request, "portal/agreement.html", {"agreement": agreement})


@require_http_methods(["GET", "POST"])
def maintenance_move(request, token: str):
    """The reminder's one-click link: no sign-in (the signed token names the visit and its day),
    GET only shows (mail scanners prefetch links), POST moves once; the office is told."""
    try:
        job = visit_from_move_token(token=token)
    except ServiceError as err:
        return render(request, "portal/maintenance_move_invalid.html", {"reason": err.message}, status=410)
    form = MaintenanceMoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = request.user if request.user.is_authenticated else None
        try:
            job = visit_move_to_day(job=job, day=form.cleaned_data["day"], actor=actor, by_client=True)
        except ServiceError as err:
            for message in [m for msgs in err.fields.values() for m in msgs] or [err.message]:
                form.add_error("day", message)
        else:
            return render(request, "portal/maintenance_moved.html", {"job": job})
    return render(request, "portal/maintenance_move.html", {
        "job": job, "form": form, "days": visit_windows_open(job=job, limit=20),
    }, status=400 if form.errors else 200)
