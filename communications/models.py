"""Conversations and messages, notifications and their deliveries, emergency alerts and routing."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hvaccrm.models.clients import Language
from hvaccrm.models.jobs import Urgency


class Conversation(models.Model):
    """A thread between one client and the office, optionally about one service job."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("client portal")
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")
        SMS = "sms", _("SMS")
        OFFICE = "office", _("office")
        TELEGRAM = "telegram", _("Telegram")

    client = models.ForeignKey("hvaccrm.Client", on_delete=models.CASCADE, related_name="conversations",
                               verbose_name=_("client"))
    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="conversations", verbose_name=_("service job"))
    channel = models.CharField(_("channel of origin"), max_length=16, choices=Channel.choices,
                               default=Channel.PORTAL)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["client", "-last_message_at"])]

    def __str__(self) -> str:
        return self.subject or f"#{self.pk}"


class MessageChannel(models.TextChoices):
    """How a message reached us or the client (the two-way channels of communications/inbound)."""

    PORTAL = "portal", _("client portal")
    OFFICE = "office", _("office")
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")
    EMAIL = "email", _("e-mail")


class Message(models.Model):
    """One message in a conversation, classified when saved (urgency, services, language)."""

    class AuthorRole(models.TextChoices):
        CLIENT = "client", _("client")
        STAFF = "staff", _("office")
        TECHNICIAN = "technician", _("technician")
        SYSTEM = "system", _("system")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     verbose_name=_("conversation"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("author"))
    author_role = models.CharField(_("author role"), max_length=16, choices=AuthorRole.choices)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.PL)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    district = models.ForeignKey("hvaccrm.District", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("district"))
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    service_types = models.JSONField(_("service types"), default=list, blank=True)
    classification = models.JSONField(_("classification"), default=dict, blank=True)
    # The way the message came in (a client's SMS, Telegram, e-mail) or went out (an office reply
    # relayed to the client's channel): the inbox shows it and replies follow the client's last one.
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices,
                               default=MessageChannel.PORTAL)
    # The gateway's id of the message: an e-mail's Message-ID (threading by In-Reply-To), an SMS
    # provider's id, a Telegram message id. Empty for portal messages.
    external_id = models.CharField(_("external id"), max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="message_location_valid",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "id"]), models.Index(fields=["urgency", "-created_at"])]

    def __str__(self) -> str:
        return self.body[:60]


class MessageRead(models.Model):
    """The read state of one message for one participant."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reads", verbose_name=_("message"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    is_office = models.BooleanField(_("read by the office"), default=False)
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message read")
        verbose_name_plural = _("message reads")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="message_read_once")]

    def __str__(self) -> str:
        return f"{self.message_id} read by {self.user_id}"


class TriageCorrection(models.Model):
    """Staff's correction of a message's urgency: a labelled example for the next `triage_train`.

    The text is copied from the message when corrected (what was labelled, even if the message is
    later edited away); it is the client's text, so communications/privacy.py exports and erases it.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="triage_corrections",
                                verbose_name=_("message"))
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.PL)
    urgency_before = models.CharField(_("urgency before"), max_length=16, choices=Urgency.choices)
    urgency = models.CharField(_("corrected urgency"), max_length=16, choices=Urgency.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("corrected by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("urgency correction")
        verbose_name_plural = _("urgency corrections")
        indexes = [models.Index(fields=["message", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.urgency_before} -> {self.urgency}"


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    EMERGENCY = "emergency", _("emergency")


class Notification(models.Model):
    """Something one user must learn; its deliveries say how it reached them."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    related_type = models.CharField(_("related object type"), max_length=64, blank=True)
    related_id = models.CharField(_("related object id"), max_length=64, blank=True)
    marketing = models.BooleanField(_("marketing"), default=False)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_dedupe_per_user",
                                    condition=models.Q(dedupe_key__isnull=False)),
            models.CheckConstraint(condition=models.Q(priority__in=["low", "normal", "high", "emergency"]),
                                   name="notification_priority_known"),
        ]
        indexes = [models.Index(fields=["recipient", "-id"]), models.Index(fields=["related_type", "related_id"])]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    IN_APP = "in_app", _("in-app")
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")


class Delivery(models.Model):
    """One notification on one channel: its state, attempts and last error."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        # Committed before the gateway is called: a crash in between leaves this, and the next
        # attempt sends again with the same reference (`delivery-<id>`) for the gateway to drop.
        SENDING = "sending", _("sending (the gateway may have it)")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        READ = "read", _("read")
        FAILED = "failed", _("failed (will be retried)")
        DEAD = "dead", _("dead (gave up)")
        SKIPPED = "skipped", _("skipped")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries",
                                     verbose_name=_("notification"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    address = models.CharField(_("address"), max_length=200, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "sending", "sent", "delivered", "read", "failed", "dead",
                                              "skipped"]),
                name="delivery_state_known",
            ),
        ]
        indexes = [models.Index(fields=["state", "channel"])]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel} [{self.state}]"


class NotificationPreference(models.Model):
    """A user's channels, quiet hours and gateway addresses; emergencies ignore quiet hours."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference", verbose_name=_("user"))
    channels = models.JSONField(_("channels"), default=list, blank=True,
                                help_text=_("Empty: the default channels."))
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    phone = models.CharField(_("phone for SMS"), max_length=32, blank=True)
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    # A technician's wake-up: the app in the background (the phone asleep) misses the socket's alert.
    emergency_sms = models.BooleanField(_("SMS for emergencies when the app is in the background"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError(_("Give both ends of the quiet hours, or neither."))
        unknown = set(self.channels) - set(Channel.values)
        if unknown:
            raise ValidationError({"channels": _("Unknown channels: %s") % ", ".join(sorted(unknown))})


class EmergencyAlert(models.Model):
    """An emergency and its escalation chain (district technicians -> neighbouring districts ->
    dispatchers -> managers): each step waits for an accept; the first accept takes the job."""

    class State(models.TextChoices):
        OPEN = "open", _("waiting for an accept")
        ESCALATED = "escalated", _("escalated, waiting for an accept")
        ACCEPTED = "accepted", _("accepted")
        UNANSWERED = "unanswered", _("nobody accepted")
        # Before the chain an alert ended on a read; kept for the alerts of that time.
        ACKNOWLEDGED = "acknowledged", _("acknowledged")

    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="alerts", verbose_name=_("message"))
    job = models.ForeignKey("hvaccrm.ServiceJob", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+", verbose_name=_("service job"))
    district = models.ForeignKey("hvaccrm.District", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("district"))
    text = models.TextField(_("text"))
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    escalate_at = models.DateTimeField(_("escalate at"), db_index=True)
    step = models.PositiveSmallIntegerField(_("escalation step"), default=0)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("accepted by"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+", verbose_name=_("acknowledged by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("emergency alert")
        verbose_name_plural = _("emergency alerts")
        indexes = [models.Index(fields=["state", "escalate_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.district or '?'} [{self.state}]"


class AlertDecision(models.Model):
    """One routing decision of an alert: who was told or skipped, and why (shown in the admin)."""

    class Step(models.TextChoices):
        ROUTED = "routed", _("sent to technician")
        SKIPPED = "skipped", _("technician skipped")
        FALLBACK = "fallback", _("no technician: dispatcher told")
        MANAGERS = "managers", _("managers told")
        ESCALATED = "escalated", _("escalated")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ACCEPTED = "accepted", _("accepted")

    alert = models.ForeignKey(EmergencyAlert, on_delete=models.CASCADE, related_name="decisions",
                              verbose_name=_("alert"))
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("user"))
    technician = models.ForeignKey("hvaccrm.Technician", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("technician"))
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["alert_id", "id"]
        verbose_name = _("alert decision")
        verbose_name_plural = _("alert decisions")

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.step} {self.reason}"


class AlertResponse(models.Model):
    """One person alerted at one step of an alert's chain, and what they answered: the chain the
    office watches live (who was alerted when, who declined and why, who accepted and how fast)."""

    class Step(models.TextChoices):
        DISTRICT = "district", _("technicians of the district")
        NEIGHBOURS = "neighbours", _("technicians of the neighbouring districts")
        DISPATCHERS = "dispatchers", _("dispatchers")
        MANAGERS = "managers", _("managers")

    class State(models.TextChoices):
        ALERTED = "alerted", _("alerted")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        TAKEN = "taken", _("taken by someone else")

    alert = models.ForeignKey(EmergencyAlert, on_delete=models.CASCADE, related_name="responses",
                              verbose_name=_("alert"))
    step = models.PositiveSmallIntegerField(_("escalation step"))
    step_kind = models.CharField(_("who"), max_length=16, choices=Step.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    technician = models.ForeignKey("hvaccrm.Technician", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("technician"))
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("notification"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ALERTED)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    alerted_at = models.DateTimeField(_("alerted at"))
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["alert_id", "step", "rank", "id"]
        verbose_name = _("alert response")
        verbose_name_plural = _("alert responses")
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="alert_response_once_per_user"),
            models.UniqueConstraint(fields=["alert"], condition=models.Q(state="accepted"),
                                    name="alert_accepted_once"),
            models.CheckConstraint(condition=~models.Q(state="declined") | ~models.Q(reason=""),
                                   name="alert_decline_has_reason"),
        ]
        indexes = [models.Index(fields=["alert", "step", "state"])]

    def __str__(self) -> str:
        return f"{self.alert_id}/{self.step}: {self.user_id} [{self.state}]"


# --- Two-way channels (communications/inbound) ---------------------------------------------------


class ChannelLink(models.Model):
    """An outside address of a client that is not a field of the client: a linked Telegram chat."""

    client = models.ForeignKey("hvaccrm.Client", on_delete=models.CASCADE, related_name="channel_links",
                               verbose_name=_("client"))
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    address = models.CharField(_("address"), max_length=200)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        ordering = ["client_id", "id"]
        verbose_name = _("channel link")
        verbose_name_plural = _("channel links")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="channel_link_address_once")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.channel}"


class ChannelPreference(models.Model):
    """The channel a client wants the office's replies on; none: the one they last wrote on."""

    client = models.OneToOneField("hvaccrm.Client", on_delete=models.CASCADE, related_name="channel_preference",
                                  verbose_name=_("client"))
    channel = models.CharField(_("preferred reply channel"), max_length=16, choices=MessageChannel.choices,
                               blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reply channel preference")
        verbose_name_plural = _("reply channel preferences")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.channel or '-'}"


class LinkCode(models.Model):
    """A one-time code the portal shows to link a Telegram chat (`/start CODE`).

    Only its SHA-256 is stored: a database reader cannot link a chat to someone else's account.
    """

    client = models.ForeignKey("hvaccrm.Client", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("client"))
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices,
                               default=MessageChannel.TELEGRAM)
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("link code")
        verbose_name_plural = _("link codes")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.channel}"


class InboundThread(models.Model):
    """Texts from an address that matched no client (an unknown phone number or e-mail sender):
    kept for the office, which links the address to a client (the texts then become messages)."""

    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    address = models.CharField(_("address"), max_length=200)
    texts = models.JSONField(_("texts"), default=list, blank=True)
    client = models.ForeignKey("hvaccrm.Client", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("linked to client"))
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("conversation"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_text_at = models.DateTimeField(_("last text"), null=True, blank=True, db_index=True)
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)

    class Meta:
        ordering = ["-last_text_at", "-id"]
        verbose_name = _("unknown sender")
        verbose_name_plural = _("unknown senders")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], condition=models.Q(client__isnull=True),
                                               name="inbound_thread_open_once")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.address}"
