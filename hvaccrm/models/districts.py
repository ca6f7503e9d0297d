from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

DISTRICT_SLUGS = (
    "bemowo", "bialoleka", "bielany", "mokotow", "ochota", "praga-poludnie", "praga-polnoc",
    "rembertow", "srodmiescie", "targowek", "ursus", "ursynow", "wawer", "wesola", "wilanow",
    "wlochy", "wola", "zoliborz",
)  # fmt: skip


class AffluenceTier(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


# Cache TTL of district-scoped data (map layers, statistics) by affluence tier, in seconds:
# busier, wealthier districts change faster (the design's 5 / 10 / 15 minutes).
TIER_CACHE_TTL = {AffluenceTier.HIGH: 300, AffluenceTier.MEDIUM: 600, AffluenceTier.LOW: 900}


class District(models.Model):
    """One of Warsaw's 18 districts (dzielnice) with its boundary as GeoJSON."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    affluence_tier = models.CharField(
        _("affluence tier"), max_length=8, choices=AffluenceTier.choices, default=AffluenceTier.MEDIUM
    )
    weight = models.FloatField(_("weight"), default=1.0)
    neighbours = models.ManyToManyField("self", symmetrical=True, blank=True, verbose_name=_("neighbours"))
    geometry = models.JSONField(_("geometry (GeoJSON)"), default=dict, blank=True)
    geometry_source = models.CharField(_("geometry source"), max_length=32, default="default")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            models.CheckConstraint(condition=models.Q(slug__in=DISTRICT_SLUGS), name="district_slug_known"),
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="district_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cache_ttl(self) -> int:
        return TIER_CACHE_TTL[AffluenceTier(self.affluence_tier)]
