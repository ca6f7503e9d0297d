from __future__ import annotations

import random
import time

from django.core.management.base import BaseCommand

from hvaccrm.seed import DEMO_LOGINS, demo_password, seeders


class Command(BaseCommand):
    help = "Load realistic Warsaw demo data (idempotent: a second run adds nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Do nothing if demo data is already there.")
        parser.add_argument("--logins", action="store_true", help="Only print the demo logins.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, once: bool, logins: bool, seed: int, **options):
        from hvaccrm.models import Client

        if logins:
            self._print_logins()
            return
        if once and Client.objects.filter(email="anna@demo.hvac.example").exists():
            self.stdout.write("Demo data already loaded.")
            return
        for seeder in seeders():
            started = time.monotonic()
            summary = seeder.fn(rng=random.Random(f"{seed}:{seeder.name}"), stdout=self.stdout)
            self.stdout.write(f"  {seeder.name}: {summary} ({time.monotonic() - started:.1f} s)")
        if not once:  # `make run` (--once) prints them itself, below its URLs, once the web is up
            self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(f"  Demo logins (password for all: {demo_password()}):")
        for role, username, url in DEMO_LOGINS:
            self.stdout.write(f"    {role:<24} {username:<28} {url}")
