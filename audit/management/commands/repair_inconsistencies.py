from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.management.commands._json import dumps, quiet_stdout
from audit.services import repair_data_inconsistencies


class Command(BaseCommand):
    help = "Repair what the consistency report finds, through the integration service (recorded)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="show what would be done, change nothing")
        parser.add_argument("--kind", action="append", dest="kinds", help="only this finding kind (repeatable)")

    def handle(self, *args, **options):
        with quiet_stdout():
            result = repair_data_inconsistencies(dry_run=options["dry_run"], kinds=options["kinds"])
        self.stdout.write(dumps(result))
        if result["failed"]:
            raise SystemExit(1)
