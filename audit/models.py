"""Audit rows: integration health over time, repairs made, and checkpoints of the system state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HealthState(models.TextChoices):
    GREEN = "green", _("green")
    AMBER = "amber", _("amber")
    RED = "red", _("red")


class IntegrationHealth(models.Model):
    """The current state of one integration, so that a change is alerted once and not every run."""

    integration = models.CharField(_("integration"), max_length=32, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=HealthState.choices, default=HealthState.GREEN)
    changed_at = models.DateTimeField(_("state since"), auto_now_add=True)
    checked_at = models.DateTimeField(_("last checked"), auto_now=True)
    data = models.JSONField(_("last figures"), default=dict, blank=True)

    class Meta:
        ordering = ["integration"]
        verbose_name = _("integration health")
        verbose_name_plural = _("integration health")

    def __str__(self) -> str:
        return f"{self.integration}: {self.state}"


class HealthSnapshot(models.Model):
    """One five-minute health run: the figures of every integration at that time."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    overall = models.CharField(_("overall state"), max_length=8, choices=HealthState.choices)
    data = models.JSONField(_("figures"), default=dict)
    changes = models.JSONField(_("state changes"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.overall}"


class HealthDaily(models.Model):
    """One day of one integration's health, rolled up from that day's five-minute snapshots and
    kept 13 months (the snapshots 30 days). Integration `_metrics` holds the day's last reading of
    the Redis counters (cache hits and misses, search count and time) for weekly differences."""

    day = models.DateField(_("day"))
    integration = models.CharField(_("integration"), max_length=32)
    success_rate = models.FloatField(_("success rate (%)"), null=True, blank=True)
    p50_ms = models.FloatField(_("p50 (ms)"), null=True, blank=True)
    p95_ms = models.FloatField(_("p95 (ms)"), null=True, blank=True)
    snapshots = models.PositiveIntegerField(_("snapshots"), default=0)
    figures = models.JSONField(_("figures"), default=dict, blank=True)

    class Meta:
        ordering = ["-day", "integration"]
        verbose_name = _("daily health")
        verbose_name_plural = _("daily health")
        constraints = [models.UniqueConstraint(fields=["day", "integration"], name="health_daily_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.integration}"


class RepairRecord(models.Model):
    """One repair made by `repair_data_inconsistencies`: what was found, what was done, by whom."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    run_id = models.CharField(_("repair run"), max_length=36, db_index=True)
    kind = models.CharField(_("finding"), max_length=48)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64)
    ok = models.BooleanField(_("succeeded"), default=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("repair record")
        verbose_name_plural = _("repair records")
        indexes = [models.Index(fields=["kind", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_type}:{self.object_id} {self.action}"


class AuditCheckpoint(models.Model):
    """A snapshot of the system state: counts and content hashes per table and backend, and health."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    label = models.CharField(_("label"), max_length=120, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    data = models.JSONField(_("state"), default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"#{self.pk} {self.label or ''} {self.created_at:%Y-%m-%d %H:%M}".strip()


class ConsistencyCheck(models.Model):
    """One check of the consistency report (audit.consistency.CHECKS) with what it found when last
    run: the rows of the admin list whose actions are the report, the dry run and the repair."""

    kind = models.CharField(_("check"), max_length=48, unique=True)
    found = models.PositiveIntegerField(_("found when last run"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last run"), null=True, blank=True)
    repaired = models.PositiveIntegerField(_("repaired by the last repair"), null=True, blank=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("consistency check")
        verbose_name_plural = _("consistency checks")

    def __str__(self) -> str:
        return self.kind
