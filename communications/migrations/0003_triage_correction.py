import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("communications", "0002_emergency_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TriageCorrection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.TextField(verbose_name="text")),
                ("language", models.CharField(choices=[("pl", "Polish"), ("en", "English")], default="pl", max_length=2, verbose_name="language")),
                ("urgency_before", models.CharField(choices=[("normal", "normal"), ("high", "high"), ("emergency", "emergency")], max_length=16, verbose_name="urgency before")),
                ("urgency", models.CharField(choices=[("normal", "normal"), ("high", "high"), ("emergency", "emergency")], max_length=16, verbose_name="corrected urgency")),
                ("reason", models.CharField(blank=True, max_length=500, verbose_name="reason")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at")),
                ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="corrected by")),
                ("message", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="triage_corrections", to="communications.message", verbose_name="message")),
            ],
            options={
                "verbose_name": "urgency correction",
                "verbose_name_plural": "urgency corrections",
                "ordering": ["created_at", "id"],
                "indexes": [models.Index(fields=["message", "-created_at"], name="communicati_message_40dbb0_idx")],
            },
        ),
    ]
