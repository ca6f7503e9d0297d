"""Audit rows in the admin: read-only (repairs and checkpoints are made by the services), with
links to the audit dashboard pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit import admin_consistency  # noqa: F401 - registers the consistency checks' list and actions
from audit.models import AuditCheckpoint, HealthDaily, HealthSnapshot, IntegrationHealth, RepairRecord
from hvaccrm.admin import ReadOnlyAdmin


@admin.register(IntegrationHealth)
class IntegrationHealthAdmin(ReadOnlyAdmin):
    list_display = ["integration", "state", "changed_at", "checked_at", "dashboard"]

    @admin.display(description=_("dashboard"))
    def dashboard(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', reverse("audit:dashboard"), _("open"))


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "overall", "changes"]
    list_filter = ["overall"]
    date_hierarchy = "created_at"


@admin.register(HealthDaily)
class HealthDailyAdmin(ReadOnlyAdmin):
    """The nightly rollup's rows (written by health_daily_rollup only); the weekly view is the
    trends page. No relations: the changelist is one count and one page query."""

    list_display = ["day", "integration", "success_rate", "p50_ms", "p95_ms", "snapshots", "trends"]
    list_filter = ["integration"]
    date_hierarchy = "day"
    show_full_result_count = False  # a year of rows per integration: skip the second count

    @admin.display(description=_("trends"))
    def trends(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', reverse("audit:trends"), _("open"))


@admin.register(RepairRecord)
class RepairRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "object_type", "object_id", "action", "ok", "actor_label", "run_id"]
    list_filter = ["kind", "ok", "action"]
    search_fields = ["object_id", "run_id", "actor_label"]
    date_hierarchy = "created_at"


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "label", "created_at", "created_by", "compare"]
    list_select_related = ["created_by"]
    search_fields = ["label"]

    @admin.display(description=_("compare"))
    def compare(self, obj) -> str:
        return format_html('<a href="{}?second={}">{}</a>', reverse("audit:checkpoints"), obj.pk, _("compare"))
