"""The access trail of reads: every staff page or API read of a client's personal data leaves one
row (RODO art. 15: the client may ask who saw their data).

`AccessTrailMiddleware` records each successful staff GET once, unless the view recorded its own
row (an `access_record` call inside the request, counted here) or its URL name is in
`NO_PERSONAL_DATA` with the reason. Trailing is the default, so a new view cannot skip it;
a test generated from the URL configuration holds every view to this.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.db import models

from hvaccrm.realtime.groups import is_staff_role

STAFF_ROLES = ("technician", "dispatcher", "manager", "administrator")

# URL names (namespaced) of views that show no client's personal data, each with the reason.
NO_PERSONAL_DATA: dict[str, str] = {
    "home": "a redirect to the user's start page",
    "healthz": "liveness: a status word",
    "metrics": "Prometheus counters: numbers, no person",
    "set_language": "changes the interface language",
    "javascript-catalog": "the translated interface strings",
    "schema": "the OpenAPI description of the API",
    "knox_login": "signs in (writes a token)", "knox_logout": "signs out", "knox_logoutall": "signs out",
    "ws-ticket": "a socket ticket for the user themself",
    "sent-emails": "development mailbox (DEBUG only); each opened e-mail is trailed by sent-email",
    "admin:index": "the admin's menu", "admin:login": "the sign-in form", "admin:logout": "signs out",
    "admin:password_change": "the user's own password", "admin:password_change_done": "a confirmation",
    "admin:jsi18n": "the translated interface strings", "admin:app_list": "the menu of one app",
    "admin:view_on_site": "a redirect",
    "communications-api:classify": "classifies a text the caller sends; reads no stored data",
    "communications-api:preferences": "the caller's own notification preferences",
    "mapping-api:districts-geojson": "district boundaries (public)",
    "mapping:my_day_private": "the technician's own private-mode switch",
    "mapping-api:private-mode": "the technician's own private-mode switch",
    "prophecy:dashboard": "demand forecasts per district: counts, no person",
    "prophecy:district": "one district's forecast: counts, no person",
    "prophecy-api:hotspots": "forecast hotspots per district: counts, no person",
    "audit:dashboard": "integration health: counts and states", "audit:health_json": "integration health",
    "audit:report": "consistency counts", "audit:consistency": "consistency counts",
    "audit:trends": "counts over time", "audit:metrics": "counters", "audit:checkpoints": "counts",
    "audit-api:report": "consistency counts", "audit-api:health": "integration health",
    "audit-api:consistency": "consistency counts", "audit-api:checkpoints": "counts",
    "audit-api:checkpoint-compare": "counts",
    "audit:access_trail": "the trail itself (who read what); reading it is an audit act, not a read of a client",
    "audit-api:access-trail": "the trail itself",
}
# Admin pages of models that hold no client data (their change and list pages are not trailed).
NO_PERSONAL_DATA_MODELS: dict[str, str] = {
    "hvaccrm.district": "Warsaw's districts (public reference data)",
    "hvaccrm.integrationswitch": "which subsystem is switched off, by whom of the staff",
    "hvaccrm.accessrecord": "the trail itself",
    "mapping.dayplan": "plan versions: counts and travel times",
    "auth.group": "roles", "auth.permission": "permissions",
}

_recorded: ContextVar[list[int] | None] = ContextVar("access_trail_recorded", default=None)


def trail_noted() -> None:
    """Called by `access_record`: the current request recorded its own trail row."""
    counter = _recorded.get()
    if counter is not None:
        counter[0] += 1


def subject_of(obj: models.Model) -> int | None:
    """The client whose data `obj` is (None when it is nobody's)."""
    if obj._meta.label_lower == "hvaccrm.client":
        return obj.pk
    for path in ("client_id", "site.client_id", "conversation.client_id", "job.client_id"):
        value: object = obj
        for part in path.split("."):
            value = getattr(value, part, None)
            if value is None:
                break
        if isinstance(value, int):
            return value
    return None


def _is_staff(user) -> bool:
    return user is not None and user.is_authenticated and (user.is_staff or is_staff_role(user, *STAFF_ROLES))


def _admin_target(request, match) -> tuple[str, str, int | None] | None:
    """(object type, object id, client) of an admin model page; None for a model without client data."""
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is None:
        return "admin", "", None
    label = model_admin.model._meta.label_lower
    if label in NO_PERSONAL_DATA_MODELS:
        return None
    object_id = match.kwargs.get("object_id")
    if object_id is None:
        return label, "list", None
    obj = model_admin.model._default_manager.filter(pk=object_id).first() if str(object_id).isdigit() else None
    return label, str(object_id), subject_of(obj) if obj is not None else None


class AccessTrailMiddleware:
    """One trail row per staff read that shows personal data (see the module doc)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = _recorded.set([0])
        try:
            response = self.get_response(request)
            recorded = _recorded.get()[0]
        finally:
            _recorded.reset(token)
        if request.method == "GET" and response.status_code == 200 and not recorded:
            self._record(request)
        return response

    def _record(self, request) -> None:
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if match is None or not _is_staff(user) or match.view_name in NO_PERSONAL_DATA:
            return
        if match.namespace == "admin" or match.view_name.startswith("admin:"):
            target = _admin_target(request, match)
            if target is None:
                return
            object_type, object_id, client_id = target
        else:
            object_type = match.view_name
            object_id = str(next(iter(match.kwargs.values()), "list"))
            client_id = None
        from hvaccrm.services.access import access_record

        query = request.GET.get("q") or request.GET.get("term") or ""
        purpose = f"read: {match.view_name}" + (f" (search {query!r})" if query else "")
        access_record(actor=user, action="view", object_type=object_type, object_id=object_id,
                      subject_client_id=client_id, purpose=purpose, request=request)
