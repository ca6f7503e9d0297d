from __future__ import annotations

from django.core.management.base import BaseCommand

from prophecy.services.sync import vectors_reindex


class Command(BaseCommand):
    help = ("Re-embed every synced text (already privacy-filtered, kept in our features table) into the "
            "configured vector store: after changing the backend or the embedding provider.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, **opts):
        self.stdout.write(f"reindexed {vectors_reindex(batch=opts['batch'])} objects")
