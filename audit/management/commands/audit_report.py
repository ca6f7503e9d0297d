from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.management.commands._json import dumps, quiet_stdout
from audit.selectors import get_audit_report


class Command(BaseCommand):
    help = "Print the audit report (health of every integration, totals of the integration log) as JSON."

    def handle(self, *args, **options):
        with quiet_stdout():
            report = get_audit_report()
        self.stdout.write(dumps(report))
