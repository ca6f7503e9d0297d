from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from prophecy import selectors


class Command(BaseCommand):
    help = "Semantic search over synced messages and jobs; prints the JSON answer."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument("--district", default=None)
        parser.add_argument("--service-type", default=None)
        parser.add_argument("--hybrid", action="store_true")

    def handle(self, *args, **opts):
        answer = selectors.search_similar(query=opts["text"], limit=opts["limit"], district=opts["district"],
                                          service_type=opts["service_type"],
                                          mode="hybrid" if opts["hybrid"] else "vector")
        self.stdout.write(json.dumps(selectors.search_output(answer), ensure_ascii=False))
