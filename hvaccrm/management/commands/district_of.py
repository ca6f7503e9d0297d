from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hvaccrm.geo import district_for_point


class Command(BaseCommand):
    help = "Print the slug of the Warsaw district containing LAT LNG, or 'none'."

    def add_arguments(self, parser):
        parser.add_argument("lat", type=float)
        parser.add_argument("lng", type=float)

    def handle(self, *args, lat: float, lng: float, **options):
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise CommandError("LAT must be in -90..90 and LNG in -180..180.")
        self.stdout.write(district_for_point(lat, lng) or "none")
