"""Mapping's rows: GPS pings, the day's plan (routes, stops, unassigned jobs) and slot proposals."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LocationPing(models.Model):
    """One accepted GPS position of a technician on shift; resent pings (same seq) are stored once."""

    technician = models.ForeignKey(
        "hvaccrm.Technician", on_delete=models.CASCADE, related_name="pings", verbose_name=_("technician")
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    accuracy_m = models.FloatField(_("accuracy (m)"))
    speed_mps = models.FloatField(_("speed (m/s)"), null=True, blank=True)
    heading = models.FloatField(_("heading (°)"), null=True, blank=True)
    device_time = models.DateTimeField(_("device time"))
    seq = models.BigIntegerField(_("device sequence number"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    # True once retention has thinned this point's interval to one point per N minutes.
    reduced = models.BooleanField(_("reduced"), default=False)

    class Meta:
        ordering = ["-device_time", "-id"]
        verbose_name = _("location ping")
        verbose_name_plural = _("location pings")
        constraints = [
            models.UniqueConstraint(fields=["technician", "seq"], name="ping_seq_unique_per_technician"),
            models.CheckConstraint(condition=models.Q(latitude__gte=-90, latitude__lte=90), name="ping_latitude_range"),
            models.CheckConstraint(condition=models.Q(longitude__gte=-180, longitude__lte=180), name="ping_longitude_range"),
            models.CheckConstraint(condition=models.Q(accuracy_m__gte=0), name="ping_accuracy_not_negative"),
        ]
        indexes = [
            models.Index(fields=["technician", "-device_time"], name="ping_tech_time_idx"),
            models.Index(fields=["reduced", "device_time"], name="ping_retention_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.technician_id} @ {self.device_time:%Y-%m-%d %H:%M:%S} #{self.seq}"


class DayPlan(models.Model):
    """The optimiser's latest plan of one day: totals and why it was (re)made."""

    day = models.DateField(_("day"), unique=True)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    total_travel_s = models.PositiveIntegerField(_("total travel (s)"), default=0)
    solve_ms = models.FloatField(_("solve time (ms)"), default=0)
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("day plan")
        verbose_name_plural = _("day plans")

    def __str__(self) -> str:
        return f"{self.day} v{self.version}"


class Route(models.Model):
    """One technician's ordered stops for a day."""

    plan = models.ForeignKey(DayPlan, on_delete=models.CASCADE, related_name="routes", verbose_name=_("plan"))
    technician = models.ForeignKey(
        "hvaccrm.Technician", on_delete=models.CASCADE, related_name="routes", verbose_name=_("technician")
    )
    start_at = models.DateTimeField(_("leaves at"), null=True, blank=True)
    end_at = models.DateTimeField(_("back at"), null=True, blank=True)
    travel_s = models.PositiveIntegerField(_("travel (s)"), default=0)

    class Meta:
        ordering = ["plan_id", "technician_id"]
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        constraints = [models.UniqueConstraint(fields=["plan", "technician"], name="route_one_per_technician_day")]

    def __str__(self) -> str:
        return f"{self.plan.day}: {self.technician_id}"


class RouteStop(models.Model):
    """A job on a route, with its planned arrival (the ETA) and service window."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops", verbose_name=_("route"))
    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.CASCADE, related_name="route_stops", verbose_name=_("job"))
    sequence = models.PositiveSmallIntegerField(_("order"))
    eta = models.DateTimeField(_("arrival (ETA)"))
    service_start = models.DateTimeField(_("service starts"))
    service_end = models.DateTimeField(_("service ends"))
    travel_s = models.PositiveIntegerField(_("travel from previous stop (s)"), default=0)
    fixed = models.BooleanField(_("fixed (already started)"), default=False)

    class Meta:
        ordering = ["route_id", "sequence"]
        verbose_name = _("route stop")
        verbose_name_plural = _("route stops")
        constraints = [
            models.UniqueConstraint(fields=["route", "sequence"], name="stop_sequence_unique"),
            models.CheckConstraint(condition=models.Q(service_end__gte=models.F("service_start")), name="stop_service_order"),
        ]

    def __str__(self) -> str:
        return f"{self.route_id}#{self.sequence}: job {self.job_id}"


class UnassignedJob(models.Model):
    """A job of the day that the plan could not place, and why."""

    class Reason(models.TextChoices):
        SKILLS = "skills", _("no technician has the required skills")
        TIME_WINDOW = "time_window", _("no technician can reach it within its window and shift")
        CAPACITY = "capacity", _("more than any technician can carry")
        NO_LOCATION = "no_location", _("the job has no location")
        NO_TECHNICIAN = "no_technician", _("no technician is working that day")
        ROUTE_FULL = "route_full", _("all suitable routes are full (jobs, time or capacity)")

    plan = models.ForeignKey(DayPlan, on_delete=models.CASCADE, related_name="unassigned", verbose_name=_("plan"))
    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.CASCADE, related_name="+", verbose_name=_("job"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)

    class Meta:
        ordering = ["plan_id", "job_id"]
        verbose_name = _("unassigned job")
        verbose_name_plural = _("unassigned jobs")
        constraints = [models.UniqueConstraint(fields=["plan", "job"], name="unassigned_once_per_plan")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.reason}"


class SlotProposal(models.Model):
    """A proposed visit time for a job (technician and window) that fits the day's plan."""

    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.CASCADE, related_name="slot_proposals", verbose_name=_("job"))
    technician = models.ForeignKey("hvaccrm.Technician", on_delete=models.CASCADE, related_name="+", verbose_name=_("technician"))
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    extra_travel_s = models.PositiveIntegerField(_("extra travel (s)"), default=0)
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["job_id", "rank"]
        verbose_name = _("slot proposal")
        verbose_name_plural = _("slot proposals")
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="slot_order")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.technician_id} {self.start:%Y-%m-%d %H:%M}"
