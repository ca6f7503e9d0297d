"""Audit pages in the admin's look: the dashboard, consistency and repair, switches, checkpoints,
the access trail, and the Prometheus endpoint. Thin: each calls one selector or service."""

from __future__ import annotations

import hmac
import json
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit import conf, selectors, services
from audit.health import INTEGRATIONS, health_current
from audit.metrics import metrics_render
from audit.models import AuditCheckpoint, RepairRecord
from audit.trends import district_demand, trends_weekly
from hvaccrm.models import AccessRecord, IntegrationSwitch
from hvaccrm.models.outbox import Target
from hvaccrm.realtime.groups import is_staff_role
from hvaccrm.services.outbox import integration_switch_set

READ_ROLES = ("manager", "administrator")
WRITE_ROLES = ("administrator",)


def audit_staff(*roles: str):
    """Staff with one of the roles; others to the admin login (anonymous) or 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (user.is_staff and is_staff_role(user, *(roles or READ_ROLES))):
                raise PermissionDenied
            return never_cache(view)(request, *args, **kwargs)

        return wrapper

    return decorator


def _context(request, title: str, **extra) -> dict:
    ctx = {**admin.site.each_context(request), "title": title,
           "can_repair": is_staff_role(request.user, *WRITE_ROLES)}
    ctx.update(extra)
    return ctx


@audit_staff()
@require_GET
def dashboard(request):
    health = health_current()
    switches = {s.target: s for s in IntegrationSwitch.objects.select_related("changed_by")}
    targets = [{"target": value, "label": label, "enabled": getattr(switches.get(value), "enabled", True),
                "reason": getattr(switches.get(value), "reason", "")} for value, label in Target.choices]
    return render(request, "audit/dashboard.html", _context(
        request, _("Audit dashboard"), health=health, targets=targets,
        repairs=RepairRecord.objects.order_by("-created_at")[:10],
        health_url=reverse("audit:health_json"), refresh_ms=_refresh_ms(request),
    ))


def _refresh_ms(request) -> int:
    """How often the page polls its health JSON: 15 s, or ?refresh=<ms> between 1 and 60 s."""
    value = request.GET.get("refresh", "")
    return min(60000, max(1000, int(value))) if value.isdigit() else 15000


@audit_staff()
@require_GET
def health_json(request):
    return JsonResponse(health_current(), encoder=DjangoJSONEncoder)


@audit_staff()
@require_GET
def report(request):
    data = selectors.get_audit_report()
    return render(request, "audit/json_page.html", _context(
        request, _("Audit report"), pretty=json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)))


@audit_staff()
@require_GET
def consistency(request):
    """The report. Its dry run and repair are admin actions on the consistency checks' list
    (audit.admin_consistency), for administrators."""
    data = selectors.get_data_consistency_report()
    return render(request, "audit/consistency.html", _context(
        request, _("Data consistency"), report=data, checks_url=reverse("admin:audit_consistencycheck_changelist")))


@audit_staff(*WRITE_ROLES)
@require_POST
def switch_set(request, target: str):
    if target not in Target.values:
        raise PermissionDenied
    enabled = request.POST.get("enabled") == "1"
    integration_switch_set(target=target, enabled=enabled, actor=request.user,
                           reason=request.POST.get("reason", "")[:255])
    messages.success(request, (_("%(t)s switched on: the waiting work is being sent.") if enabled
                               else _("%(t)s switched off: its work waits.")) % {"t": target})
    return redirect("audit:dashboard")


@audit_staff()
def checkpoints(request):
    if request.method == "POST":
        if not is_staff_role(request.user, *WRITE_ROLES):
            raise PermissionDenied
        cp = services.create_audit_checkpoint(label=request.POST.get("label", ""), actor=request.user)
        messages.success(request, _("Checkpoint #%(id)s taken.") % {"id": cp.pk})
        return redirect("audit:checkpoints")
    items = AuditCheckpoint.objects.select_related("created_by").only(
        "id", "label", "created_at", "created_by__username")[:50]
    comparison = None
    first, second = request.GET.get("first"), request.GET.get("second")
    if first and second and first.isdigit() and second.isdigit():
        comparison = selectors.checkpoint_compare(first=get_object_or_404(AuditCheckpoint, pk=first),
                                                  second=get_object_or_404(AuditCheckpoint, pk=second))
    return render(request, "audit/checkpoints.html", _context(
        request, _("Audit checkpoints"), items=items, comparison=comparison))


@audit_staff()
@require_GET
def access_trail(request):
    q = request.GET
    since, until = parse_date(q.get("since", "") or ""), parse_date(q.get("until", "") or "")
    client = q.get("client", "")
    qs = selectors.access_trail_search(
        person=q.get("person", "").strip(), object_type=q.get("object_type", "").strip(),
        object_id=q.get("object_id", "").strip(), client_id=int(client) if client.isdigit() else None,
        action=q.get("action", ""),
        since=_day_start(since), until=_day_start(until, next_day=True),
    )
    page = Paginator(qs, 50).get_page(q.get("page"))
    query = q.copy()
    query.pop("page", None)
    return render(request, "audit/access_trail.html", _context(
        request, _("Access trail"), page=page, q=q, query=query.urlencode(), actions=AccessRecord.Action.choices,
        retention_days=conf.ACCESS_TRAIL_RETENTION_DAYS))


@audit_staff()
@require_GET
def trends(request):
    """A year by week: each integration's success rate and p95, cache hit rates, search time; and
    each district's demand against its weight."""
    page = Paginator(trends_weekly(), 26).get_page(request.GET.get("page"))
    caches = sorted({name for week in page for name in week["cache"]})
    rows = [{"week": w["week"], "search_ms": w["search_ms"], "caches": [w["cache"].get(c) for c in caches],
             "integrations": [w["integrations"][i.key] for i in INTEGRATIONS]} for w in page]
    return render(request, "audit/trends.html", _context(
        request, _("Trends by week"), page=page, rows=rows, integrations=INTEGRATIONS, caches=caches,
        demand=district_demand(), demand_weeks=conf.DEMAND_WEEKS, hint_points=conf.DEMAND_HINT_POINTS))


def _day_start(day, *, next_day: bool = False):
    if day is None:
        return None
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    moment = datetime.combine(day + timedelta(days=1) if next_day else day, time.min)
    return timezone.make_aware(moment)


@never_cache
@require_GET
def metrics(request):
    """Prometheus text format; a staff session or `Authorization: Bearer <METRICS_TOKEN>`."""
    header = request.headers.get("Authorization", "")
    token_ok = bool(conf.METRICS_TOKEN) and header.startswith("Bearer ") and hmac.compare_digest(
        header[7:].strip().encode(), conf.METRICS_TOKEN.encode())
    staff_ok = request.user.is_authenticated and request.user.is_staff and is_staff_role(request.user, *READ_ROLES)
    if not (token_ok or staff_ok):
        return HttpResponse("authentication required\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(metrics_render(), content_type="text/plain; version=0.0.4; charset=utf-8")
