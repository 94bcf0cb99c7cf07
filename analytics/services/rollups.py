"""The dashboards' rollups (docs/dashboards.md): each demo summarised from its events, and the summaries added
up per day and segment, so a dashboard reads a few thousand rows however many million events there are.

Every event recorded in a sandbox marks its demo stale, in the event's own transaction (``demo_stale_mark``).
``rollups_refresh`` (beat, every minute) takes the stale demos, rebuilds their summaries from all their events
(so a late event, one sent hours after it happened, lands where it belongs) and recomputes the days those
demos started on. ``rollups_rebuild`` marks every demo stale and recomputes every day: after bulk writes that
bypass ``event_record`` (the sample data) or a change of DASHBOARD_TIME_ZONE.

A summary outlives its sandbox's record: once a sandbox is purged its events no longer name it, so nothing
marks it stale again and its summary stays as it was. A prospect's erasure empties the summary's ``user``; the
demo still counts, anonymously, as its events do.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min

from analytics.models import (
    DemoDay,
    DemoSource,
    DemoStale,
    DemoSummary,
    Event,
    ExitPageDay,
    FeatureDay,
    TourStepDay,
)
from analytics.scoring import FEATURE_EVENTS
from sandboxes.models import Sandbox

logger = logging.getLogger(__name__)

VISIT_GAP = timedelta(minutes=30)  # inactivity that ends a visit, as the scoring's default session gap
HAND_RAISES = {"pricing_requested": "pricing", "sales_contact_requested": "meetings", "poc_started": "pocs"}
SYSTEM_EVENTS = frozenset({"demo_abandoned"})  # recorded after the prospect left: not activity
REFRESH_BATCH = 2000  # stale demos taken per transaction
ROLLUP_LOCK = 7_314_001  # pg advisory lock: one refresh at a time (beat's, a rebuild's)


def dashboard_zone() -> ZoneInfo:
    return ZoneInfo(settings.DASHBOARD_TIME_ZONE)


def day_of(moment: datetime) -> date:
    """The dashboard day of ``moment``: its date in DASHBOARD_TIME_ZONE."""
    return moment.astimezone(dashboard_zone()).date()


def demo_stale_mark(*, sandbox_id: int) -> None:
    """Mark the demo in this sandbox for the next refresh (in the caller's transaction).

    An upsert, not an insert that ignores a conflict: a demo already marked has its row locked until the caller
    commits, so a refresh taking that row waits and then reads the caller's event. Ignoring the conflict takes no
    lock: the refresh would take the mark without seeing the event, and nothing would mark the demo again."""
    DemoStale.objects.bulk_create(
        [DemoStale(sandbox_id=sandbox_id)],
        update_conflicts=True,
        unique_fields=["sandbox_id"],
        update_fields=["marked_at"],
    )


# One demo's summary, from its events.


@dataclass
class DemoEvent:
    sandbox_id: int
    user_id: int | None
    name: str
    at: datetime
    properties: dict[str, Any]
    partner_id: int | None


def summary_of(events: Sequence[DemoEvent], sandbox: Sandbox | None) -> DemoSummary | None:
    """The summary of one sandbox's demo from its events (in time order), or None without a ``demo_started``.

    Only the events of the person who started it count (a colleague or staff watching are not the prospect)."""
    started = next((event for event in events if event.name == "demo_started"), None)
    if started is None:
        return None
    own = [event for event in events if event.user_id == started.user_id]
    props = started.properties
    summary = DemoSummary(
        sandbox_id=started.sandbox_id,
        user_id=started.user_id,
        started_at=started.at,
        day=day_of(started.at),
        product=str(props.get("product") or (sandbox.product if sandbox else "")),
        industry=str(props.get("industry") or (sandbox.industry if sandbox else "")),
        role=str(props.get("role") or (sandbox.role if sandbox else "")),
        partner_id=started.partner_id,
        source=str(props.get("source") or (DemoSource.PARTNER if started.partner_id else DemoSource.SELF_SERVICE)),
    )
    names = [event.name for event in own]
    summary.completed = "demo_completed" in names
    summary.abandoned = "demo_abandoned" in names and not summary.completed
    for name, field in HAND_RAISES.items():
        setattr(summary, field, names.count(name))
    activity = [event.at for event in own if event.name not in SYSTEM_EVENTS]
    summary.duration_seconds, summary.visits = active_time(activity)
    features: Counter[str] = Counter()
    steps: list[str] = []
    last_path = ""
    for event in own:
        feature = str(event.properties.get("feature") or "")
        if event.properties.get("step") and event.properties.get("tour"):
            summary.tour = str(event.properties["tour"])[:60]
            if event.properties["step"] not in steps:
                steps.append(str(event.properties["step"])[:60])
        elif event.name in FEATURE_EVENTS and not feature.startswith("tour."):
            features[(feature or event.name)[:100]] += 1
        if event.name == "page_view" and isinstance(event.properties.get("path"), str):
            last_path = event.properties["path"][:200]
    summary.steps, summary.features = steps, dict(features)
    summary.exit_path = last_path if summary.abandoned else ""
    return summary


def active_time(moments: Sequence[datetime]) -> tuple[int, int]:
    """(seconds of activity, visits): a visit runs from one event to the last before a gap of VISIT_GAP."""
    if not moments:
        return 0, 1
    ordered = sorted(moments)
    total, visits, start, last = 0.0, 1, ordered[0], ordered[0]
    for moment in ordered[1:]:
        if moment - last > VISIT_GAP:
            total += (last - start).total_seconds()
            visits, start = visits + 1, moment
        last = moment
    total += (last - start).total_seconds()
    return round(total), visits


def demo_events(sandbox_ids: Sequence[int]) -> dict[int, list[DemoEvent]]:
    rows = (
        Event.objects.filter(sandbox_id__in=sandbox_ids)
        .order_by("occurred_at", "pk")
        .values_list("sandbox_id", "user_id", "name", "occurred_at", "properties", "partner_id")
    )
    out: dict[int, list[DemoEvent]] = {}
    for row in rows.iterator(chunk_size=5000):
        out.setdefault(row[0], []).append(DemoEvent(*row))
    return out


def summaries_rebuild(sandbox_ids: Sequence[int]) -> set[date]:
    """Rebuild these demos' summaries from their events; returns the days whose rollups they change."""
    events = demo_events(sandbox_ids)
    sandboxes = Sandbox.objects.in_bulk(list(events))
    old_days = set(DemoSummary.objects.filter(sandbox_id__in=sandbox_ids).values_list("day", flat=True).distinct())
    summaries = [
        summary
        for sandbox_id, demo in events.items()
        if (summary := summary_of(demo, sandboxes.get(sandbox_id))) is not None
    ]
    gone = [sandbox_id for sandbox_id in sandbox_ids if sandbox_id not in {s.sandbox_id for s in summaries}]
    # A sandbox whose events no longer name it (purged) keeps its summary; one whose events exist but hold no
    # demo_started has none.
    DemoSummary.objects.filter(sandbox_id__in=[pk for pk in gone if pk in events]).delete()
    DemoSummary.objects.bulk_create(
        summaries,
        update_conflicts=True,
        unique_fields=["sandbox_id"],
        update_fields=[f.name for f in DemoSummary._meta.concrete_fields if not f.primary_key],
    )
    return old_days | {summary.day for summary in summaries}


# The days: what one day's summaries add up to, per segment.

SEGMENT = ("product", "industry", "role", "partner_id", "source")
SUMMARY_FIELDS = (
    *SEGMENT,
    "day",
    "completed",
    "abandoned",
    "pricing",
    "meetings",
    "pocs",
    "duration_seconds",
    "tour",
    "steps",
    "features",
    "exit_path",
)


def days_rollup(days: Iterable[date]) -> None:
    """Recompute the rollups of these days from their summaries (in the caller's transaction)."""
    days = sorted(set(days))
    for start in range(0, len(days), 31):
        chunk = days[start : start + 31]
        for model in (DemoDay, FeatureDay, TourStepDay, ExitPageDay):
            model.objects.filter(day__in=chunk).delete()
        rows = DemoSummary.objects.filter(day__in=chunk).order_by().values_list(*SUMMARY_FIELDS)
        tally = DayTally()
        for row in rows.iterator(chunk_size=10000):
            tally.add(dict(zip(SUMMARY_FIELDS, row, strict=True)))
        tally.write()


class DayTally:
    """Sums of summaries by day and segment, then written as rollup rows."""

    def __init__(self) -> None:
        self.demos: dict[tuple[Any, ...], Counter[str]] = {}
        self.features: dict[tuple[Any, ...], Counter[str]] = {}
        self.steps: dict[tuple[Any, ...], Counter[str]] = {}
        self.exits: Counter[tuple[Any, ...]] = Counter()

    def add(self, s: dict[str, Any]) -> None:
        key = (s["day"], *(s[name] for name in SEGMENT))
        kpis = self.demos.setdefault(key, Counter())
        kpis["demos"] += 1
        kpis["completed"] += s["completed"]
        kpis["abandoned"] += s["abandoned"]
        kpis["converted"] += bool(s["pricing"] or s["meetings"] or s["pocs"])
        for name in ("pricing", "meetings", "pocs", "duration_seconds"):
            kpis[name] += s[name]
        for feature, uses in s["features"].items():
            counts = self.features.setdefault((*key, feature), Counter())
            counts["demos"] += 1
            counts["uses"] += uses
        for position, step in enumerate(s["steps"]):
            counts = self.steps.setdefault((*key, s["tour"], step), Counter())
            counts["reached"] += 1
            counts["position_sum"] += position
            counts["left"] += position == len(s["steps"]) - 1 and s["abandoned"]
        if s["abandoned"]:
            self.exits[(*key, s["exit_path"] or "(no page)")] += 1

    def write(self) -> None:
        def segment(key: tuple[Any, ...]) -> dict[str, Any]:
            return dict(zip(("day", *SEGMENT), key[:6], strict=True))

        DemoDay.objects.bulk_create([DemoDay(**segment(k), **c) for k, c in self.demos.items()], batch_size=5000)
        FeatureDay.objects.bulk_create(
            [FeatureDay(**segment(k), feature=k[6], **c) for k, c in self.features.items()], batch_size=5000
        )
        TourStepDay.objects.bulk_create(
            [TourStepDay(**segment(k), tour=k[6], step=k[7], **c) for k, c in self.steps.items()], batch_size=5000
        )
        ExitPageDay.objects.bulk_create(
            [ExitPageDay(**segment(k), path=k[6], demos=n) for k, n in self.exits.items()], batch_size=5000
        )


# Refresh and rebuild.


def rollups_refresh(*, batch: int = REFRESH_BATCH) -> int:
    """Rebuild the stale demos' summaries and their days' rollups, a batch per transaction, until none is stale.
    Returns how many demos it rebuilt; 0 at once when another refresh holds the lock."""
    done = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUP_LOCK])
                if not cursor.fetchone()[0]:
                    return done
                # Taken and deleted at once; an event recorded meanwhile marks its demo again (it waits for this
                # transaction, then inserts), so the next round sees it.
                cursor.execute(
                    "DELETE FROM analytics_demostale WHERE sandbox_id IN"
                    " (SELECT sandbox_id FROM analytics_demostale ORDER BY marked_at LIMIT %s) RETURNING sandbox_id",
                    [batch],
                )
                sandbox_ids = [row[0] for row in cursor.fetchall()]
            if not sandbox_ids:
                return done
            days_rollup(summaries_rebuild(sandbox_ids))
            done += len(sandbox_ids)


def rollups_rebuild() -> int:
    """Summarise every demo again from its events and recompute every day. Returns the number of demos."""
    started = Event.objects.filter(name="demo_started", sandbox_id__isnull=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_demostale (sandbox_id, marked_at)"
            " SELECT DISTINCT sandbox_id, now() FROM analytics_event WHERE name = 'demo_started'"
            " AND sandbox_id IS NOT NULL ON CONFLICT DO NOTHING"
        )
    count = started.values("sandbox_id").distinct().count()
    rollups_refresh(batch=20000)
    # Days no stale demo touched (a time zone change moves every day; purged demos' days) are recomputed too.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE analytics_demosummary SET day = (started_at AT TIME ZONE %s)::date"
                " WHERE day <> (started_at AT TIME ZONE %s)::date",
                [settings.DASHBOARD_TIME_ZONE] * 2,
            )
        first = DemoSummary.objects.aggregate(first=Min("day"))["first"]
        if first is not None:
            last = day_of(datetime.now(dashboard_zone())) + timedelta(days=1)
            days_rollup(first + timedelta(days=n) for n in range((last - first).days + 1))
    return count
