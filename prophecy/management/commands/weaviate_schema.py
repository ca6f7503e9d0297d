from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from prophecy.stores import VectorStoreUnavailable
from prophecy.stores.weaviate import WeaviateStore


class Command(BaseCommand):
    help = "Create the Weaviate collection, or add the properties it lacks (WEAVIATE_URL, WEAVIATE_API_KEY)."

    def handle(self, *args, **opts):
        try:
            store = WeaviateStore.from_settings()
            result = store.schema_migrate()
        except VectorStoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if "store" in locals():
                store.close()
        if result["created"]:
            self.stdout.write(f"created collection {result['created']}")
        else:
            self.stdout.write(f"collection exists; added properties: {', '.join(result['added']) or 'none'}")
