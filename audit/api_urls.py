from __future__ import annotations

from django.urls import path

from audit import api

app_name = "audit-api"
urlpatterns = [
    path("report/", api.AuditReportView.as_view(), name="report"),
    path("health/", api.HealthView.as_view(), name="health"),
    path("consistency/", api.ConsistencyReportView.as_view(), name="consistency"),
    path("repair/", api.RepairView.as_view(), name="repair"),
    path("checkpoints/", api.CheckpointListView.as_view(), name="checkpoints"),
    path("checkpoints/compare/", api.CheckpointCompareView.as_view(), name="checkpoint-compare"),
    path("sync-message/", api.SyncMessageView.as_view(), name="sync-message"),
    path("access-trail/", api.AccessTrailView.as_view(), name="access-trail"),
]
