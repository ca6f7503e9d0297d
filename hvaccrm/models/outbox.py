from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    """Subsystems that the outbox delivers work to (the integration service handles each)."""

    MAP = "map", _("map")
    PROPHECY = "prophecy", _("prophecy (vector store)")
    NOTIFICATIONS = "notifications", _("notifications")
    PORTAL = "portal", _("portal")
    AUDIT = "audit", _("audit")


class IntegrationLog(models.Model):
    """One piece of work owed to another subsystem (the outbox), and its delivery record."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed (will be retried)")
        DEAD = "dead", _("dead (gave up)")

    source = models.CharField(_("source"), max_length=32)
    target = models.CharField(_("target"), max_length=32, choices=Target.choices)
    kind = models.CharField(_("kind"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    audit_level = models.CharField(_("audit level"), max_length=16, default="basic")
    details = models.JSONField(_("details"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    duration_ms = models.FloatField(_("duration (ms)"), null=True, blank=True)
    latency_ms = models.FloatField(_("latency from commit (ms)"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("integration log entry")
        verbose_name_plural = _("integration log")
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=["pending", "succeeded", "failed", "dead"]), name="log_state_known"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="log_due_idx"),
            models.Index(fields=["target", "state", "created_at"], name="log_target_state_idx"),
            models.Index(fields=["object_type", "object_id"], name="log_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}→{self.target} {self.kind} {self.object_type}:{self.object_id} [{self.state}]"


class IntegrationSwitch(models.Model):
    """Turns one cross-system target off at run time; its outbox rows wait as pending."""

    target = models.CharField(_("target"), max_length=32, choices=Target.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["target"]
        verbose_name = _("integration switch")
        verbose_name_plural = _("integration switches")

    def __str__(self) -> str:
        return f"{self.target}: {'on' if self.enabled else 'off'}"
