from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.preflight import preflight_run


class Command(BaseCommand):
    help = ("Pre-deployment checklist: deploy checks, migrations applied, health checks, consistency "
            "verified, integrations healthy. Prints a table; exits non-zero on any failure.")

    def handle(self, *args, **options):
        rows = preflight_run()
        width = max(len(r.name) for r in rows)
        self.stdout.write(f"{'check'.ljust(width)}  result  detail")
        self.stdout.write(f"{'-' * width}  ------  ------")
        for r in rows:
            self.stdout.write(f"{r.name.ljust(width)}  {r.result.upper():6}  {r.detail}")
        failed = [r for r in rows if r.result == "fail"]
        self.stdout.write(f"\n{len(rows) - len(failed)}/{len(rows)} passed" + (" — NOT ready to deploy" if failed else ""))
        if failed:
            raise SystemExit(1)
