"""The portal's own rows: sign-in links, tracked sessions, booking details and erasure requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginLink(models.Model):
    """A single-use passwordless sign-in link bound to one account; only a hash of it is stored."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("sign-in link")
        INVITE = "invite", _("invitation")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_login_links",
                             verbose_name=_("user"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    purpose = models.CharField(_("purpose"), max_length=8, choices=Purpose.choices, default=Purpose.LOGIN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="loginlink_expiry_after_creation"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} #{self.pk}"


class PortalSession(models.Model):
    """A session a user signed in with, so "sign out everywhere" can end each of them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_sessions",
                             verbose_name=_("user"))
    session_key = models.CharField(_("session key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("signed in at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d %H:%M}"


class Booking(models.Model):
    """What the client asked for when booking in the portal: the preferred windows, triage result."""

    job = models.OneToOneField("hvaccrm.ServiceJob", on_delete=models.CASCADE, related_name="portal_booking",
                               verbose_name=_("job"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("booked by"))
    windows = models.JSONField(_("preferred windows"), default=list, blank=True)
    emergency = models.BooleanField(_("handled as an emergency"), default=False)
    gas_warning = models.BooleanField(_("gas safety instruction shown"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("portal booking")
        verbose_name_plural = _("portal bookings")

    def __str__(self) -> str:
        return f"booking of job {self.job_id}"


class ErasureRequest(models.Model):
    """A client's request to be forgotten (RODO art. 17); staff execute it in the admin."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        EXECUTED = "executed", _("executed")
        REJECTED = "rejected", _("rejected")

    # A plain id, not a foreign key: the request must outlive the erasure it documents.
    client_id = models.BigIntegerField(_("client id"), db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.REQUESTED)
    reason = models.TextField(_("client's note"), blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("executed by"))
    summary = models.JSONField(_("what was done"), default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        constraints = [
            models.UniqueConstraint(fields=["client_id"], condition=models.Q(state="requested"),
                                    name="erasure_one_open_request_per_client"),
        ]

    def __str__(self) -> str:
        return f"erasure of client {self.client_id} ({self.state})"
