from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError(f"Nothing changed: {exc.message}") from exc
        self.stdout.write(f"Loaded {report['districts']} districts (geometry_source=official).")
        self.stdout.write(f"Sites moved: {len(report['sites_moved'])}; open jobs moved: {len(report['jobs_moved'])}.")
        for row in report["sites_moved"]:
            self.stdout.write(f"  site {row['site']}: {row['from'] or '-'} -> {row['to'] or '-'}")
        for row in report["jobs_moved"]:
            self.stdout.write(f"  job {row['job']}: {row['from'] or '-'} -> {row['to'] or '-'}")
