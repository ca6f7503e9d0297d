"""Indexes the audit report needs on the core's integration log, and the database guard that
keeps the access trail append-only.

Both are on core tables but exist only for audit's reads and audit's promise, so they live here
(no core migration). The indexes are partial: they cover only the few rows owed or failed, so
they cost the outbox's hot insert path almost nothing.
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION audit_accessrecord_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Only the retention run (audit.services.access_trail_retention_apply) deletes entries.
        IF coalesce(current_setting('audit.retention', true), '') = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'access records cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The one allowed update: the actor cleared when the person's account is deleted (SET NULL).
    IF NEW.actor_id IS NULL
       AND (NEW.id, NEW.actor_label, NEW.action, NEW.object_type, NEW.object_id, NEW.subject_client_id,
            NEW.purpose, NEW.fields, NEW.ip_address, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.actor_label, OLD.action, OLD.object_type, OLD.object_id, OLD.subject_client_id,
            OLD.purpose, OLD.fields, OLD.ip_address, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'access records cannot be changed' USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_accessrecord_guard ON hvaccrm_accessrecord;
CREATE TRIGGER audit_accessrecord_guard BEFORE UPDATE OR DELETE ON hvaccrm_accessrecord
    FOR EACH ROW EXECUTE FUNCTION audit_accessrecord_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS audit_accessrecord_guard ON hvaccrm_accessrecord;
DROP FUNCTION IF EXISTS audit_accessrecord_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("hvaccrm", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS audit_log_errors_idx ON hvaccrm_integrationlog (created_at DESC) "
            "WHERE state IN ('failed', 'dead')",
            "DROP INDEX IF EXISTS audit_log_errors_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS audit_log_owed_idx ON hvaccrm_integrationlog (source, target, created_at) "
            "WHERE state IN ('pending', 'failed')",
            "DROP INDEX IF EXISTS audit_log_owed_idx",
        ),
        migrations.RunSQL(GUARD, UNGUARD),
    ]
