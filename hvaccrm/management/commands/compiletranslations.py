from __future__ import annotations

import sys
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def locale_roots() -> list[Path]:
    """The project's LOCALE_PATHS and the `locale/` of every installed app of this project.

    Derived from the app registry, so a new app's catalogue is compiled without editing a list;
    apps outside BASE_DIR (Django's, third parties') ship their own compiled catalogues.
    """
    base, venv = Path(settings.BASE_DIR).resolve(), Path(sys.prefix).resolve()
    roots = [Path(p) for p in settings.LOCALE_PATHS]
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and not path.is_relative_to(venv):
            roots.append(path / "locale")
    seen: list[Path] = []
    for root in roots:
        if root.is_dir() and root.resolve() not in seen:
            seen.append(root.resolve())
    return seen


class Command(BaseCommand):
    help = "Compile every .po catalogue of the project to .mo with polib (no gettext tools needed)."

    def handle(self, *args, **options):
        count = 0
        for root in locale_roots():
            for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
                polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
        if options["verbosity"] > 0:
            self.stdout.write(f"compiled {count} catalogues")
