"""The technician app's own rows: the idempotency keys of the actions a phone sends."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceAction(models.Model):
    """One action taken on a technician's phone (a step, a completion report, a message, an answer to
    an emergency), keyed by the UUID the phone made: the server applies it once and answers every
    replay of the same id with the stored result."""

    id = models.UUIDField(primary_key=True, editable=False)
    technician = models.ForeignKey("hvaccrm.Technician", on_delete=models.CASCADE, related_name="device_actions",
                                   verbose_name=_("technician"))
    kind = models.CharField(_("kind"), max_length=16)
    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="device_actions", verbose_name=_("service job"))
    payload = models.JSONField(_("payload"), default=dict)
    device_time = models.DateTimeField(_("device time"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    ok = models.BooleanField(_("applied"), default=False)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("device action")
        verbose_name_plural = _("device actions")
        indexes = [models.Index(fields=["technician", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"
