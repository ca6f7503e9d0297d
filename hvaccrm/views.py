from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hvaccrm.checks import run_checks


@never_cache
@require_GET
def healthz(request):
    """JSON health of every registered check: 200 when all pass, 503 otherwise."""
    results = run_checks()
    ok = all(r.ok for r in results)
    body = {"status": "ok" if ok else "fail",
            "checks": {r.name: {"ok": r.ok, "detail": r.detail, "ms": r.duration_ms} for r in results}}
    return JsonResponse(body, status=200 if ok else 503)


def home(request):
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("admin:index")
    return redirect("portal:home")
