from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.management.commands._json import dumps, quiet_stdout
from audit.models import AuditCheckpoint
from audit.selectors import checkpoint_compare
from audit.services import create_audit_checkpoint


class Command(BaseCommand):
    help = "Take an audit checkpoint (counts and content hashes per table and backend, health), or compare two."

    def add_arguments(self, parser):
        parser.add_argument("--label", default="")
        parser.add_argument("--compare", nargs=2, type=int, metavar=("FIRST", "SECOND"),
                            help="compare two checkpoints instead of taking one")

    def handle(self, *args, **options):
        if options["compare"]:
            first_id, second_id = options["compare"]
            try:
                first, second = AuditCheckpoint.objects.get(pk=first_id), AuditCheckpoint.objects.get(pk=second_id)
            except AuditCheckpoint.DoesNotExist as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(dumps(checkpoint_compare(first=first, second=second)))
            return
        with quiet_stdout():
            cp = create_audit_checkpoint(label=options["label"])
        self.stdout.write(dumps({"id": cp.pk, "label": cp.label, "created_at": cp.created_at, **cp.data}))
