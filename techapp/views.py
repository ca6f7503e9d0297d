"""The technician app's pages (/tech/): thin, as everywhere (parse, check, one service or selector).

Who may look: only the signed-in technician, at their own jobs (another technician's job is a 404).
Office staff have no view into a technician's app: they see the same jobs, routes and chains on the
day board, the dispatch map and the inbox, and an app that could be opened "as" someone would let
its actions be taken in their name.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from hvaccrm.errors import ServiceError
from hvaccrm.models import Technician
from integration import techapp as bridge
from techapp import selectors, services
from techapp.forms import CompletionForm

STATIC = Path(__file__).resolve().parent / "static" / "techapp"


def _technician(request: HttpRequest) -> Technician:
    tech = selectors.technician_for_user(request.user)
    if tech is None:
        raise Http404  # not a technician: this app does not exist for them
    return tech


def _common(request: HttpRequest, tech: Technician) -> dict:
    return {"technician": tech, "unread": bridge.notification_unread_count(user=request.user),
            "action_id": uuid.uuid4}


@login_required
@require_GET
def day(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    return render(request, "techapp/day.html", {**_common(request, tech),
                                                "days": selectors.technician_days(technician=tech),
                                                "emergency_sms": bridge.emergency_sms_of(user=request.user)})


@login_required
@require_GET
def stops(request: HttpRequest) -> HttpResponse:
    """The days' list alone: what the page re-draws on a job or route change."""
    tech = _technician(request)
    return render(request, "techapp/_days.html", {"days": selectors.technician_days(technician=tech)})


@login_required
@require_GET
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    tech = _technician(request)
    job = selectors.technician_job(technician=tech, job_id=job_id)
    return render(request, "techapp/job.html", {
        **_common(request, tech), "job": job, "history": selectors.unit_history(job=job),
        **bridge.job_conversation(user=request.user, job=job), "completion_form": CompletionForm(),
    })


@login_required
@require_POST
def job_action(request: HttpRequest, job_id: int) -> HttpResponse:
    """The form fallback without script: the form's id (made when the page was drawn) is the key,
    so a double tap or a resubmitted form applies once."""
    tech = _technician(request)
    selectors.technician_job(technician=tech, job_id=job_id)
    kind = request.POST.get("kind", "")
    payload = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "kind", "action_id")}
    payload["job"] = job_id
    answer = services.device_action_apply(technician=tech, action_id=request.POST.get("action_id"), kind=kind,
                                          payload=payload)
    if answer["ok"]:
        messages.success(request, _("Saved."))
    else:
        messages.error(request, answer["message"])
    return redirect("techapp:job", job_id=job_id)


@login_required
@require_POST
def actions_replay(request: HttpRequest) -> JsonResponse:
    """The phone's queue: {"actions": [{"id", "seq", "kind", "payload", "device_time"}]} ->
    {"results": [...]} with one answer per action (applied, replayed or refused and why)."""
    tech = _technician(request)
    try:
        body = json.loads(request.body or b"{}")
        actions = body.get("actions")
        if not isinstance(actions, list):
            raise ValueError
    except (ValueError, AttributeError):
        return JsonResponse({"code": "invalid", "message": _("Send a list of actions.")}, status=400)
    try:
        results = services.device_actions_replay(technician=tech, actions=actions)
    except ServiceError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status_code)
    return JsonResponse({"results": results})


@login_required
@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    services.technician_shift_set(technician=tech, on_shift=request.POST.get("on_shift") == "1")
    return redirect("techapp:day")


@login_required
@require_POST
def emergency_sms(request: HttpRequest) -> HttpResponse:
    """The "SMS for emergencies when the app is in the background" switch of the shift area."""
    _technician(request)
    bridge.emergency_sms_set(user=request.user, on=request.POST.get("emergency_sms") == "1")
    return redirect("techapp:day")


@login_required
@require_POST
def private(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    bridge.technician_private_mode_set(technician=tech, private=request.POST.get("private") == "1")
    return redirect("techapp:day")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    tech = _technician(request)
    if request.method == "POST":
        bridge.notification_read_all(user=request.user)
        return redirect("techapp:notifications")
    return render(request, "techapp/notifications.html", {
        **_common(request, tech), "notifications": bridge.notification_list(user=request.user)})


@login_required
@require_GET
def alerts(request: HttpRequest) -> JsonResponse:
    """Alerts still waiting for this technician's answer (the page shows them on load)."""
    _technician(request)
    return JsonResponse({"alerts": bridge.alert_open_for_user(user=request.user)})


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    start = reverse("techapp:day")
    return JsonResponse({
        "name": _("HVAC technician"), "short_name": _("Technician"), "start_url": start, "scope": start,
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b5394",
        "lang": request.LANGUAGE_CODE,
        "icons": [{"src": "/static/techapp/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }, content_type="application/manifest+json")


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker from the app's own path, so its scope is /tech/ (said again in the header)."""
    response = HttpResponse((STATIC / "sw.js").read_text(encoding="utf-8"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = reverse("techapp:day")
    return response
