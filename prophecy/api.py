"""Prophecy's API (staff only): semantic search and the hotspot layer for the dispatch map."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from prophecy import selectors


class SearchInput(serializers.Serializer):
    q = serializers.CharField(max_length=10_000, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    district = serializers.CharField(max_length=32, required=False, allow_blank=True)
    service_type = serializers.CharField(max_length=16, required=False, allow_blank=True)
    created_from = serializers.DateTimeField(required=False)
    created_to = serializers.DateTimeField(required=False)
    mode = serializers.ChoiceField(choices=["vector", "hybrid"], default="hybrid")


_RESULT_FIELDS = {
    "id": serializers.CharField(), "score": serializers.FloatField(), "text": serializers.CharField(),
    "district": serializers.CharField(), "created": serializers.DateTimeField(allow_null=True),
    "service_type": serializers.CharField(), "equipment": serializers.CharField(),
    "resolution": serializers.CharField(), "duplicates": serializers.IntegerField(),
}


class SearchView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[SearchInput],
        responses=inline_serializer("ProphecySearch", fields={
            "query": serializers.CharField(), "source": serializers.ChoiceField(choices=selectors.SOURCES),
            "degraded": serializers.BooleanField(), "notice": serializers.CharField(), "results": inline_serializer("ProphecySearchResult", fields=_RESULT_FIELDS, many=True),
        }),
    )
    def get(self, request):
        data = SearchInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        answer = selectors.search_similar(
            query=v["q"], limit=v["limit"], district=v.get("district") or None,
            service_type=v.get("service_type") or None, created_from=v.get("created_from"),
            created_to=v.get("created_to"), mode=v["mode"],
        )
        keep = ("id", "score", "text", "district", "created", "service_type", "equipment", "resolution", "duplicates")
        return Response({"query": answer["query"], "source": answer["source"], "degraded": answer["degraded"],
                         "notice": answer.get("notice", ""),
                         "results": [{k: r.get(k) for k in keep} for r in answer["results"]]})


class HotspotsView(APIView):
    """GeoJSON FeatureCollection of hotspot districts for the coming weeks."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={(200, "application/geo+json"): inline_serializer("ProphecyHotspots", fields={
            "type": serializers.CharField(), "features": serializers.ListField(child=serializers.DictField()),
        })},
    )
    def get(self, request):
        return Response(selectors.hotspots_geojson(), content_type="application/geo+json")
