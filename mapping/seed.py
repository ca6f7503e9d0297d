"""Demo data of the mapping app: today's routes planned over the core's demo jobs."""

from __future__ import annotations

from django.utils import timezone

from hvaccrm.seed import register_seeder


@register_seeder("mapping", order=40)
def seed_mapping(*, rng, stdout) -> str:
    from mapping.models import DayPlan
    from mapping.services import day_plan

    existing = DayPlan.objects.filter(day=timezone.localdate()).first()
    if existing is not None:  # idempotent: a second seed keeps the plan it made
        return f"today's plan exists (version {existing.version}, {existing.routes.count()} routes)"
    summary = day_plan(day=timezone.localdate(), reason="seed")
    return (f"today's plan: {len(summary['routes'])} routes, {len(summary['unassigned'])} unassigned, "
            f"travel {summary['total_travel_s'] // 60} min")
