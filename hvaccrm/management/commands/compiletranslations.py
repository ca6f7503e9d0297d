from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile every .po catalogue of the project to .mo with polib (no gettext tools needed)."

    def handle(self, *args, **options):
        roots = [Path(p) for p in settings.LOCALE_PATHS] + [
            Path(settings.BASE_DIR) / app / "locale" for app in ("hvaccrm", "communications", "mapping", "prophecy", "audit", "portal")
        ]
        count = 0
        for root in roots:
            for po_path in root.glob("*/LC_MESSAGES/*.po"):
                polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
        self.stdout.write(f"compiled {count} catalogues")
