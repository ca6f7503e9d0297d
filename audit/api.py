"""The audit API: reports, health, repair, checkpoints and the access trail.

Authenticated (session or knox token), restricted to managers and administrators (repairs and
checkpoints to administrators), and rate-limited by the "integration" throttle scope.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from audit import selectors, services
from audit.health import health_current
from audit.models import AuditCheckpoint
from hvaccrm.drf import Pagination
from hvaccrm.realtime.groups import is_staff_role

READ_ROLES = ("manager", "administrator")
WRITE_ROLES = ("administrator",)

# The reports are free-form JSON objects (documented as such, not as an object with a "data" key).
AnyJson = OpenApiTypes.OBJECT


class AuditReaders(permissions.BasePermission):
    message = "Managers and administrators only."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        roles = WRITE_ROLES if request.method not in permissions.SAFE_METHODS else READ_ROLES
        return is_staff_role(user, *getattr(view, "roles", roles))


class AuditAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, AuditReaders]
    throttle_classes = [ScopedRateThrottle, UserRateThrottle]
    throttle_scope = "integration"


class AuditReportView(AuditAPIView):
    @extend_schema(responses=AnyJson, summary="The audit report (health of every integration, totals)")
    def get(self, request):
        return Response(selectors.get_audit_report())


class HealthView(AuditAPIView):
    @extend_schema(responses=AnyJson, summary="Live health (cached and marked stale when a backend is down)")
    def get(self, request):
        return Response(health_current())


class ConsistencyReportView(AuditAPIView):
    @extend_schema(responses=AnyJson, summary="The data consistency report")
    def get(self, request):
        return Response(selectors.get_data_consistency_report())


class RepairInput(serializers.Serializer):
    dry_run = serializers.BooleanField(default=True)
    kinds = serializers.ListField(child=serializers.CharField(), required=False)


class RepairView(AuditAPIView):
    @extend_schema(request=RepairInput, responses=AnyJson, summary="Repair inconsistencies (dry run by default)")
    def post(self, request):
        data = RepairInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.repair_data_inconsistencies(
            dry_run=data.validated_data["dry_run"], kinds=data.validated_data.get("kinds") or None,
            actor=request.user))


class SyncMessageInput(serializers.Serializer):
    message = serializers.IntegerField(min_value=1)
    include_map_update = serializers.BooleanField(default=True)
    include_prophecy_sync = serializers.BooleanField(default=True)
    audit_level = serializers.ChoiceField(choices=["basic", "detailed"], default="basic")


class SyncMessageView(AuditAPIView):
    """Bring one message up to date everywhere (the integration service's sync_communication_data)."""

    @extend_schema(request=SyncMessageInput, responses=AnyJson, summary="Sync one message across the systems")
    def post(self, request):
        from integration.services import sync_communication_data

        data = SyncMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            result = sync_communication_data(message_id=v["message"], include_map_update=v["include_map_update"],
                                             include_prophecy_sync=v["include_prophecy_sync"],
                                             audit_level=v["audit_level"])
        except LookupError:
            raise NotFound("No such message.")
        return Response(result)


class CheckpointSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField()

    class Meta:
        model = AuditCheckpoint
        fields = ["id", "label", "created_at", "created_by", "data"]
        read_only_fields = fields


class CheckpointInput(serializers.Serializer):
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)


class CheckpointListView(AuditAPIView):
    pagination_class = Pagination  # the schema then describes the page it answers, not a bare list
    @extend_schema(responses=CheckpointSerializer(many=True), summary="Checkpoints, newest first")
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(AuditCheckpoint.objects.select_related("created_by"), request, view=self)
        return paginator.get_paginated_response(CheckpointSerializer(page, many=True).data)

    @extend_schema(request=CheckpointInput, responses=CheckpointSerializer, summary="Take a checkpoint")
    def post(self, request):
        data = CheckpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        cp = services.create_audit_checkpoint(label=data.validated_data.get("label", ""), actor=request.user)
        return Response(CheckpointSerializer(cp).data, status=201)


class CheckpointCompareView(AuditAPIView):
    @extend_schema(parameters=[OpenApiParameter("first", int), OpenApiParameter("second", int)], responses=AnyJson,
                   summary="Compare two checkpoints")
    def get(self, request):
        try:
            first_id, second_id = int(request.query_params["first"]), int(request.query_params["second"])
        except (KeyError, ValueError):
            raise serializers.ValidationError({"first": ["Give two checkpoint ids: first and second."]})
        first = get_object_or_404(AuditCheckpoint, pk=first_id)
        second = get_object_or_404(AuditCheckpoint, pk=second_id)
        return Response(selectors.checkpoint_compare(first=first, second=second))


class AccessRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor_label = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    subject_client_id = serializers.IntegerField(allow_null=True)
    purpose = serializers.CharField()
    fields = serializers.JSONField()
    ip_address = serializers.CharField(allow_null=True)


class AccessTrailView(AuditAPIView):
    pagination_class = Pagination  # the schema then describes the page it answers, not a bare list
    @extend_schema(
        parameters=[OpenApiParameter(n, str) for n in ("person", "object_type", "object_id", "client", "action",
                                                          "since", "until")],
        responses=AccessRecordSerializer(many=True), summary="Search the access trail",
    )
    def get(self, request):
        q = request.query_params
        client = q.get("client")
        qs = selectors.access_trail_search(
            person=q.get("person", ""), object_type=q.get("object_type", ""), object_id=q.get("object_id", ""),
            client_id=int(client) if client and client.isdigit() else None, action=q.get("action", ""),
            since=parse_datetime(q["since"]) if q.get("since") else None,
            until=parse_datetime(q["until"]) if q.get("until") else None,
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AccessRecordSerializer(page, many=True).data)
