"""Demo data of audit: after the other seeders ran, one health run (so the dashboard has states
and a snapshot) and a checkpoint labelled "seed" (so the comparison page has a baseline)."""

from __future__ import annotations

from audit.models import AuditCheckpoint
from audit.services import create_audit_checkpoint, health_run
from hvaccrm.seed import register_seeder


@register_seeder("audit", order=80)  # last: its checkpoint covers what the others seeded
def seed_audit(*, rng, stdout) -> str:
    result = health_run()
    if not AuditCheckpoint.objects.filter(label="seed").exists():
        create_audit_checkpoint(label="seed")
    return f"health {result['state']} (snapshot {result['snapshot']}), checkpoint 'seed' present"
