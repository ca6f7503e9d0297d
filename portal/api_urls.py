from __future__ import annotations

from rest_framework.routers import DefaultRouter

from portal import api

app_name = "portal-api"
router = DefaultRouter()
router.include_root_view = False
router.register("sites", api.SiteViewSet, basename="site")
router.register("visits", api.VisitViewSet, basename="visit")
urlpatterns = router.urls
