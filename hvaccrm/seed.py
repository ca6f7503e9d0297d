"""Demo data: one seeder per app, run in order by `manage.py seed_demo`. Each is idempotent."""

from __future__ import annotations

import os
import secrets
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


_generated_password: str | None = None


def demo_password() -> str:
    """The demo accounts' password: DEMO_PASSWORD (make run keeps a random one per checkout in
    var/local.env), else one generated for this seed run and printed with the logins."""
    global _generated_password
    value = os.environ.get("DEMO_PASSWORD", "")
    if value:
        return value
    if _generated_password is None:
        _generated_password = secrets.token_urlsafe(12)
    return _generated_password


DEMO_LOGINS = [
    ("administrator", "admin", "/admin/"),
    ("manager", "manager", "/admin/"),
    ("dispatcher", "dispatcher", "/admin/"),
    ("technician (Mokotów)", "tech.mokotow", "/mapping/my-day/"),
    ("client (Anna Kowalska)", "anna@demo.hvac.example", "/portal/"),
    ("client (Bartek Nowak)", "bartek@demo.hvac.example", "/portal/"),
]
