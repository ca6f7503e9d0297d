"""Staff pages: semantic search and the forecast dashboard (admin look). Thin: parse, call a
selector, render."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.models import District
from prophecy import selectors
from prophecy.charts import demand_chart_svg, history_forecast_svg
from prophecy.forms import SearchForm


def _bound(day, end: bool):
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@staff_member_required
@permission_required("prophecy.view_storedvector", raise_exception=True)
def search(request):
    form = SearchForm(request.GET or None)
    answer = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        answer = selectors.search_similar(
            query=data["q"], limit=20, district=data["district"] or None,
            service_type=data["service_type"] or None, created_from=_bound(data["created_from"], False),
            created_to=_bound(data["created_to"], True), mode="vector" if data["vector_only"] else "hybrid",
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Similar past messages and jobs"), "form": form, "answer": answer,
        "districts": District.objects.order_by("name").values_list("slug", "name"),
        "store_healthy": selectors.vector_store_healthy(),
    }
    return render(request, "prophecy/search.html", context)


@staff_member_required
@permission_required("prophecy.view_prediction", raise_exception=True)
def dashboard(request):
    data = selectors.dashboard_data()
    for entry in data["districts"]:
        entry["chart"] = demand_chart_svg(series=entry["series"], width=370)
    context = {**admin.site.each_context(request), "title": _("Demand forecast"), **data,
               "store_healthy": selectors.vector_store_healthy(), "alerts": selectors.alerts_recent()}
    return render(request, "prophecy/dashboard.html", context)


@staff_member_required
@permission_required("prophecy.view_prediction", raise_exception=True)
def district(request, slug: str):
    """Per service type: two years of weekly jobs, the forecast with its band and the backtest;
    the weekly capacity against predicted job-hours. An unknown district gets a page saying so."""
    detail = selectors.district_forecast_detail(slug=slug)
    context = {**admin.site.each_context(request), "title": _("Demand forecast"), "slug": slug, "detail": detail}
    if detail is None:
        return render(request, "prophecy/district.html", context, status=404)
    for row in detail["rows"]:
        row["chart"] = history_forecast_svg(weeks=detail["weeks"], counts=row["counts"], predictions=row["predictions"])
    context["title"] = _("Demand forecast: %(district)s") % {"district": detail["district"].name}
    return render(request, "prophecy/district.html", context)
