"""Demo data: one seeder per app, run in order by `manage.py seed_demo`. Each is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    order: int
    name: str
    fn: Callable[..., str]


_seeders: dict[str, Seeder] = {}


def register_seeder(name: str, *, order: int) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """fn(*, rng, stdout) -> a one-line summary. Order: core 10, apps 20-60."""

    def decorator(fn):
        _seeders[name] = Seeder(order, name, fn)
        return fn

    return decorator


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))


DEMO_PASSWORD = "Demo-Warszawa-2026"  # noqa: S105 - demo data only; printed by seed_demo --logins
DEMO_LOGINS = [
    ("administrator", "admin", "/admin/"),
    ("manager", "manager", "/admin/"),
    ("dispatcher", "dispatcher", "/admin/"),
    ("technician (Mokotów)", "tech.mokotow", "/mapping/my-day/"),
    ("client (Anna Kowalska)", "anna@demo.hvac.example", "/portal/"),
    ("client (Bartek Nowak)", "bartek@demo.hvac.example", "/portal/"),
]
