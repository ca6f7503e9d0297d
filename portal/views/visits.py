"""Portal pages: the dashboard, sites, equipment, visits (detail, card, cancel, move, feedback),
maintenance agreements and the reminder's move link."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hvaccrm.errors import ServiceError
from hvaccrm.services import access_record
from hvaccrm.services.maintenance import visit_from_move_token, visit_move_to_day, visit_windows_open
from portal import conf, selectors, services
from portal.forms import (
    FeedbackForm,
    MaintenanceMoveForm,
    MoveForm,
)
from portal.models import Booking
from portal.views.common import _days, _form_errors, _page, client_required

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
