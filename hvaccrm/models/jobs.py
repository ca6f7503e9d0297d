from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    INSTALLATION = "installation", _("installation")
    MAINTENANCE = "maintenance", _("maintenance")
    REPAIR = "repair", _("repair")
    INSPECTION = "inspection", _("inspection")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    EMERGENCY = "emergency", _("emergency")


class JobStatus(models.TextChoices):
    NEW = "new", _("new")
    SCHEDULED = "scheduled", _("scheduled")
    EN_ROUTE = "en_route", _("en route")
    ON_SITE = "on_site", _("on site")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.EN_ROUTE, JobStatus.ON_SITE)

# The status machine: the only legal moves. `job_transition` enforces it.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.NEW: frozenset({JobStatus.SCHEDULED, JobStatus.CANCELLED}),
    JobStatus.SCHEDULED: frozenset({JobStatus.EN_ROUTE, JobStatus.NEW, JobStatus.CANCELLED}),
    JobStatus.EN_ROUTE: frozenset({JobStatus.ON_SITE, JobStatus.SCHEDULED, JobStatus.CANCELLED}),
    JobStatus.ON_SITE: frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class JobSource(models.TextChoices):
    PORTAL = "portal", _("client portal")
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    MESSAGE = "message", _("message")
    SYSTEM = "system", _("system (planned maintenance)")


class TsTzRange(models.Func):
    """PostgreSQL's tstzrange(start, end), half-open [start, end): two slots that only touch do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


HELD_SLOT_STATUSES = ("scheduled", "en_route", "on_site")


class HeldSlotExclusion(ExclusionConstraint):
    """The exclusion constraint, validated in Python only when the form holds `slot_held`: Django
    resolves the condition's fields even when a form leaves them out (a FieldError). The database
    decides at save in any case; job_assign_slot turns its refusal into a clear message."""

    def validate(self, model, instance, exclude=None, using=None, **kwargs):
        if exclude and "slot_held" in exclude:
            return
        kwargs = {**kwargs, "using": using} if using else kwargs
        super().validate(model, instance, exclude=exclude, **kwargs)


class ServiceJob(models.Model):
    """A visit to do at a site; its status changes only through `job_transition`."""

    client = models.ForeignKey("hvaccrm.Client", on_delete=models.PROTECT, related_name="jobs", verbose_name=_("client"))
    site = models.ForeignKey("hvaccrm.Site", on_delete=models.PROTECT, related_name="jobs", verbose_name=_("site"))
    equipment = models.ForeignKey(
        "hvaccrm.Equipment", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("equipment"),
    )
    service_type = models.CharField(_("service type"), max_length=16, choices=ServiceType.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=50, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.NEW)
    source = models.CharField(_("source"), max_length=16, choices=JobSource.choices, default=JobSource.PHONE)
    requested_start = models.DateTimeField(_("requested from"), null=True, blank=True)
    requested_end = models.DateTimeField(_("requested until"), null=True, blank=True)
    scheduled_start = models.DateTimeField(_("scheduled from"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("scheduled until"), null=True, blank=True)
    technician = models.ForeignKey(
        "hvaccrm.Technician", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("assigned technician"),
    )
    estimated_duration_min = models.PositiveIntegerField(_("estimated duration (min)"), default=60)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    district = models.ForeignKey(
        "hvaccrm.District", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("district"),
    )
    eta = models.DateTimeField(_("ETA"), null=True, blank=True)
    report = models.JSONField(_("completion report"), default=dict, blank=True)
    agreement = models.ForeignKey(
        "hvaccrm.Agreement", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("maintenance agreement"),
    )
    # The planned period a generated visit belongs to ("agr12:2026:cooling", "leak:2026-07-01"): the
    # unique constraint below makes the nightly generator safe to re-run and to run twice at once.
    period_key = models.CharField(_("planned period"), max_length=40, null=True, blank=True)
    season = models.CharField(_("season"), max_length=8, blank=True)
    # A dispatcher's pin (docs/jobs.md): the technician and time a person chose. The optimiser keeps a
    # pinned job with its technician in its window; a job it placed itself may move at the next plan.
    pinned_at = models.DateTimeField(_("pinned by a dispatcher at"), null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("pinned by"),
    )
    # A dispatcher placed the job on a technician's time axis (job_assign_slot): its scheduled
    # [start, end) is the technician's, and the exclusion constraint below keeps it theirs alone.
    slot_held = models.BooleanField(_("time slot held"), default=False)
    is_synthetic = models.BooleanField(_("synthetic (test data)"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service job")
        verbose_name_plural = _("service jobs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_end__isnull=True)
                | models.Q(requested_start__isnull=True)
                | models.Q(requested_end__gt=models.F("requested_start")),
                name="job_requested_window_order",
            ),
            models.CheckConstraint(
                condition=models.Q(scheduled_end__isnull=True)
                | models.Q(scheduled_start__isnull=True)
                | models.Q(scheduled_end__gt=models.F("scheduled_start")),
                name="job_scheduled_window_order",
            ),
            models.CheckConstraint(condition=models.Q(priority__lte=100), name="job_priority_range"),
            models.CheckConstraint(condition=models.Q(estimated_duration_min__gt=0), name="job_duration_positive"),
            models.CheckConstraint(condition=models.Q(status__in=[s.value for s in JobStatus]), name="job_status_known"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["scheduled", "en_route", "on_site"]) | models.Q(technician__isnull=False),
                name="job_assigned_when_scheduled",
            ),
            # One planned visit per unit and period; a cancelled one frees its period.
            models.UniqueConstraint(
                fields=["equipment", "period_key"], condition=models.Q(period_key__isnull=False) & ~models.Q(status="cancelled"),
                name="job_one_visit_per_unit_period",
            ),
            # No double booking, even for two dispatchers at the same moment: the database refuses
            # a second held slot of one technician overlapping another open one (btree_gist).
            HeldSlotExclusion(
                name="job_no_overlapping_held_slots",
                expressions=[("technician", RangeOperators.EQUAL),
                             (TsTzRange("scheduled_start", "scheduled_end"), RangeOperators.OVERLAPS)],
                condition=models.Q(slot_held=True, status__in=HELD_SLOT_STATUSES, technician__isnull=False,
                                   scheduled_start__isnull=False, scheduled_end__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_start"]),
            models.Index(fields=["district", "status"]),
            models.Index(fields=["technician", "scheduled_start"]),
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["service_type", "created_at"]),
            models.Index(fields=["urgency"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_service_type_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# The job's history (docs/jobs.md): database triggers see every write, `queryset.update()` too.
# The ETA moves with every GPS ping and updated_at with every write: recording them would bury the
# changes people make. Who and why come from the services' `pghistory.context(actor=, reason=)`.
ServiceJobEvent = pghistory.create_event_model(
    ServiceJob, pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["eta", "updated_at"],
    model_name="ServiceJobEvent", abstract=False,
)


class JobFeedback(models.Model):
    """A client's rating (1-5) and comment on a finished job."""

    job = models.OneToOneField(ServiceJob, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("job"))
    client = models.ForeignKey("hvaccrm.Client", on_delete=models.CASCADE, related_name="feedback", verbose_name=_("client"))
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job feedback")
        verbose_name_plural = _("job feedback")
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_range"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.rating}/5"

