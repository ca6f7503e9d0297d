from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hvaccrm.validators import nip_is_valid, normalise_nip, validate_nip, validate_phone


class Language(models.TextChoices):
    PL = "pl", _("Polish")
    EN = "en", _("English")


class Client(models.Model):
    """A customer of the HVAC company: a household or a business, with its portal users."""

    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        BUSINESS = "business", _("business")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RESIDENTIAL)
    name = models.CharField(_("name"), max_length=200)
    nip = models.CharField(_("NIP"), max_length=10, blank=True, validators=[validate_nip])
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])
    billing_address = models.CharField(_("billing address"), max_length=255, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.PL
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="clients", verbose_name=_("portal users")
    )
    notes = models.TextField(_("office notes"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic (test data)"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="business") | models.Q(nip__regex=r"^[0-9]{10}$"),
                name="client_business_has_nip",
            ),
            models.CheckConstraint(condition=models.Q(nip="") | models.Q(nip__regex=r"^[0-9]{10}$"), name="client_nip_digits"),
        ]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None) -> None:
        self.nip = normalise_nip(self.nip)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        self.nip = normalise_nip(self.nip)
        if self.kind == self.Kind.BUSINESS and not self.nip:
            raise ValidationError({"nip": _("A business client needs a NIP.")})
        if self.nip and not nip_is_valid(self.nip):
            raise ValidationError({"nip": _("This is not a valid Polish NIP (10 digits with a correct checksum).")})


class Site(models.Model):
    """A place where the company services equipment; district is empty outside Warsaw."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sites", verbose_name=_("client"))
    label = models.CharField(_("label"), max_length=100, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    city = models.CharField(_("city"), max_length=100, default="Warszawa")
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    district = models.ForeignKey(
        "hvaccrm.District", on_delete=models.SET_NULL, null=True, blank=True, related_name="sites",
        verbose_name=_("district"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["client_id", "id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="site_coordinates_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.street}, {self.city}"

    @property
    def district_label(self) -> str:
        return self.district.name if self.district_id else str(_("outside Warsaw"))

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}".replace(" ,", ",").strip()


class Refrigerant(models.TextChoices):
    NONE = "", _("none")
    R32 = "R32", "R32"
    R410A = "R410A", "R410A"
    R407C = "R407C", "R407C"
    R134A = "R134a", "R134a"
    R404A = "R404A", "R404A"
    R1234YF = "R1234yf", "R1234yf"
    R290 = "R290", "R290 (propane)"
    R744 = "R744", "R744 (CO2)"


# Global warming potentials (100-year, AR4) as used by the EU F-gas regulation for CO2e.
GWP = {"R32": 675, "R410A": 2088, "R407C": 1774, "R134a": 1430, "R404A": 3922, "R1234yf": 4, "R290": 3, "R744": 1}
# Fluorinated gases counted by the F-gas register; natural refrigerants (propane, CO2) are not.
F_GASES = {"R32", "R410A", "R407C", "R134a", "R404A", "R1234yf"}


class Equipment(models.Model):
    """A unit at a site; computes its CO2-equivalent and F-gas register (CRO) duties."""

    class Kind(models.TextChoices):
        SPLIT_AC = "split_ac", _("split air conditioner")
        MULTI_SPLIT = "multi_split", _("multi-split")
        HEAT_PUMP = "heat_pump", _("heat pump")
        GAS_BOILER = "gas_boiler", _("gas boiler")
        VENTILATION = "ventilation", _("ventilation / heat recovery")
        CHILLER = "chiller", _("chiller")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="equipment", verbose_name=_("site"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    brand = models.CharField(_("brand"), max_length=64, blank=True)
    model = models.CharField(_("model"), max_length=64, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True)
    refrigerant = models.CharField(_("refrigerant"), max_length=10, choices=Refrigerant.choices, blank=True)
    refrigerant_charge_kg = models.DecimalField(
        _("refrigerant charge (kg)"), max_digits=7, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10000"))],
    )
    leak_detection_system = models.BooleanField(_("leak detection system installed"), default=False)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    last_maintenance_on = models.DateField(_("last maintenance"), null=True, blank=True)
    last_leak_check_on = models.DateField(_("last leak check"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["site_id", "id"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        constraints = [
            models.CheckConstraint(condition=models.Q(refrigerant_charge_kg__gte=0), name="equipment_charge_not_negative"),
            models.CheckConstraint(
                condition=models.Q(warranty_until__isnull=True)
                | models.Q(installed_on__isnull=True)
                | models.Q(warranty_until__gte=models.F("installed_on")),
                name="equipment_warranty_after_install",
            ),
        ]
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        label = " ".join(p for p in (self.brand, self.model) if p) or self.get_kind_display()
        return f"{label} ({self.serial_number})" if self.serial_number else label

    @property
    def co2e_tonnes(self) -> Decimal:
        gwp = GWP.get(self.refrigerant, 0)
        return (Decimal(self.refrigerant_charge_kg) * gwp / Decimal(1000)).quantize(Decimal("0.01"))

    @property
    def under_fgas_register(self) -> bool:
        """Leak-check and CRO duties start at 5 t CO2e of a fluorinated gas (EU 2024/573, art. 5)."""
        return self.refrigerant in F_GASES and self.co2e_tonnes >= 5

    @property
    def leak_check_interval_months(self) -> int | None:
        """12 / 6 / 3 months at 5 / 50 / 500 t CO2e; doubled with a leak detection system."""
        if not self.under_fgas_register:
            return None
        tonnes = self.co2e_tonnes
        months = 3 if tonnes >= 500 else 6 if tonnes >= 50 else 12
        return months * 2 if self.leak_detection_system else months

    @property
    def next_leak_check_due(self) -> date | None:
        months = self.leak_check_interval_months
        if months is None:
            return None
        base = self.last_leak_check_on or self.installed_on
        return None if base is None else base + timedelta(days=round(months * 30.44))

    @property
    def next_maintenance_due(self) -> date | None:
        """Recommended yearly service (boilers and heat pumps before the heating season)."""
        base = self.last_maintenance_on or self.installed_on
        return None if base is None else base + timedelta(days=365)

    def clean(self) -> None:
        if self.refrigerant and self.kind == self.Kind.GAS_BOILER:
            raise ValidationError({"refrigerant": _("A gas boiler has no refrigerant.")})


class Consent(models.Model):
    """An append-only ledger entry: a client granted or withdrew consent for one purpose."""

    class Purpose(models.TextChoices):
        SERVICE_NOTIFICATIONS = "service_notifications", _("service notifications")
        MARKETING_EMAIL = "marketing_email", _("marketing by e-mail")
        MARKETING_SMS = "marketing_sms", _("marketing by SMS")
        SATISFACTION_SURVEYS = "satisfaction_surveys", _("satisfaction surveys")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("client portal")
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")
        OFFICE = "office", _("office")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents", verbose_name=_("client"))
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    text_version = models.CharField(_("text version"), max_length=32)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["client", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.purpose} {'+' if self.granted else '-'}"

    def save(self, *args, **kwargs):
        # The ledger is append-only: a change is a new entry, never an edit of an old one.
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValidationError(_("Consent entries cannot be changed; record a new entry."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Consent entries cannot be deleted."))
