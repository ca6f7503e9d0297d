from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessRecord(models.Model):
    """The access trail: who read or changed whose personal data, when and why. Never edited."""

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        CHANGE = "change", _("changed")
        EXPORT = "export", _("exported")
        ERASE = "erase", _("erased")
        CREATE = "create", _("created")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    # The data subject, kept as a plain id so the trail survives the client's erasure.
    subject_client_id = models.BigIntegerField(_("client id"), null=True, blank=True, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=255, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access record")
        verbose_name_plural = _("access trail")
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Access records cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Access records cannot be deleted."))
