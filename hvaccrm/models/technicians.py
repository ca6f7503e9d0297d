from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from hvaccrm.validators import validate_phone


class Skill(models.TextChoices):
    SPLIT_AC = "split_ac", _("split AC")
    MULTI_SPLIT = "multi_split", _("multi-split")
    HEAT_PUMP = "heat_pump", _("heat pump")
    GAS_BOILER = "gas_boiler", _("gas boiler")
    VENTILATION = "ventilation", _("ventilation")
    CHILLER = "chiller", _("chiller")
    FGAS_CERTIFIED = "fgas_certified", _("F-gas certificate")
    ELECTRICAL = "electrical", _("electrical (SEP)")


class FgasCategory(models.TextChoices):
    """Certificate categories of Regulation (EU) 2015/2067, art. 3."""

    I = "I", _("category I (all work)")  # noqa: E741 -- the regulation's own name
    II = "II", _("category II (leak checks; other work below 3 kg)")
    III = "III", _("category III (recovery below 3 kg)")
    IV = "IV", _("category IV (leak checks only)")


class Technician(models.Model):
    """A field technician; mapping writes the shift state and last known position here."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician", verbose_name=_("user")
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])
    skills = ArrayField(
        models.CharField(max_length=20, choices=Skill.choices), default=list, blank=True, verbose_name=_("skills")
    )
    home_district = models.ForeignKey(
        "hvaccrm.District", on_delete=models.PROTECT, related_name="technicians", verbose_name=_("home district")
    )
    shift_start = models.TimeField(_("shift start"), default=time(8, 0))
    shift_end = models.TimeField(_("shift end"), default=time(16, 0))
    max_jobs_per_day = models.PositiveSmallIntegerField(_("maximum jobs per day"), default=8)
    start_latitude = models.FloatField(_("start point latitude"), null=True, blank=True)
    start_longitude = models.FloatField(_("start point longitude"), null=True, blank=True)
    fgas_certificate_number = models.CharField(_("F-gas certificate number"), max_length=32, blank=True)
    fgas_certificate_category = models.CharField(_("F-gas certificate category"), max_length=3,
                                                 choices=FgasCategory.choices, blank=True)
    fgas_certificate_expires_on = models.DateField(_("F-gas certificate valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    on_shift = models.BooleanField(_("on shift"), default=False)
    private_mode = models.BooleanField(_("private mode"), default=False)
    last_latitude = models.FloatField(_("last latitude"), null=True, blank=True)
    last_longitude = models.FloatField(_("last longitude"), null=True, blank=True)
    last_accuracy_m = models.FloatField(_("last accuracy (m)"), null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position time"), null=True, blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        constraints = [
            models.CheckConstraint(condition=models.Q(shift_end__gt=models.F("shift_start")), name="technician_shift_order"),
            models.CheckConstraint(
                condition=models.Q(last_latitude__isnull=True) | models.Q(last_latitude__gte=-90, last_latitude__lte=90),
                name="technician_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(fgas_certificate_number="")
                | (~models.Q(fgas_certificate_category="") & models.Q(fgas_certificate_expires_on__isnull=False)),
                name="technician_certificate_complete",
            ),
        ]
        indexes = [models.Index(fields=["active", "on_shift", "home_district"])]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def shift_hours(self) -> float:
        start = self.shift_start.hour * 60 + self.shift_start.minute
        end = self.shift_end.hour * 60 + self.shift_end.minute
        return (end - start) / 60
