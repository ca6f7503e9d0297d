"""Mapping's pages: the dispatch map and day board (office), "my day" (technicians). Thin: parse,
check permission, call one service or selector, render."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hvaccrm.admin_context import admin_page_context
from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob
from hvaccrm.selectors import user_is_office
from hvaccrm.services import job_assign
from mapping import conf, selectors, services
from mapping.board_html import board_rows_html, technician_options_html
from mapping.forms import AssignForm, CompletionForm, PlaceForm


def _office(request: HttpRequest) -> None:
    if not (request.user.is_authenticated and request.user.is_staff and user_is_office(request.user)):
        raise PermissionDenied


def _technician(request: HttpRequest):
    tech = getattr(request.user, "technician", None) if hasattr(request.user, "technician") else None
    if tech is None:
        raise PermissionDenied
    return tech


def _day(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("day") or request.POST.get("day") or "")
    except ValueError:
        return timezone.localdate()


def _admin_context(request: HttpRequest, title: str) -> dict:
    return {**admin_page_context(request), "title": title}


@login_required
def dispatch_map(request: HttpRequest) -> HttpResponse:
    _office(request)
    day = _day(request)
    return render(request, "mapping/dispatch.html", {
        **_admin_context(request, _("Dispatch map")), "day": day,
        "hotspots_url": conf.PROPHECY_HOTSPOTS_URL, "tile_url": settings.MAP_TILE_URL,
    })


@login_required
def day_board(request: HttpRequest) -> HttpResponse:
    _office(request)
    day = _day(request)
    board = selectors.board_rows(day=day)
    # Every tray job has a select of every technician: rendered once here, not once per job
    # (with 200 technicians the template loop was most of the page's cost).
    options = technician_options_html(rows=board["rows"])
    return render(request, "mapping/board.html", {
        **_admin_context(request, _("Day board")), "day": day, **board, "assign_form": AssignForm(),
        "hours": list(range(6, 22)), "technician_options": options, "rows_html": board_rows_html(rows=board["rows"]),
    })


@login_required
@require_POST
def board_assign(request: HttpRequest) -> HttpResponse:
    _office(request)
    form = AssignForm(request.POST)
    back = f"{reverse('mapping:board')}?day={_day(request).isoformat()}"
    if not form.is_valid():
        messages.error(request, _("Choose a job and a technician."))
        return redirect(back)
    job, tech, day = form.cleaned_data["job"], form.cleaned_data["technician"], _day(request)
    # The dispatcher's choice is pinned (re-planning keeps the job with this technician): it gets
    # a scheduled window, the client's requested one or else the technician's shift that day.
    start = job.requested_start or timezone.make_aware(datetime.combine(day, tech.shift_start))
    end = job.requested_end or timezone.make_aware(datetime.combine(day, tech.shift_end))
    try:
        job_assign(job=job, technician=tech, scheduled_start=start, scheduled_end=end, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Job #%(job)s assigned.") % {"job": form.cleaned_data["job"].pk})
    return redirect(back)


@login_required
@require_POST
def board_place(request: HttpRequest) -> JsonResponse:
    """Drag and drop on the day board: the job is placed on the technician at the dropped time
    (job_assign_slot). JSON either way; every open board moves through the job.updated push."""
    _office(request)
    form = PlaceForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "error": _("Choose a job, a technician and a time."),
                             "fields": form.errors}, status=400)
    data = form.cleaned_data
    try:
        job = services.job_assign_slot(job=data["job"], technician=data["technician"], start=data["start"],
                                       actor=request.user)
    except ServiceError as exc:
        return JsonResponse({"ok": False, "error": exc.message, "code": exc.code}, status=exc.status_code)
    return JsonResponse({"ok": True, "job": job.pk, "technician": job.technician_id,
                         "start": job.scheduled_start.isoformat(), "end": job.scheduled_end.isoformat()})


@login_required
@require_POST
def board_replan(request: HttpRequest) -> HttpResponse:
    _office(request)
    day = _day(request)
    summary = services.day_plan(day=day, reason="dispatcher")
    messages.success(request, _("Day re-planned: %(r)d routes, %(u)d jobs unassigned.")
                     % {"r": len(summary["routes"]), "u": len(summary["unassigned"])})
    return redirect(f"{reverse('mapping:board')}?day={day.isoformat()}")


@login_required
@require_POST
def board_propose(request: HttpRequest, job_id: int) -> HttpResponse:
    _office(request)
    job = get_object_or_404(ServiceJob, pk=job_id)
    proposals = services.slot_propose(job=job)
    messages.info(request, _("%(n)d slots proposed for job #%(job)s.") % {"n": len(proposals), "job": job.pk})
    return redirect(f"{reverse('admin:mapping_slotproposal_changelist')}?job__id__exact={job.pk}")


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    day = timezone.localdate()
    jobs = selectors.technician_day(technician=tech, day=day)
    nxt = next((j for j in jobs if j.status in ("scheduled", "en_route", "on_site")), None)
    return render(request, "mapping/my_day.html", {
        "technician": tech, "day": day, "jobs": jobs, "next_job": nxt, "completion_form": CompletionForm(),
        "retention_days": conf.GPS_RETENTION_DAYS, "reduced_minutes": conf.GPS_REDUCED_INTERVAL_MIN,
    })


@login_required
@require_POST
def my_day_step(request: HttpRequest, job_id: int) -> HttpResponse:
    tech = _technician(request)
    job = get_object_or_404(ServiceJob, pk=job_id, technician=tech)
    try:
        services.job_step(job=job, technician=tech, to_status=request.POST.get("to_status", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("mapping:my_day")


@login_required
@require_POST
def my_day_complete(request: HttpRequest, job_id: int) -> HttpResponse:
    tech = _technician(request)
    job = get_object_or_404(ServiceJob.objects.select_related("equipment"), pk=job_id, technician=tech)
    form = CompletionForm(request.POST)
    if form.is_valid():
        try:
            services.job_complete(job=job, technician=tech, **form.cleaned_data)
        except ServiceError as exc:
            for errors in exc.fields.values():
                for error in errors:
                    messages.error(request, error)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Job #%(job)s completed.") % {"job": job.pk})
    else:
        messages.error(request, _("Check the completion report."))
    return redirect("mapping:my_day")


@login_required
@require_POST
def my_day_private(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    services.technician_private_mode_set(technician=tech, private=request.POST.get("private") == "1")
    return redirect("mapping:my_day")
