"""The consistency report in the admin: one row per check, and the report, its dry run and the
repair as admin actions on that list (the audit dashboard's buttons before). Who may use them
(docs/office.md): managers and administrators see the list and run the report; the dry run and the
repair are the administrators'. Each action calls one audit service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from audit import services
from audit.consistency import CHECKS_BY_KIND
from audit.models import ConsistencyCheck
from hvaccrm.admin import ReadOnlyAdmin
from hvaccrm.realtime.groups import is_staff_role

READ_ROLES = ("manager", "administrator")
REPAIR_ROLES = ("administrator",)


@admin.register(ConsistencyCheck)
class ConsistencyCheckAdmin(ReadOnlyAdmin):
    list_display = ["label", "found", "repairable", "repair_does", "repaired", "checked_at"]
    actions = ["report_run", "repair_dry_run", "repair_run"]
    list_display_links = None
    show_full_result_count = False

    def has_view_permission(self, request, obj=None) -> bool:
        return _role(request, READ_ROLES)

    def has_repair_permission(self, request) -> bool:
        return _role(request, REPAIR_ROLES)

    def changelist_view(self, request, extra_context=None):
        if self.has_view_permission(request):
            services.consistency_checks_ensure()  # a check added to the code gets its row
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("check"), ordering="kind")
    def label(self, obj) -> str:
        check = CHECKS_BY_KIND.get(obj.kind)
        return f"{check.label} ({obj.kind})" if check else obj.kind

    @admin.display(description=_("repairable"), boolean=True)
    def repairable(self, obj) -> bool:
        return bool(getattr(CHECKS_BY_KIND.get(obj.kind), "repairable", False))

    @admin.display(description=_("a repair does"))
    def repair_does(self, obj) -> str:
        return str(getattr(CHECKS_BY_KIND.get(obj.kind), "action", ""))

    @admin.action(description=_("Run the selected checks now"), permissions=["view"])
    def report_run(self, request, queryset):
        report = services.consistency_checks_run(kinds=list(queryset.values_list("kind", flat=True)))
        found = sum(f["count"] for f in report["findings"])
        self.message_user(request, _("Objects out of step found: %(n)s.") % {"n": found},
                          messages.WARNING if found else messages.SUCCESS)

    @admin.action(description=_("Dry run: what a repair of the selected checks would change"),
                  permissions=["repair"])
    def repair_dry_run(self, request, queryset):
        return self._plan_page(request, queryset, title=_("Dry run: nothing is changed"))

    @admin.action(description=_("Repair the selected checks"), permissions=["repair"])
    def repair_run(self, request, queryset):
        if request.POST.get("post") != "yes":
            return self._plan_page(request, queryset, title=_("Repair: confirm"))  # the confirmation page
        kinds = list(queryset.values_list("kind", flat=True))
        result = services.consistency_checks_repair(kinds=kinds, actor=request.user)
        done = len(result["done"]) - result["failed"]
        self.message_user(request, _("%(n)s repairs made, %(f)s failed.") % {"n": done, "f": result["failed"]},
                          messages.ERROR if result["failed"] else messages.SUCCESS)
        return TemplateResponse(request, "admin/audit/consistencycheck/repair.html", {
            **self.admin_site.each_context(request), "title": _("Repair: results"), "opts": self.model._meta,
            "result": result, "rows": _per_kind(result, kinds), "done": True})

    def _plan_page(self, request, queryset, *, title):
        kinds = list(queryset.values_list("kind", flat=True))
        plan = services.repair_data_inconsistencies(dry_run=True, actor=request.user, kinds=kinds)
        return TemplateResponse(request, "admin/audit/consistencycheck/repair.html", {
            **self.admin_site.each_context(request), "title": title, "opts": self.model._meta, "result": plan,
            "rows": _per_kind(plan, kinds), "queryset": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "done": False})


def _role(request, roles: tuple[str, ...]) -> bool:
    """Whether the staff member has one of `roles`, asked once per request (the admin asks per
    action and per row)."""
    asked = request.__dict__.setdefault("_consistency_roles", {})
    if roles not in asked:
        asked[roles] = bool(request.user.is_staff and is_staff_role(request.user, *roles))
    return asked[roles]


def _per_kind(result: dict, kinds: list[str]) -> list[dict]:
    """Counts per selected check: found before, planned, repaired, failed, still found after."""
    before = {f["kind"]: f["count"] for f in result["findings_before"]}
    after = {f["kind"]: f["count"] for f in result.get("after", {}).get("findings", [])}
    rows = []
    for kind in kinds:
        check = CHECKS_BY_KIND.get(kind)
        done = [d for d in result["done"] if d["kind"] == kind]
        rows.append({"kind": kind, "label": check.label if check else kind, "found": before.get(kind, 0),
                     "planned": sum(1 for p in result["planned"] if p["kind"] == kind),
                     "repaired": sum(1 for d in done if d["ok"]), "failed": sum(1 for d in done if not d["ok"]),
                     "after": after.get(kind, 0) if "after" in result else None})
    return rows
