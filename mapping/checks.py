"""Health checks of the mapping app."""

from __future__ import annotations

from hvaccrm.checks import register_check
from hvaccrm.models import District


@register_check("mapping.districts")
def districts_have_geometry() -> str:
    missing = District.objects.filter(geometry={}).count()
    if missing:
        raise RuntimeError(f"{missing} districts have no geometry")
    official = District.objects.filter(geometry_source="official").count()
    return f"{official} of {District.objects.count()} districts official"
