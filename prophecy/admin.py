"""The admin as prophecy's dashboard: sync state of every object, features, predictions, backtests."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from prophecy.models import BacktestResult, Prediction, StoredVector, SyncState, TextFeatures


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ["object_type", "object_id", "state", "district", "service_type", "backend", "provider",
                    "attempts", "synced_at", "short_error"]
    list_filter = ["state", "object_type", "backend", "provider", "district"]
    search_fields = ["object_id", "vector_id"]
    date_hierarchy = "updated_at"

    @admin.display(description=_("error"))
    def short_error(self, obj) -> str:
        return obj.error[:80]


@admin.register(TextFeatures)
class TextFeaturesAdmin(ReadOnlyAdmin):
    list_display = ["object_type", "object_id", "language", "district", "service_type", "symptom_list",
                    "equipment_list", "error_code_list", "created"]
    list_filter = ["language", "object_type", "district", "service_type"]
    search_fields = ["object_id", "text"]

    @admin.display(description=_("symptoms"))
    def symptom_list(self, obj) -> str:
        return ", ".join(obj.symptoms)

    @admin.display(description=_("equipment"))
    def equipment_list(self, obj) -> str:
        return ", ".join(obj.equipment)

    @admin.display(description=_("error codes"))
    def error_code_list(self, obj) -> str:
        return ", ".join(obj.error_codes)


@admin.register(StoredVector)
class StoredVectorAdmin(ReadOnlyAdmin):
    list_display = ["object_type", "object_id", "district", "service_type", "created", "dim", "version"]
    list_filter = ["object_type", "district", "service_type"]
    exclude = ["vector"]
    search_fields = ["object_id", "text"]


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ["district", "service_type", "week_start", "forecast_jobs", "interval", "predicted_demand",
                    "confidence", "mase", "seasonal_naive_mase", "is_hotspot", "alerted_at"]
    list_filter = ["is_hotspot", "service_type", "district", "week_start"]
    list_select_related = ["district"]

    @admin.display(description=_("80% interval (jobs)"))
    def interval(self, obj) -> str:
        return f"{obj.forecast_low:.1f}–{obj.forecast_high:.1f}"


@admin.register(BacktestResult)
class BacktestResultAdmin(ReadOnlyAdmin):
    list_display = ["run_at", "district", "service_type", "model_name", "folds", "horizon", "mase",
                    "seasonal_naive_mase", "ratio_display"]
    list_filter = ["model_name", "service_type"]
    list_select_related = ["district"]

    @admin.display(description=_("MASE / seasonal-naive"))
    def ratio_display(self, obj) -> str:
        return "-" if obj.ratio is None else f"{obj.ratio:.2f}"
