from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integration.contracts import contracts_doc_render


class Command(BaseCommand):
    help = "Write the table of integration contracts into docs/operations.md (--check: fail when it is stale)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the table is stale")

    def handle(self, *args, **options):
        path = Path(settings.BASE_DIR) / "docs" / "operations.md"
        doc = path.read_text(encoding="utf-8")
        fresh = contracts_doc_render(doc)
        if options["check"]:
            if fresh != doc:
                raise CommandError(f"{path} is stale: run `manage.py contracts_doc`")
            self.stdout.write("up to date")
        elif fresh != doc:
            path.write_text(fresh, encoding="utf-8")
            self.stdout.write(f"wrote {path}")
