"""An index for matching an inbound SMS's number to a client's phone field as typed.

The field is the core's (hvaccrm.Client.phone, free text); the inbound webhook looks clients up by
the last nine digits of it (communications/inbound/sms.py, `MATCH_SQL`), which without this
index reads the whole client table for every text. The expression must stay identical to the query's.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("communications", "0006_notificationpreference_emergency_sms"),
        ("hvaccrm", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS comms_client_phone_tail9 ON hvaccrm_client "
                "(RIGHT(regexp_replace(phone, '\\D', '', 'g'), 9))",
            reverse_sql="DROP INDEX IF EXISTS comms_client_phone_tail9",
        ),
    ]
