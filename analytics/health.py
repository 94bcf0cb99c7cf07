"""What /healthz says of the dashboards' rollups: how many demos wait for the next refresh, and since when; how old
the lead snapshot is.

Figures a few minutes behind do not make the portal unhealthy, so this check is always ok; a growing
``oldest_stale_seconds`` says beat's refresh is not running (docs/operations.md, "Dashboards' rollups")."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from analytics.models import DemoStale, LeadSnapshot


def check_dashboards() -> dict[str, Any]:
    stale = DemoStale.objects.aggregate(demos=Count("sandbox_id", distinct=True), oldest=Min("marked_at"))
    oldest = stale["oldest"]
    snapshot = LeadSnapshot.objects.first()
    now = timezone.now()
    return {
        "ok": True,
        "stale_demos": stale["demos"],
        "oldest_stale_seconds": round((now - oldest).total_seconds()) if oldest else None,
        "lead_snapshot_age_seconds": round((now - snapshot.taken_at).total_seconds()) if snapshot else None,
        "lead_snapshot_seconds": round(snapshot.seconds, 2) if snapshot else None,
    }
