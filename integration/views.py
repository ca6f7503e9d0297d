"""The office's phone booking page, in the admin (/admin/office/new-job/). Thin: parse, check the
role, call integration.office, render. Roles: dispatcher, manager, administrator (docs/office.md)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hvaccrm.errors import ServiceError
from hvaccrm.realtime.groups import is_staff_role
from integration import office
from integration.forms import PhoneBookingForm

OFFICE_ROLES = ("dispatcher", "manager", "administrator")


def office_page(view):
    """The admin's gate (staff, OTP where required), then the office roles."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not is_staff_role(request.user, *OFFICE_ROLES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(checked)


def _render(request, form, *, job=None, proposals=(), suggestion=None, status=200) -> HttpResponse:
    return render(request, "integration/new_job.html", {
        **admin.site.each_context(request), "title": _("New phone booking"), "form": form, "job": job,
        "proposals": proposals, "suggestion": suggestion, "tile_url": settings.MAP_TILE_URL,
        "geocoder": office.geocoder_configured()}, status=status)


def _coordinate(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@office_page
@require_GET
def locate(request: HttpRequest) -> JsonResponse:
    """The map picker's lookups (JSON): ?latitude=&longitude= gives the point's district (or "outside
    Warsaw"); ?street=&postal_code= the geocoded point when a geocoder is configured."""
    lat, lng = _coordinate(request.GET.get("latitude")), _coordinate(request.GET.get("longitude"))
    if lat is not None and lng is not None:
        return JsonResponse(office.point_district(latitude=lat, longitude=lng))
    street = request.GET.get("street", "").strip()[:200]
    if not street:
        return JsonResponse({"error": _("Give a point or an address.")}, status=400)
    found = office.address_locate(street=street, postal_code=request.GET.get("postal_code", "").strip()[:6])
    if not found:
        return JsonResponse({"found": False, "message": _("The address was not found: pick the point on the map.")})
    return JsonResponse({"found": True, "latitude": found["latitude"], "longitude": found["longitude"],
                         "label": found.get("label", ""),
                         **office.point_district(latitude=found["latitude"], longitude=found["longitude"])})


@office_page
def new_job(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, PhoneBookingForm())
    form = PhoneBookingForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = dict(form.cleaned_data)
    suggestion = office.triage(data["description"])
    if request.POST.get("step") != "book":
        # Triage first: the office sees the suggested urgency (and the geocoded point) before booking.
        located = office.address_locate(street=data["street"], postal_code=data["postal_code"]) if not data["site"] else None
        initial = {**request.POST.dict(), "urgency": data["urgency"] or suggestion["urgency"]}
        if located:
            initial.update(latitude=located["latitude"], longitude=located["longitude"])
        return _render(request, PhoneBookingForm(initial=initial), suggestion=suggestion)
    data["urgency"] = data["urgency"] or suggestion["urgency"]
    try:
        job, proposals = office.phone_booking_create(booking=office.PhoneBooking(**data), actor=request.user)
    except ServiceError as exc:
        for field, errors in (exc.fields or {}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not exc.fields:
            form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return _render(request, form, suggestion=suggestion, status=400)
    messages.success(request, _("Job #%(job)s booked for %(window)s.") % {"job": job.pk, "window": office.window_text(job)})
    return _render(request, PhoneBookingForm(), job=job, proposals=proposals, suggestion=suggestion)


@office_page
@require_POST
def take_slot(request: HttpRequest, proposal_id: int) -> HttpResponse:
    try:
        job = office.phone_booking_slot_take(proposal_id=proposal_id, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("integration:new_job")
    messages.success(request, _("Job #%(job)s scheduled: %(when)s. The client is told.")
                     % {"job": job.pk, "when": office.window_text(job)})
    return redirect(reverse("admin:hvaccrm_servicejob_change", args=[job.pk]))
