"""The admin of communications: a dashboard of conversations, deliveries and emergencies."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from communications import selectors, services
from communications.models import (
    AlertDecision,
    Conversation,
    Delivery,
    EmergencyAlert,
    InboundThread,
    Message,
    Notification,
    NotificationPreference,
    TriageCorrection,
)
from hvaccrm.errors import ServiceError
from hvaccrm.models.jobs import Urgency


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "author_role", "author", "body", "language", "urgency", "district"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # messages are written through the inbox page (message_send), never here


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client", "channel", "job", "unread_count", "messages_total", "last_message_at",
                    "inbox_link"]
    list_filter = ["channel"]
    search_fields = ["subject", "client__name", "messages__body"]
    list_select_related = ["client", "job"]
    autocomplete_fields = ["client", "job"]
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"

    def get_queryset(self, request):
        return selectors.conversation_list_with_unread().select_related("client", "job")

    @admin.display(description=_("unread"), ordering="unread")
    def unread_count(self, obj) -> int:
        return obj.unread

    @admin.display(description=_("messages in total"), ordering="message_count")
    def messages_total(self, obj) -> int:
        return obj.message_count

    @admin.display(description=_("Office inbox"))
    def inbox_link(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', reverse("communications:conversation", args=[obj.pk]), _("Open"))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "conversation", "author_role", "channel", "short_body", "language", "urgency",
                    "district"]
    list_filter = ["urgency", "channel", "language", "author_role", "district"]
    search_fields = ["body"]
    list_select_related = ["conversation", "district"]
    readonly_fields = ["conversation", "author", "author_role", "channel", "external_id", "body", "language",
                       "latitude", "longitude", "district", "urgency", "service_types", "classification",
                       "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("text"))
    def short_body(self, obj) -> str:
        return obj.body[:80]

    def _correct(self, request, queryset, urgency: str) -> None:
        done = 0
        for message in queryset:
            try:
                services.message_urgency_correct(message=message, urgency=urgency, actor=request.user,
                                                 reason="admin action")
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            done += 1
        self.message_user(request, _("%(n)d messages relabelled: the classifier learns from them at its next "
                                     "training.") % {"n": done}, messages.SUCCESS)

    # One action per urgency: the office's corrections are the classifier's labelled data.
    @admin.action(description=_("Correct the urgency to normal"))
    def correct_to_normal(self, request, queryset) -> None:
        self._correct(request, queryset, Urgency.NORMAL)

    @admin.action(description=_("Correct the urgency to high"))
    def correct_to_high(self, request, queryset) -> None:
        self._correct(request, queryset, Urgency.HIGH)

    @admin.action(description=_("Correct the urgency to emergency"))
    def correct_to_emergency(self, request, queryset) -> None:
        self._correct(request, queryset, Urgency.EMERGENCY)

    actions = ["correct_to_normal", "correct_to_high", "correct_to_emergency"]


@admin.register(TriageCorrection)
class TriageCorrectionAdmin(admin.ModelAdmin):
    """Read-only: corrections are made on the message (inbox or the actions above), never typed here."""

    list_display = ["created_at", "message", "urgency_before", "urgency", "actor", "reason"]
    list_filter = ["urgency", "urgency_before", "language"]
    list_select_related = ["message", "actor"]
    readonly_fields = ["message", "text", "language", "urgency_before", "urgency", "reason", "actor", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ["channel", "state", "address", "attempts", "last_error", "sent_at", "delivered_at", "read_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "priority", "acknowledged_at", "read_at"]
    list_filter = ["priority", "kind", "marketing"]
    search_fields = ["title", "recipient__username", "related_id"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "kind", "title", "body", "payload", "priority", "related_type", "related_id",
                       "marketing", "dedupe_key", "created_at", "acknowledged_at", "read_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "notification_title", "recipient", "channel", "state", "attempts", "short_error",
                    "outbox_state", "updated_at"]
    list_filter = ["state", "channel"]
    search_fields = ["address", "notification__title", "notification__recipient__username"]
    list_select_related = ["notification__recipient"]
    readonly_fields = ["notification", "channel", "state", "address", "attempts", "last_error", "created_at",
                       "updated_at", "sent_at", "delivered_at", "read_at"]
    actions = ["retry_deliveries"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_outbox_state=selectors.delivery_outbox_state())

    @admin.display(description=_("notification"))
    def notification_title(self, obj) -> str:
        return obj.notification.title

    @admin.display(description=_("recipient"))
    def recipient(self, obj) -> str:
        return str(obj.notification.recipient)

    @admin.display(description=_("last error"))
    def short_error(self, obj) -> str:
        return obj.last_error[:80]

    @admin.display(description=_("outbox state"))
    def outbox_state(self, obj) -> str:
        return obj._outbox_state or "-"

    @admin.action(description=_("Retry the selected deliveries"), permissions=["change"])
    def retry_deliveries(self, request, queryset) -> None:
        done = refused = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                services.delivery_retry(delivery_id=delivery_id)
                done += 1
            except ServiceError:
                refused += 1
        self.message_user(request, _("%(n)d delivery(ies) queued again, %(m)d refused.") % {"n": done, "m": refused},
                          messages.SUCCESS if not refused else messages.WARNING)


class AlertDecisionInline(admin.TabularInline):
    model = AlertDecision
    extra = 0
    fields = ["created_at", "step", "rank", "technician", "user", "distance_km", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmergencyAlert)
class EmergencyAlertAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "district", "state", "short_text", "acknowledged_by", "acknowledged_at",
                    "escalate_at", "escalated_at"]
    list_filter = ["state", "district"]
    search_fields = ["text"]
    list_select_related = ["district", "acknowledged_by"]
    readonly_fields = ["message", "job", "district", "text", "latitude", "longitude", "state", "dedupe_key",
                       "escalate_at", "escalated_at", "acknowledged_at", "acknowledged_by", "created_at"]
    inlines = [AlertDecisionInline]
    actions = ["escalate_now"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("text"))
    def short_text(self, obj) -> str:
        return obj.text[:80]

    @admin.action(description=_("Escalate the selected alerts now"), permissions=["change"])
    def escalate_now(self, request, queryset) -> None:
        for alert_id in queryset.filter(state=EmergencyAlert.State.OPEN).values_list("pk", flat=True):
            services.alert_escalate(alert_id=alert_id)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "channels", "quiet_start", "quiet_end", "language"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        # Through the service (STYLE.md rule 1): the same checks as the API's preferences endpoint.
        services.preference_set(user=obj.user, channels=obj.channels, quiet_start=obj.quiet_start,
                                quiet_end=obj.quiet_end, phone=obj.phone, telegram_chat_id=obj.telegram_chat_id,
                                language=obj.language)


# --- Two-way channels: texts from numbers and addresses that matched no client -------------------


class LinkToClientForm(admin.helpers.ActionForm):
    client = forms.IntegerField(label=_("Client id"), required=False)


@admin.register(InboundThread)
class InboundThreadAdmin(admin.ModelAdmin):
    """Unknown senders: the office reads their texts and links the address to a client."""

    list_display = ["channel", "address", "text_count", "last_text_at", "client", "linked_at"]
    list_filter = ["channel", ("client", admin.EmptyFieldListFilter)]
    search_fields = ["address"]
    list_select_related = ["client"]
    readonly_fields = ["channel", "address", "texts", "client", "conversation", "created_at", "last_text_at",
                       "linked_at"]
    action_form = LinkToClientForm
    actions = ["link_to_client"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("texts"))
    def text_count(self, obj) -> int:
        return len(obj.texts)

    @admin.action(description=_("Link to client (give the client id)"))
    def link_to_client(self, request, queryset) -> None:
        client_id = request.POST.get("client", "")
        if not client_id.isdigit():
            self.message_user(request, _("Give the id of the client to link to."), messages.ERROR)
            return
        for thread in queryset.filter(client__isnull=True):
            try:
                services.inbound_thread_link(thread_id=thread.pk, client_id=int(client_id), actor=request.user)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        self.message_user(request, _("Linked: the texts are now messages of the client's conversation."),
                          messages.SUCCESS)
