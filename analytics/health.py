"""What /healthz says of the dashboards' rollups: how many demos wait for the next refresh, and since when.

Figures a few minutes behind do not make the portal unhealthy, so this check is always ok; a growing
``oldest_stale_seconds`` says beat's refresh is not running (docs/operations.md, "Dashboards' rollups")."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from analytics.models import DemoStale


def check_dashboards() -> dict[str, Any]:
    stale = DemoStale.objects.aggregate(demos=Count("sandbox_id", distinct=True), oldest=Min("marked_at"))
    oldest = stale["oldest"]
    return {
        "ok": True,
        "stale_demos": stale["demos"],
        "oldest_stale_seconds": round((timezone.now() - oldest).total_seconds()) if oldest else None,
    }
