"""Maintenance agreements and the F-gas register's typed refrigerant records."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A refrigerant quantity above this is a typing error, not an intervention (the largest chillers we
# service hold a few hundred kilograms).
MAX_KG = Decimal("1000")


class Season(models.TextChoices):
    COOLING = "cooling", _("cooling season")
    HEATING = "heating", _("heating season")


class LeakResult(models.TextChoices):
    NO_LEAK = "no_leak", _("no leak")
    REPAIRED = "leak_found_repaired", _("leak found and repaired")
    NOT_REPAIRED = "leak_found_not_repaired", _("leak found, not repaired")


class Agreement(models.Model):
    """A client's maintenance agreement: the units it covers get their visits in their seasons."""

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")

    client = models.ForeignKey("hvaccrm.Client", on_delete=models.PROTECT, related_name="agreements",
                               verbose_name=_("client"))
    sites = models.ManyToManyField("hvaccrm.Site", related_name="agreements", verbose_name=_("sites"))
    equipment = models.ManyToManyField("hvaccrm.Equipment", related_name="agreements",
                                       verbose_name=_("units covered"))
    visits_per_year = models.PositiveSmallIntegerField(
        _("visits per year"), default=1, validators=[MinValueValidator(1), MaxValueValidator(2)],
        help_text=_("One visit in the unit's own season, or two (cooling and heating season)."),
    )
    price = models.DecimalField(_("yearly price (PLN)"), max_digits=10, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0"))])
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)
    renewed_from = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="renewal", verbose_name=_("renewal of"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("maintenance agreement")
        verbose_name_plural = _("maintenance agreements")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")),
                                   name="agreement_ends_after_start"),
            models.CheckConstraint(condition=models.Q(visits_per_year__gte=1, visits_per_year__lte=2),
                                   name="agreement_visits_per_year_range"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="agreement_price_not_negative"),
            models.CheckConstraint(condition=models.Q(state__in=["active", "ended"]), name="agreement_state_known"),
            models.CheckConstraint(condition=models.Q(state="active") | models.Q(ended_on__isnull=False),
                                   name="agreement_ended_has_date"),
        ]
        indexes = [models.Index(fields=["state", "ends_on"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": _("An agreement must end after it starts.")})


class RefrigerantRecord(models.Model):
    """One visit's refrigerant work on one unit: what the F-gas register (CRO) must show."""

    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.PROTECT, related_name="refrigerant_records",
                            verbose_name=_("visit"))
    equipment = models.ForeignKey("hvaccrm.Equipment", on_delete=models.PROTECT,
                                  related_name="refrigerant_records", verbose_name=_("unit"))
    technician = models.ForeignKey("hvaccrm.Technician", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="refrigerant_records", verbose_name=_("technician"))
    certificate_number = models.CharField(_("F-gas certificate number"), max_length=32, blank=True)
    performed_on = models.DateField(_("performed on"))
    refrigerant = models.CharField(_("refrigerant"), max_length=10)
    added_kg = models.DecimalField(_("added (kg)"), max_digits=7, decimal_places=2, default=Decimal("0"),
                                   validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_KG)])
    recovered_kg = models.DecimalField(_("recovered (kg)"), max_digits=7, decimal_places=2, default=Decimal("0"),
                                       validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_KG)])
    leak_check_done = models.BooleanField(_("leak check done"), default=False)
    leak_result = models.CharField(_("leak check result"), max_length=24, choices=LeakResult.choices, blank=True)
    leak_location = models.CharField(_("where the leak was"), max_length=200, blank=True)
    repair = models.CharField(_("how it was repaired"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["equipment_id", "performed_on", "id"]
        verbose_name = _("refrigerant record")
        verbose_name_plural = _("refrigerant records")
        constraints = [
            models.UniqueConstraint(fields=["job", "equipment"], name="refrigerant_record_one_per_visit_unit"),
            models.CheckConstraint(condition=models.Q(added_kg__gte=0, added_kg__lte=MAX_KG)
                                   & models.Q(recovered_kg__gte=0, recovered_kg__lte=MAX_KG),
                                   name="refrigerant_record_quantities_range"),
            models.CheckConstraint(condition=models.Q(leak_check_done=True, leak_result__in=[r.value for r in LeakResult])
                                   | models.Q(leak_check_done=False, leak_result=""),
                                   name="refrigerant_record_result_with_check"),
            models.CheckConstraint(condition=~models.Q(leak_result="leak_found_repaired") | ~models.Q(repair=""),
                                   name="refrigerant_record_repair_described"),
        ]
        indexes = [models.Index(fields=["equipment", "performed_on"]), models.Index(fields=["performed_on"])]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.performed_on} {self.refrigerant}"
