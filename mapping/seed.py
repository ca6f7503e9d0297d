"""Demo data of the mapping app: today's routes planned over the core's demo jobs."""

from __future__ import annotations

from django.utils import timezone

from hvaccrm.seed import register_seeder


@register_seeder("mapping", order=40)
def seed_mapping(*, rng, stdout) -> str:
    from mapping.services import day_plan

    summary = day_plan(day=timezone.localdate(), reason="seed")
    return (f"today's plan: {len(summary['routes'])} routes, {len(summary['unassigned'])} unassigned, "
            f"travel {summary['total_travel_s'] // 60} min")
