from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from communications import api

app_name = "communications-api"

router = SimpleRouter()
router.register("conversations", api.ConversationViewSet, basename="conversation")
router.register("messages", api.MessageViewSet, basename="message")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("deliveries", api.DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("classify/", api.ClassifyView.as_view(), name="classify"),
    path("preferences/", api.PreferenceView.as_view(), name="preferences"),
    path("alerts/<int:pk>/accept/", api.AlertAcceptView.as_view(), name="alert-accept"),
    path("alerts/<int:pk>/decline/", api.AlertDeclineView.as_view(), name="alert-decline"),
    *router.urls,
]
