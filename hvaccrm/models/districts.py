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


# Cache TTL of district-scoped data (map layers, statistics) by cache tier, in seconds: the
# districts that matter more get fresher data (the design's 5 / 10 / 15 minutes).
TIER_CACHE_TTL = {AffluenceTier.HIGH: 300, AffluenceTier.MEDIUM: 600, AffluenceTier.LOW: 900}

# The weight is the office's one lever per district (issue 23): it raises the district's jobs in the
# plan and picks its cache tier. 1.0 is neutral. Above 3 the planner's scale is full for every job of
# priority 33 or more (see weighted_priority), so a larger number would mean nothing.
WEIGHT_MAX = 3.0
# Lowest weight of each cache tier, heaviest first; the seed's 0.7-1.4 spread over all three.
CACHE_TIER_MIN_WEIGHT = ((1.2, AffluenceTier.HIGH), (0.9, AffluenceTier.MEDIUM))
# The planner's priority scale (ServiceJob.priority): 100 is an emergency's.
PRIORITY_TOP = 100


def cache_tier_for_weight(weight: float) -> AffluenceTier:
    """The cache tier of a district of this weight: heavier districts get the shorter TTL."""
    return next((tier for low, tier in CACHE_TIER_MIN_WEIGHT if weight >= low), AffluenceTier.LOW)


def weighted_priority(*, priority: int, weight: float) -> int:
    """A job's priority for the planner, scaled by its district's weight. An emergency (the top of
    the scale) is left alone and no weight lifts another job to it: a weight orders routine work,
    it never puts a routine job level with an emergency or an emergency behind one."""
    if priority >= PRIORITY_TOP:
        return PRIORITY_TOP
    return max(0, min(PRIORITY_TOP - 1, round(priority * weight)))


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
    def cache_tier(self) -> AffluenceTier:
        """Follows the weight, not the affluence tier (which describes the district)."""
        return cache_tier_for_weight(self.weight)

    @property
    def cache_ttl(self) -> int:
        return TIER_CACHE_TTL[self.cache_tier]
