"""Reads of analytics records."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Q, Sum

from analytics.models import ArchivedSandbox
from sandboxes.models import ACTIVE_STATUSES, Sandbox


def sandbox_stats() -> dict[str, int | float | None]:
    """Counts of demo sandboxes by state, and how long the ended ones lived on average (minutes).

    Sandboxes whose records were purged after the retention period count through their anonymised
    archive, so the totals do not shrink as records go.
    """
    demos = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO).exclude(status=Sandbox.Status.POOLED)
    counts = demos.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
        expired=Count("pk", filter=Q(status=Sandbox.Status.EXPIRED)),
        destroyed=Count("pk", filter=Q(status=Sandbox.Status.DESTROYED)),
        lived=Sum(F("ended_at") - F("created_at"), filter=Q(ended_at__isnull=False)),
        ended=Count("pk", filter=Q(ended_at__isnull=False)),
    )
    archived = ArchivedSandbox.objects.aggregate(
        total=Count("pk"),
        expired=Count("pk", filter=Q(end_status=Sandbox.Status.EXPIRED)),
        destroyed=Count("pk", filter=Q(end_status=Sandbox.Status.DESTROYED)),
        lived=Sum(F("ended_at") - F("created_at")),
    )
    lived = (counts["lived"] or timedelta()) + (archived["lived"] or timedelta())
    ended = counts["ended"] + archived["total"]
    return {
        "total": counts["total"] + archived["total"],
        "active": counts["active"],
        "expired": counts["expired"] + archived["expired"],
        "destroyed": counts["destroyed"] + archived["destroyed"],
        "avg_duration_minutes": round(lived.total_seconds() / 60 / ended, 1) if ended else None,
    }
