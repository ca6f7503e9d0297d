"""Prophecy's own tables: sync state and text features per object reference, the embedded vector
store (PostgreSQL is its truth), demand predictions and backtests."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncState(models.Model):
    """Where one object (a message, a job, a feedback) stands on its way into the vector store."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SYNCED = "synced", _("synced")
        FAILED = "failed", _("failed")
        ERASED = "erased", _("erased")

    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    vector_id = models.UUIDField(_("vector id"))
    backend = models.CharField(_("backend"), max_length=16, blank=True)
    provider = models.CharField(_("embedding provider"), max_length=32, blank=True)
    client_id = models.BigIntegerField(_("client id"), null=True, blank=True, db_index=True)
    district = models.CharField(_("district"), max_length=32, blank=True)
    service_type = models.CharField(_("service type"), max_length=16, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The embedding kept with the sync state (float32 bytes), whatever the backend: a reindex or
    # a move to another backend need not embed again while the provider is the same.
    embedding = models.BinaryField(_("embedding (float32)"), null=True, blank=True, editable=False)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")
        constraints = [
            models.UniqueConstraint(fields=["object_type", "object_id"], name="prophecy_sync_object_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "synced", "failed", "erased"]), name="prophecy_sync_state_known"
            ),
        ]
        indexes = [models.Index(fields=["state", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} ({self.state})"


class TextFeatures(models.Model):
    """Keywords (lemmas), service indicators, symptoms and error codes of one synced text."""

    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    language = models.CharField(_("language"), max_length=2)
    # The privacy-filtered text and its filters, kept here too so keyword search works whatever
    # the vector backend (and while it is down).
    text = models.TextField(_("text (privacy-filtered)"), blank=True)
    district = models.CharField(_("district"), max_length=32, blank=True)
    service_type = models.CharField(_("service type"), max_length=16, blank=True)
    created = models.DateTimeField(_("created"), null=True, blank=True)
    client_id = models.BigIntegerField(_("client id"), null=True, blank=True, db_index=True)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    keywords = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("keywords"))
    service_indicators = ArrayField(models.CharField(max_length=32), default=list, blank=True,
                                    verbose_name=_("service indicators"))
    equipment = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("equipment"))
    symptoms = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("symptoms"))
    error_codes = ArrayField(models.CharField(max_length=16), default=list, blank=True, verbose_name=_("error codes"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("text features")
        verbose_name_plural = _("text features")
        constraints = [
            models.UniqueConstraint(fields=["object_type", "object_id"], name="prophecy_features_object_unique"),
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="prophecy_feat_obj_idx"),
            GinIndex(fields=["keywords"], name="prophecy_feat_kw_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id}"


class StoredVector(models.Model):
    """The embedded backend's truth: one object's vector (float32 bytes) and filterable properties.

    `version` is the store version that last wrote the row, so a process's index loads only what
    changed since the version it holds.
    """

    id = models.UUIDField(primary_key=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    vector = models.BinaryField(_("vector (float32)"))
    dim = models.PositiveSmallIntegerField(_("dimensions"))
    district = models.CharField(_("district"), max_length=32, blank=True)
    service_type = models.CharField(_("service type"), max_length=16, blank=True)
    created = models.DateTimeField(_("created"), null=True, blank=True)
    client_id = models.BigIntegerField(_("client id"), null=True, blank=True, db_index=True)
    text = models.TextField(_("text (privacy-filtered)"))
    keywords = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("keywords"))
    properties = models.JSONField(_("other properties"), default=dict, blank=True)
    version = models.BigIntegerField(_("store version"), db_index=True)

    class Meta:
        verbose_name = _("stored vector")
        verbose_name_plural = _("stored vectors")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="prophecy_vec_obj_idx"),
            models.Index(fields=["district", "service_type"], name="prophecy_vec_filter_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id}"


class VectorStoreVersion(models.Model):
    """One row: bumped by every write to the embedded store; `generation` also by every delete
    (a process must then reload its index whole instead of applying the changed rows)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(_("version"), default=0)
    generation = models.BigIntegerField(_("generation"), default=0)
    epoch = models.UUIDField(_("epoch"), default=uuid.uuid4, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("vector store version")
        verbose_name_plural = _("vector store version")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="prophecy_version_single_row")]

    def __str__(self) -> str:
        return f"v{self.version} g{self.generation}"


class Prediction(models.Model):
    """A forecast of one district's demand for one service type in one week (Monday)."""

    district = models.ForeignKey("hvaccrm.District", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("district"))
    service_type = models.CharField(_("service type"), max_length=16)
    week_start = models.DateField(_("week (Monday)"))
    forecast_jobs = models.FloatField(_("forecast jobs"))
    forecast_low = models.FloatField(_("interval low (jobs)"))
    forecast_high = models.FloatField(_("interval high (jobs)"))
    interval_level = models.PositiveSmallIntegerField(_("interval level (%)"), default=80)
    job_hours = models.FloatField(_("forecast job-hours"))
    capacity_hours = models.FloatField(_("capacity (hours)"))
    predicted_demand = models.FloatField(_("predicted demand"))
    confidence = models.FloatField(_("confidence"))
    mase = models.FloatField(_("backtest MASE"), null=True, blank=True)
    seasonal_naive_mase = models.FloatField(_("seasonal-naive MASE"), null=True, blank=True)
    model_name = models.CharField(_("model"), max_length=32)
    is_hotspot = models.BooleanField(_("hotspot"), default=False)
    alerted_at = models.DateTimeField(_("alerted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["week_start", "district__name", "service_type"]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        constraints = [
            models.UniqueConstraint(fields=["district", "service_type", "week_start"],
                                    name="prophecy_prediction_unique"),
            models.CheckConstraint(condition=models.Q(predicted_demand__gte=0, predicted_demand__lte=1),
                                   name="prophecy_demand_range"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0, confidence__lte=1),
                                   name="prophecy_confidence_range"),
        ]
        indexes = [models.Index(fields=["is_hotspot", "week_start"], name="prophecy_pred_hot_idx")]

    def __str__(self) -> str:
        return f"{self.district_id} {self.service_type} {self.week_start}: {self.predicted_demand:.2f}"


class BacktestResult(models.Model):
    """Rolling-origin backtest of one forecast run: errors of the model and of seasonal-naive."""

    district = models.ForeignKey("hvaccrm.District", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("district"), null=True, blank=True)
    service_type = models.CharField(_("service type"), max_length=16, blank=True)
    model_name = models.CharField(_("model"), max_length=32)
    folds = models.PositiveSmallIntegerField(_("folds"))
    horizon = models.PositiveSmallIntegerField(_("horizon (weeks)"))
    mase = models.FloatField(_("MASE"))
    seasonal_naive_mase = models.FloatField(_("seasonal-naive MASE"))
    run_at = models.DateTimeField(_("run at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-run_at", "-id"]
        verbose_name = _("backtest result")
        verbose_name_plural = _("backtest results")

    def __str__(self) -> str:
        return f"{self.model_name}: {self.mase:.2f} vs {self.seasonal_naive_mase:.2f}"

    @property
    def ratio(self) -> float | None:
        return self.mase / self.seasonal_naive_mase if self.seasonal_naive_mase else None


class JobWeekCount(models.Model):
    """History older than the job records, kept as weekly counts per district and service type
    (the demo's two years before its last quarter; an import of a previous system's totals).
    The forecast adds them to the counts of the job rows."""

    district = models.ForeignKey("hvaccrm.District", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("district"))
    service_type = models.CharField(_("service type"), max_length=16)
    week_start = models.DateField(_("week (Monday)"))
    jobs = models.PositiveIntegerField(_("jobs"))

    class Meta:
        ordering = ["week_start", "district_id", "service_type"]
        verbose_name = _("weekly job count")
        verbose_name_plural = _("weekly job counts")
        constraints = [models.UniqueConstraint(fields=["district", "service_type", "week_start"],
                                               name="prophecy_jobweekcount_unique")]

    def __str__(self) -> str:
        return f"{self.district_id} {self.service_type} {self.week_start}: {self.jobs}"
