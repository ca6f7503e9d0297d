"""Portal pages: booking a visit, messages and notifications."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hvaccrm.errors import ServiceError
from hvaccrm.services import access_record
from integration import portal as subsystems
from portal import selectors, services
from portal.forms import (
    BookingForm,
)
from portal.models import Booking
from portal.views.common import _days, _form_errors, _page, client_required

# --- booking ------------------------------------------------------------------------------------


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
