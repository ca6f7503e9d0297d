"""Audit rows in the admin: read-only (repairs and checkpoints are made by the services), with
links to the audit dashboard pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.models import AuditCheckpoint, HealthSnapshot, IntegrationHealth, RepairRecord
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
