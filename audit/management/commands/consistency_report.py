from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.management.commands._json import dumps, quiet_stdout
from audit.selectors import get_data_consistency_report


class Command(BaseCommand):
    help = 'Print the data consistency report as JSON: {"findings": [{"kind", "objects", "repairable", ...}]}.'

    def add_arguments(self, parser):
        parser.add_argument("--fail-on-findings", action="store_true", help="exit 1 when anything is out of step")

    def handle(self, *args, **options):
        with quiet_stdout():
            report = get_data_consistency_report()
        self.stdout.write(dumps(report))
        if options["fail_on_findings"] and report["findings"]:
            raise SystemExit(1)
