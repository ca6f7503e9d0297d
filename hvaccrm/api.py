"""The core API: the shared error shape, pagination, jobs (with `since` catch-up), socket tickets."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from hvaccrm import selectors
from hvaccrm.drf import Pagination, exception_handler  # noqa: F401 - re-exported for apps
from hvaccrm.models import ServiceJob
from hvaccrm.realtime.tickets import ticket_issue


class SinceFilterMixin:
    """`?since=<id>`: the rows after the last id a reconnecting client saw, oldest first."""

    def filter_since(self, qs):
        since = self.request.query_params.get("since")
        if since is None:
            return qs
        try:
            since_id = int(since)
        except ValueError as err:
            raise exceptions.ValidationError({"since": ["A whole number is required."]}) from err
        return qs.filter(pk__gt=since_id).order_by("pk")


class JobSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    technician_name = serializers.SerializerMethodField()

    class Meta:
        model = ServiceJob
        fields = [
            "id", "client", "site", "equipment", "service_type", "urgency", "priority", "description", "status",
            "source", "requested_start", "requested_end", "scheduled_start", "scheduled_end", "technician",
            "technician_name", "estimated_duration_min", "latitude", "longitude", "district", "eta",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_technician_name(self, obj) -> str | None:
        return str(obj.technician) if obj.technician_id else None


class JobFilter(filters.FilterSet):
    district = filters.CharFilter(field_name="district__slug")

    class Meta:
        model = ServiceJob
        fields = ["status", "urgency", "service_type", "technician", "district"]


class JobViewSet(SinceFilterMixin, viewsets.ReadOnlyModelViewSet):
    """Jobs the user may see: staff all, a technician theirs, a client their own."""

    serializer_class = JobSerializer
    filterset_class = JobFilter
    queryset = ServiceJob.objects.none()  # for the schema generator; real rows come from get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceJob.objects.none()
        return self.filter_since(selectors.job_list_visible(user=self.request.user))


class WsTicketView(APIView):
    """A single-use socket ticket for a device that authenticates with its API token."""

    throttle_scope = "integration"

    @extend_schema(request=None, responses=inline_serializer("Ticket", {"ticket": serializers.CharField(),
                                                                          "expires_in": serializers.IntegerField()}))
    def post(self, request):
        from django.conf import settings

        return Response({"ticket": ticket_issue(user_id=request.user.pk), "expires_in": settings.WS_TICKET_TTL},
                        status=status.HTTP_201_CREATED)


# --- API tokens (django-rest-knox): hashed, expiring, one per device ---------------------------
from knox import views as knox_views  # noqa: E402
from rest_framework.authentication import BasicAuthentication  # noqa: E402

_TokenOut = inline_serializer("DeviceToken", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()})


class TokenLoginView(knox_views.LoginView):
    """A device signs in once with username and password (HTTP Basic) and gets its own token."""

    authentication_classes = [BasicAuthentication]

    @extend_schema(request=None, responses={200: _TokenOut})
    def post(self, request, format=None):
        return super().post(request, format)


class TokenLogoutView(knox_views.LogoutView):
    """Revoke the token of this device."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)


class TokenLogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of the user (all devices)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)
