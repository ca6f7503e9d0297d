from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from mapping.services import day_plan


class Command(BaseCommand):
    help = "Plan a day's routes (started jobs stay fixed) and print the JSON summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="solve and print, store nothing")

    def handle(self, *args, **options) -> None:
        try:
            day = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        summary = day_plan(day=day, reason="optimize_routes", apply=not options["dry_run"])
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
