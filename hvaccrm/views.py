from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hvaccrm import sent_mail
from hvaccrm.checks import run_checks

SENT_MAIL_PAGE_SIZE = 25


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


def _sent_mail_view(view):
    """Staff only, through the admin site's own check (and its second factor when required)."""
    return admin.site.admin_view(require_GET(view))


@_sent_mail_view
def sent_emails(request):
    """The e-mails the development file backend kept, newest first, a page at a time."""
    page = Paginator(sent_mail.sent_mail_list(), SENT_MAIL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**admin.site.each_context(request), "title": _("Sent e-mails"), "page": page,
               "enabled": sent_mail.sent_mail_enabled()}
    return TemplateResponse(request, "hvaccrm/sent_emails.html", context)


@_sent_mail_view
def sent_email(request, key: str):
    mail = sent_mail.sent_mail_get(key=key)
    if mail is None:
        raise Http404
    context = {**admin.site.each_context(request), "title": mail.subject or _("(no subject)"), "mail": mail}
    return TemplateResponse(request, "hvaccrm/sent_email.html", context)
