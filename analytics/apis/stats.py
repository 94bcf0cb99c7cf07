"""`GET /api/v1/stats`: the sandbox totals (staff)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors.stats import sandbox_stats
from sandboxes.usage import requests_total

# Until 2027-06 the totals are also sent under their old names, which said "sessions" for sandboxes.
STATS_DEPRECATED_NAMES = {
    "total_sessions": "total_sandboxes",
    "active_sessions": "active_sandboxes",
    "expired_sessions": "expired_sandboxes",
    "destroyed_sessions": "destroyed_sandboxes",
}


class StatsOutput(serializers.Serializer[Any]):
    total_sandboxes = serializers.IntegerField(help_text="Demo sandboxes ever made (purged ones included).")
    active_sandboxes = serializers.IntegerField(help_text="Ready, or being reset, now.")
    expired_sandboxes = serializers.IntegerField(help_text="Ended by running out of time.")
    destroyed_sandboxes = serializers.IntegerField(help_text="Ended by their owner or staff.")
    total_sessions = serializers.IntegerField(help_text="Deprecated: total_sandboxes (removed after 2027-06).")
    active_sessions = serializers.IntegerField(help_text="Deprecated: active_sandboxes (removed after 2027-06).")
    expired_sessions = serializers.IntegerField(help_text="Deprecated: expired_sandboxes (removed after 2027-06).")
    destroyed_sessions = serializers.IntegerField(help_text="Deprecated: destroyed_sandboxes (removed after 2027-06).")
    avg_duration_minutes = serializers.FloatField(allow_null=True, help_text="Of sandboxes that have ended.")
    total_requests = serializers.IntegerField()


class StatsApi(APIView):
    @extend_schema(responses=StatsOutput, summary="Sandbox totals (staff)")
    def get(self, request: Request) -> Response:
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can see the totals.")
        stats = sandbox_stats()
        totals = {
            "total_sandboxes": stats["total"],
            "active_sandboxes": stats["active"],
            "expired_sandboxes": stats["expired"],
            "destroyed_sandboxes": stats["destroyed"],
        }
        deprecated = {old: totals[new] for old, new in STATS_DEPRECATED_NAMES.items()}
        output = {
            **totals,
            **deprecated,
            "avg_duration_minutes": stats["avg_duration_minutes"],
            "total_requests": requests_total(),
        }
        return Response(StatsOutput(output).data)
