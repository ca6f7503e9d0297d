"""The communications API: conversations, messages, notifications, deliveries (staff), classification.

Thin: input serializers validate, one service writes, selectors scope every queryset to what the
user may see, so someone else's id is a 404.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from communications import selectors, services
from communications.classifier import classify
from communications.models import Channel, Conversation, Delivery, Message, Notification, NotificationPreference
from hvaccrm.api import SinceFilterMixin


class IsOffice(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return services.user_is_office(request.user)


class ConversationSerializer(serializers.ModelSerializer):
    unread = serializers.IntegerField(read_only=True, default=0)
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "client", "client_name", "job", "channel", "subject", "created_at", "last_message_at", "unread"]
        read_only_fields = ["created_at", "last_message_at", "unread", "client_name"]


class ConversationCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1)
    job = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Conversation.Channel.choices, default=Conversation.Channel.PORTAL)
    body = serializers.CharField(max_length=services.MAX_BODY, required=False, help_text="an optional first message")


class ConversationFilter(filters.FilterSet):
    class Meta:
        model = Conversation
        fields = ["client", "job", "channel"]


class ConversationViewSet(SinceFilterMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Conversations the user may see (office: all; client: own; technician: their jobs')."""

    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter

    def get_queryset(self):
        qs = selectors.conversation_list_with_unread(user=self.request.user).order_by("-last_message_at", "-id")
        return self.filter_since(qs)

    @extend_schema(request=ConversationCreateSerializer, responses={201: ConversationSerializer})
    def create(self, request, *args, **kwargs):
        data = ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        client_id = v.get("client")
        if client_id is None:
            client = request.user.clients.order_by("pk").first() if request.user.is_authenticated else None
            if client is None:
                raise serializers.ValidationError({"client": ["This field is required."]})
            client_id = client.pk
        conversation = services.conversation_start(author=request.user, client_id=client_id,
                                                   subject=v.get("subject", ""), channel=v["channel"],
                                                   job_id=v.get("job"))
        if v.get("body"):
            services.message_send(author=request.user, conversation_id=conversation.pk, body=v["body"])
        conversation = self.get_queryset().get(pk=conversation.pk)
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class MessageSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "conversation", "author", "author_name", "author_role", "body", "language", "latitude",
                  "longitude", "district", "urgency", "service_types", "created_at"]
        read_only_fields = fields

    def get_author_name(self, obj) -> str:
        return (obj.author.get_full_name() or obj.author.get_username()) if obj.author_id else ""


class MessageCreateSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(min_value=1)
    body = serializers.CharField(max_length=services.MAX_BODY)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)


class MessageFilter(filters.FilterSet):
    class Meta:
        model = Message
        fields = ["conversation", "urgency", "language", "author_role"]


class MessageViewSet(SinceFilterMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Messages of the conversations the user may see; POST sends one (saved, then pushed)."""

    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    def get_queryset(self):
        return self.filter_since(selectors.message_list_visible(user=self.request.user).order_by("-id"))

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    def create(self, request, *args, **kwargs):
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        message = services.message_send(author=request.user, conversation_id=v["conversation"], body=v["body"],
                                        latitude=v.get("latitude"), longitude=v.get("longitude"))
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: MessageSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        message = self.get_object()
        services.message_read(user=request.user, message_id=message.pk)
        return Response(MessageSerializer(message).data)


class DeliverySerializer(serializers.ModelSerializer):
    # Plain strings in the schema: "channel" is also the name of other enums (conversations, consents).
    channel = serializers.CharField(read_only=True, help_text="in_app, email, sms or telegram")

    class Meta:
        model = Delivery
        fields = ["id", "notification", "channel", "state", "attempts", "last_error", "created_at", "sent_at",
                  "delivered_at", "read_at"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "payload", "priority", "related_type", "related_id", "created_at",
                  "acknowledged_at", "read_at", "deliveries"]
        read_only_fields = fields


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    undelivered = filters.BooleanFilter(method="filter_undelivered",
                                        help_text="in-app notifications no page of the user has received yet")

    class Meta:
        model = Notification
        fields = ["kind", "priority", "unread", "undelivered"]

    def filter_undelivered(self, queryset, name, value):
        pending = {"deliveries__channel": Channel.IN_APP, "deliveries__state__in": [Delivery.State.PENDING,
                                                                                    Delivery.State.SENT]}
        return (queryset.filter(**pending) if value else queryset.exclude(**pending)).distinct()


class NotificationViewSet(SinceFilterMixin, viewsets.ReadOnlyModelViewSet):
    """The user's own notifications; ack (received) and read move the in-app delivery."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return self.filter_since(selectors.notification_list_for_user(user=self.request.user))

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def ack(self, request, pk=None):
        n = self.get_object()
        services.notification_ack(user=request.user, notification_id=n.pk)
        return Response(NotificationSerializer(self.get_queryset().get(pk=n.pk)).data)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        n = self.get_object()
        services.notification_read(user=request.user, notification_id=n.pk)
        return Response(NotificationSerializer(self.get_queryset().get(pk=n.pk)).data)


class DeliveryFilter(filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["state", "channel", "notification"]


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Deliveries for the office: filter by state and channel, retry failed and dead ones."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    permission_classes = [permissions.IsAuthenticated, IsOffice]
    queryset = Delivery.objects.all()

    @extend_schema(request=None, responses={200: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = services.delivery_retry(delivery_id=self.get_object().pk)
        return Response(DeliverySerializer(delivery).data)


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "22:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in Warsaw, answered as HH:MM:SS without an offset: OpenAPI's "time" format
    (RFC 3339) demands an offset, so the schema describes what is really sent."""


class PreferenceSerializer(serializers.Serializer):
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), required=False,
                                     help_text="Empty: the default channels.")
    quiet_start = LocalTimeField(allow_null=True, required=False)
    quiet_end = LocalTimeField(allow_null=True, required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    telegram_chat_id = serializers.CharField(max_length=64, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=[("", "-"), ("pl", "pl"), ("en", "en")], allow_blank=True,
                                       required=False)


class PreferenceView(APIView):
    """The user's own notification channels, quiet hours and gateway addresses."""

    @extend_schema(responses={200: PreferenceSerializer})
    def get(self, request):
        pref = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference()
        return Response(PreferenceSerializer(pref).data)

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer})
    def put(self, request):
        data = PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pref = services.preference_set(user=request.user, **data.validated_data)
        return Response(PreferenceSerializer(pref).data)


class ClassifyInput(serializers.Serializer):
    text = serializers.CharField(max_length=services.MAX_BODY)


class ClassifyOutput(serializers.Serializer):
    urgency = serializers.CharField(help_text="normal, high or emergency")
    service_types = serializers.ListField(child=serializers.CharField())
    equipment = serializers.CharField(allow_null=True)
    language = serializers.CharField(help_text="pl or en")
    reasons = serializers.ListField(child=serializers.CharField())
    confidence = serializers.FloatField()


class ClassifyView(APIView):
    """Classify a text (the booking form shows urgency and service before sending)."""

    @extend_schema(request=ClassifyInput, responses={200: ClassifyOutput})
    def post(self, request):
        data = ClassifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(classify(data.validated_data["text"]).as_dict(with_safety=False))


# --- emergency alerts: accept and decline ---------------------------------------------------------


class AlertDeclineInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, trim_whitespace=True, error_messages={
        "required": _("A reason is required to decline an emergency."),
        "blank": _("A reason is required to decline an emergency.")})


class AlertAnswerOutput(serializers.Serializer):
    alert = serializers.IntegerField()
    state = serializers.CharField()
    job = serializers.IntegerField(allow_null=True)
    chain = serializers.DictField()


def _alert_answer(alert_id: int) -> dict:
    alert = selectors.alert_get(alert_id=alert_id)
    return {"alert": alert.pk, "state": alert.state, "job": alert.job_id, "chain": services.alert_chain(alert)}


class AlertAcceptView(APIView):
    """Take an emergency one was alerted to: the first accept wins (409 "already_taken" after)."""

    @extend_schema(request=None, responses={200: AlertAnswerOutput})
    def post(self, request, pk: int):
        services.alert_accept(alert_id=pk, user=request.user)
        return Response(_alert_answer(pk))


class AlertDeclineView(APIView):
    """Decline an emergency one was alerted to, saying why (400 with the field's message without)."""

    @extend_schema(request=AlertDeclineInput, responses={200: AlertAnswerOutput})
    def post(self, request, pk: int):
        data = AlertDeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.alert_decline(alert_id=pk, user=request.user, reason=data.validated_data["reason"])
        return Response(_alert_answer(pk))
