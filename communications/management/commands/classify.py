"""`manage.py classify "TEXT"`: print the classification of a text as one JSON object."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from communications.classifier import classify


class Command(BaseCommand):
    help = "Classify a message or booking text (urgency, service types, equipment, language)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("text", nargs="+", help="the text to classify")

    def handle(self, *args, **options) -> None:
        result = classify(" ".join(options["text"])).as_dict(with_safety=False)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
