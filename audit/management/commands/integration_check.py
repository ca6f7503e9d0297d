from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.integration_check import integration_check_run


class Command(BaseCommand):
    help = ("Run the design's five integration scenarios on synthetic data (marked is_synthetic, "
            "nothing sent outside, all rolled back). Needs --confirm when DEBUG is off.")

    def add_arguments(self, parser):
        parser.add_argument("--confirm", action="store_true", help="required on a production system (DEBUG off)")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["confirm"]:
            raise CommandError("DEBUG is off: this runs against the live system; add --confirm to proceed.")
        results = integration_check_run()
        for r in results:
            mark = "✅" if r.ok else "❌"
            self.stdout.write(f"{mark} {r.name}: {r.ms:.0f}ms — {r.detail}")
        passed = sum(r.ok for r in results)
        self.stdout.write(f"{passed}/{len(results)} scenarios passed; synthetic data removed, nothing sent.")
        if passed != len(results):
            raise SystemExit(1)
