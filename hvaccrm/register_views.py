"""Staff pages of the F-gas register: the CSV of all units, a printable card per unit, the manager's
report. Each read of a client's records leaves an access-trail entry, as the admin's reads do."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hvaccrm import register
from hvaccrm.models.clients import F_GASES
from hvaccrm.selectors import user_is_office
from hvaccrm.services import access_record


def _staff_view(view):
    """Office staff only, through the admin site's own check (and its second factor when required)."""
    def guarded(request, *args, **kwargs):
        if not user_is_office(request.user) and not request.user.is_superuser:
            raise Http404
        return view(request, *args, **kwargs)

    guarded.__name__ = view.__name__
    return admin.site.admin_view(require_GET(guarded))


class _Echo:
    def write(self, value: str) -> str:
        return value


@_staff_view
def register_csv(request):
    access_record(actor=request.user, action="export", object_type="hvaccrm.equipment", object_id="fgas-register",
                  purpose="F-gas register exported (CSV, all units)", request=request)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in register.register_csv_rows()),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fgas-register-{timezone.localdate()}.csv"'
    return response


@_staff_view
def register_card(request, equipment_id: int):
    unit = get_object_or_404(register.register_units(), pk=equipment_id, refrigerant__in=F_GASES)
    access_record(actor=request.user, action="view", obj=unit, subject_client_id=unit.site.client_id,
                  purpose="F-gas register card shown", request=request)
    context = {**admin.site.each_context(request), "title": _("F-gas register card"),
               "card": register.register_card(equipment=unit), "today": timezone.localdate()}
    return TemplateResponse(request, "hvaccrm/register_card.html", context)


@_staff_view
def maintenance_report(request):
    context = {**admin.site.each_context(request), "title": _("Leak checks: due, overdue and leaks this year"),
               "report": register.maintenance_report()}
    return TemplateResponse(request, "hvaccrm/maintenance_report.html", context)
