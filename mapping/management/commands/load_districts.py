from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from hvaccrm.errors import ServiceError
from mapping.services import districts_load


class Command(BaseCommand):
    help = "Load official district boundaries from a GeoJSON file and re-resolve sites and open jobs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")

    def handle(self, *args, path: str, **options) -> None:
        try:
            report = districts_load(path=path)
        except ServiceError as exc:
            raise CommandError(_("Nothing changed: %(reason)s") % {"reason": exc.message}) from exc
        self.stdout.write(_("Loaded %(n)d districts (geometry_source=official).") % {"n": report["districts"]})
        self.stdout.write(_("Sites moved: %(sites)d; open jobs moved: %(jobs)d.")
                          % {"sites": len(report["sites_moved"]), "jobs": len(report["jobs_moved"])})
        for row in report["sites_moved"]:
            self.stdout.write(f"  site {row['site']}: {row['from'] or '-'} -> {row['to'] or '-'}")
        for row in report["jobs_moved"]:
            self.stdout.write(f"  job {row['job']}: {row['from'] or '-'} -> {row['to'] or '-'}")
