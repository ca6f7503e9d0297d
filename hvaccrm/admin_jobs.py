"""The job admin: the office's phone bookings, status moves, cancel/reschedule/reassign with a reason
and the job's history; every write through the job services (split from admin.py by size)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from hvaccrm.admin import ServiceAdmin, ServiceForm, form_errors_of_service_error
from hvaccrm.errors import ServiceError
from hvaccrm.models import (
    JobFeedback,
    ServiceJob,
    Technician,
)
from hvaccrm.models.jobs import JobStatus
from hvaccrm.selectors import job_history
from hvaccrm.services import (
    job_assign,
    job_create,
    job_details_set,
    job_reschedule,
    job_transition,
)
from hvaccrm.services import jobs as job_rules
from hvaccrm.services.jobs import JOB_DETAIL_FIELDS


class FeedbackInline(admin.StackedInline):
    model = JobFeedback
    extra = 0
    readonly_fields = ["client", "rating", "comment", "created_at"]
    can_delete = False


class JobForm(ServiceForm):
    """A job's page: what it is about, who and when, and a legal status move, each through its
    service; `reason` goes into the job's history."""

    reason = forms.CharField(label=_("reason for this change"), required=False, max_length=255,
                             help_text=_("Kept in the job's history with your name."))

    class Meta:
        model = ServiceJob
        fields = ["site", "equipment", "service_type", "urgency", "source", "description", "requested_start",
                  "requested_end", "estimated_duration_min", "technician", "scheduled_start", "scheduled_end",
                  "status"]

    def clean(self):
        data = super().clean()
        self.check(job_rules.job_window_check, start=data.get("requested_start"), end=data.get("requested_end"),
                   field="requested_end")
        self.check(job_rules.job_window_check, start=data.get("scheduled_start"), end=data.get("scheduled_end"))
        site, equipment = data.get("site") or getattr(self.instance, "site", None), data.get("equipment")
        if equipment is not None and site is not None and equipment.site_id != site.pk:
            self.add_error("equipment", _("Choose a unit at this site."))
        if self.instance.pk is None:
            return data
        current = self.initial.get("status")
        if "status" in self.changed_data:
            self.check(job_rules.job_transition_check, current=current, to_status=data.get("status"))
        elif "technician" in self.changed_data and data.get("technician") is not None:
            self.check(job_rules.job_assignable_check, status=current)
        elif {"scheduled_start", "scheduled_end"} & set(self.changed_data):
            self.check(job_rules.job_movable_check, status=current)
        return data


def _job_save(*, request, job: ServiceJob, form: JobForm) -> ServiceJob:
    """The form's changes, each through its service, in one transaction (the admin's)."""
    actor, reason, changed = request.user, form.cleaned_data.get("reason", ""), set(form.changed_data)
    details = {f: getattr(job, f) for f in JOB_DETAIL_FIELDS if f in changed}
    if details:
        job = job_details_set(job=job, changes=details, actor=actor, reason=reason)
    if "technician" in changed and job.technician is not None:
        job = job_assign(job=job, technician=job.technician, scheduled_start=job.scheduled_start,
                         scheduled_end=job.scheduled_end, actor=actor, reason=reason)
    elif {"scheduled_start", "scheduled_end"} & changed and job.scheduled_start and job.scheduled_end:
        job = job_reschedule(job=job, scheduled_start=job.scheduled_start, scheduled_end=job.scheduled_end,
                             actor=actor, reason=reason)
    if "status" in changed:
        job = job_transition(job=job, to_status=form.cleaned_data["status"], actor=actor, reason=reason,
                             technician=form.cleaned_data.get("technician"))
    return job


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255)


class RescheduleForm(ReasonForm):
    scheduled_start = forms.DateTimeField(label=_("scheduled from"))
    scheduled_end = forms.DateTimeField(label=_("scheduled until"))

    def clean(self):
        data = super().clean()
        try:
            job_rules.job_window_check(start=data.get("scheduled_start"), end=data.get("scheduled_end"))
        except ServiceError as exc:
            form_errors_of_service_error(self, exc)
        return data


class ReassignForm(ReasonForm):
    technician = forms.ModelChoiceField(label=_("technician"), queryset=Technician.objects.filter(active=True)
                                        .select_related("user"))


@admin.register(ServiceJob)
class ServiceJobAdmin(ServiceAdmin):
    form = JobForm
    list_display = ["id", "service_type", "urgency", "status", "client", "district", "technician", "scheduled_start",
                    "eta", "pinned"]
    list_filter = ["status", "urgency", "service_type", "source", "district", "is_synthetic"]
    list_select_related = ["client", "district", "technician__user"]
    search_fields = ["id", "description", "client__name", "site__street"]
    autocomplete_fields = ["site", "equipment", "technician"]
    date_hierarchy = "created_at"
    readonly_fields = ["client", "district", "status_changed_at", "completed_at", "eta", "pinned_at", "pinned_by",
                       "created_at", "updated_at"]
    inlines = [FeedbackInline]
    actions = ["cancel_jobs", "reschedule_jobs", "reassign_jobs"]

    def get_fieldsets(self, request, obj=None):
        what = ["site", "equipment", "service_type", "urgency", "source", "description", "estimated_duration_min",
                "requested_start", "requested_end"]
        when = ["technician", "scheduled_start", "scheduled_end"]
        if obj is None:  # a new job starts as new (scheduled once it has a technician)
            return [(None, {"fields": what}), (_("Assignment"), {"fields": when}), (None, {"fields": ["reason"]})]
        return [
            (None, {"fields": ["client", "district", *what]}),
            (_("Assignment"), {"fields": [*when, "eta", "pinned_at", "pinned_by"]}),
            (_("Status"), {"fields": ["status", "status_changed_at", "completed_at", "reason"]}),
            (_("Record"), {"fields": ["created_at", "updated_at"]}),
            (_("History"), {"fields": ["history"]}),
        ]

    @admin.display(description=_("history (who, when, what, why)"))
    def history(self, obj) -> str:
        history = job_history(job_id=obj.pk)
        actors = {h["actor"] for h in history if h["actor"]}
        users = dict(get_user_model().objects.filter(pk__in=actors).values_list("pk", "username"))
        rows = [
            format_html("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", localize(localtime(h["at"])),
                        users.get(h["actor"], _("system")),
                        "; ".join(f"{f}: {a} → {b}" for f, (a, b) in h["changes"].items()), h["reason"])
            for h in history
        ]
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>", _("when"), _("who"),
                           _("what"), _("why"), mark_safe("".join(rows)))  # noqa: S308 -- rows escaped by format_html

    def get_readonly_fields(self, request, obj=None):
        fixed = ["site", "source", "history"] if obj is not None else []
        return [*self.readonly_fields, *fixed]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a job is cancelled (with a reason), never deleted: its history and trail stay

    @admin.display(description=_("pinned"), boolean=True)
    def pinned(self, obj) -> bool:
        return obj.pinned_at is not None

    def service_save(self, request, obj, form, change) -> None:
        if change:
            job = _job_save(request=request, job=obj, form=form)
        else:
            data, reason = form.cleaned_data, form.cleaned_data.get("reason", "")
            job = job_create(site=data["site"], service_type=data["service_type"], description=data["description"],
                             urgency=data["urgency"], source=data["source"], equipment=data.get("equipment"),
                             requested_start=data.get("requested_start"), requested_end=data.get("requested_end"),
                             estimated_duration_min=data["estimated_duration_min"], actor=request.user, reason=reason)
            if data.get("technician") is not None:
                job = job_assign(job=job, technician=data["technician"], scheduled_start=data.get("scheduled_start"),
                                 scheduled_end=data.get("scheduled_end"), actor=request.user, reason=reason)
        obj.pk = job.pk
        obj.refresh_from_db()

    def _action_page(self, request, queryset, *, form_class, title: str, apply) -> TemplateResponse | None:
        """An action with its own form (a reason, a time, a technician): shown first, applied on submit."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, refused = 0, []
            for job in queryset:
                try:
                    with transaction.atomic():
                        apply(job=job, data=form.cleaned_data, actor=request.user)
                    done += 1
                except ServiceError as exc:
                    refused.append(f"#{job.pk}: {exc.message}")
            self.message_user(request, _("%(n)d job(s) changed.") % {"n": done}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return TemplateResponse(request, "admin/hvaccrm/servicejob/action_form.html", {
            **self.admin_site.each_context(request), "title": title, "form": form, "queryset": queryset,
            "action": request.POST.get("action"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    @admin.action(description=_("Cancel the selected jobs (with a reason)"), permissions=["change"])
    def cancel_jobs(self, request, queryset):
        return self._action_page(request, queryset, form_class=ReasonForm, title=_("Cancel jobs"),
                                 apply=lambda job, data, actor: job_transition(
                                     job=job, to_status=JobStatus.CANCELLED, actor=actor, reason=data["reason"]))

    @admin.action(description=_("Reschedule the selected jobs (with a reason)"), permissions=["change"])
    def reschedule_jobs(self, request, queryset):
        return self._action_page(request, queryset, form_class=RescheduleForm, title=_("Reschedule jobs"),
                                 apply=lambda job, data, actor: job_reschedule(
                                     job=job, scheduled_start=data["scheduled_start"],
                                     scheduled_end=data["scheduled_end"], actor=actor, reason=data["reason"]))

    @admin.action(description=_("Reassign the selected jobs (with a reason)"), permissions=["change"])
    def reassign_jobs(self, request, queryset):
        return self._action_page(request, queryset, form_class=ReassignForm, title=_("Reassign jobs"),
                                 apply=lambda job, data, actor: job_assign(
                                     job=job, technician=data["technician"], actor=actor, reason=data["reason"]))
