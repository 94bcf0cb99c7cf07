"""Marketing's three dashboards and the launch targets, computed from the rollups (docs/dashboards.md).

Demo figures add up the day rollups (``DemoDay`` and its siblings), never the raw events: a demo counts on the
day it started, with everything it led to (its completion, a pricing request a day later). Lead figures read
the leads, a cohort by the day each lead was created: of the leads generated in the range, how many qualified,
were accepted, became opportunities. Days are dates in DASHBOARD_TIME_ZONE; ``to`` is included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Max, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from analytics.models import (
    AccountDay,
    DemoDay,
    ExitPageDay,
    FeatureDay,
    LaunchTargets,
    LeadDay,
    LeadSnapshot,
    TourStepDay,
)
from analytics.selectors.leads import account_stage
from analytics.services.leads import rule_set_active
from analytics.services.rollups import ENGAGEMENT_BANDS, dashboard_zone, day_of

DASHBOARD_PERMISSION = "analytics.view_demosummary"  # who reads them: Marketing (staff_groups.py), superusers
WEEKLY_AFTER_DAYS = 62  # a longer range is charted by week
GRADES = ("A", "B", "C", "D")
TOP = 10


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: demos started (leads created) from ``start`` to ``end`` inclusive, of one
    segment. Empty strings and None: all."""

    start: date
    end: date
    product: str = ""
    industry: str = ""
    role: str = ""
    partner_id: int | None = None
    source: str = ""
    interval: str = ""  # "day" or "week"; empty: by day up to WEEKLY_AFTER_DAYS, else by week

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def grain(self) -> str:
        return self.interval or ("day" if self.days <= WEEKLY_AFTER_DAYS else "week")

    def previous(self) -> Filters:
        """The period of the same length just before."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """[first moment, moment after the last day) in DASHBOARD_TIME_ZONE."""
        zone = dashboard_zone()
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone),
        )

    def segment(self) -> Q:
        """The segment as a filter of the day rollups (and of demo summaries)."""
        q = Q(day__gte=self.start, day__lte=self.end)
        for name in ("product", "industry", "role", "source"):
            if getattr(self, name):
                q &= Q(**{name: getattr(self, name)})
        if self.partner_id is not None:
            q &= Q(partner_id=self.partner_id)
        return q

    def lead_segment(self) -> Q:
        """The segment as a filter of leads: created in the range; the product and industry of their first demo,
        their role, their partner, who made their first demo's sandbox."""
        start, end = self.bounds()
        q = Q(created_at__gte=start, created_at__lt=end)
        if self.product:
            q &= Q(products__0=self.product)
        if self.industry:
            q &= Q(industries__0=self.industry)
        if self.role:
            q &= Q(user__role=self.role)
        if self.partner_id is not None:
            q &= Q(user__partner_id=self.partner_id)
        if self.source:
            q &= Q(source=self.source)
        return q


def default_filters(today: date | None = None) -> Filters:
    """The last 30 days, today included."""
    today = today or day_of(timezone.now())
    return Filters(start=today - timedelta(days=29), end=today)


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def periods(filters: Filters) -> list[date]:
    """The first day of each period of the range (Mondays, by week)."""
    if filters.grain == "day":
        return [filters.start + timedelta(days=n) for n in range(filters.days)]
    monday = filters.start - timedelta(days=filters.start.weekday())
    return [monday + timedelta(weeks=n) for n in range((filters.end - monday).days // 7 + 1)]


# Demo Performance

DEMO_SUMS = {
    "demos_started": Sum("demos"),
    "demos_completed": Sum("completed"),
    "demos_converted": Sum("converted"),
    "demos_abandoned": Sum("abandoned"),
    "pricing_requests": Sum("pricing"),
    "sales_meetings": Sum("meetings"),
    "pocs": Sum("pocs"),
    "duration_seconds": Sum("duration_seconds"),
}


def demo_metrics(sums: dict[str, Any]) -> dict[str, Any]:
    """The four headline metrics and their counts from summed rollups."""
    counts = {name: int(sums.get(name) or 0) for name in DEMO_SUMS}
    started = counts["demos_started"]
    return {
        "demos_started": started,
        "completion_rate": ratio(counts["demos_completed"], started),
        "avg_duration": round(counts["duration_seconds"] / started, 1) if started else None,
        "conversion_rate": ratio(counts["demos_converted"], started),
        **{name: value for name, value in counts.items() if name not in ("demos_started", "duration_seconds")},
    }


def demo_totals(filters: Filters) -> dict[str, Any]:
    return demo_metrics(DemoDay.objects.filter(filters.segment()).aggregate(**DEMO_SUMS))


def demo_performance(filters: Filters) -> dict[str, Any]:
    rollups = DemoDay.objects.filter(filters.segment())
    period = TruncWeek("day") if filters.grain == "week" else F("day")
    by_period = {
        row["period"]: row
        for row in rollups.annotate(period=period).values("period").annotate(**DEMO_SUMS).order_by("period")
    }
    series = [{"period": start.isoformat(), **demo_metrics(by_period.get(start, {}))} for start in periods(filters)]
    segments = [
        {"product": row["product"], "industry": row["industry"], "role": row["role"], **demo_metrics(row)}
        for row in rollups.values("product", "industry", "role").annotate(**DEMO_SUMS).order_by("-demos_started")
    ]
    return {
        **demo_totals(filters),
        "previous": demo_totals(filters.previous()),
        "series": series,
        "segments": segments,
    }


# Lead Quality


def band_labels() -> list[str]:
    return [f"{low}+" if high is None else f"{low}–{high - 1}" for low, high in ENGAGEMENT_BANDS]


LEAD_SUMS = {name: Sum(name) for name in ("leads", "mqls", "sqls", "opportunities")}


def lead_metrics(sums: dict[str, Any]) -> dict[str, Any]:
    counts = {name: int(sums.get(name) or 0) for name in LEAD_SUMS}
    return {
        "leads_generated": counts["leads"],
        "mql_rate": ratio(counts["mqls"], counts["leads"]),
        "sql_rate": ratio(counts["sqls"], counts["mqls"]),
        **{name: counts[name] for name in ("mqls", "sqls", "opportunities")},
    }


def opportunity_value(filters: Filters) -> dict[str, float]:
    """The opportunities' amounts, by currency (never converted)."""
    rows = (
        LeadDay.objects.filter(filters.segment())
        .exclude(currency="")
        .values("currency")
        .annotate(total=Sum("opportunity_value"))
        .order_by("currency")
    )
    return {row["currency"]: float(row["total"]) for row in rows}


def lead_days(filters: Filters) -> dict[date, dict[str, int]]:
    """The lead counts of each day of the range that has leads."""
    rows = LeadDay.objects.filter(filters.segment()).values("day").annotate(**LEAD_SUMS).order_by()
    return {row.pop("day"): row for row in rows}


def counts_between(days: dict[date, dict[str, int]], start: date, end: date) -> dict[str, int]:
    totals = dict.fromkeys(LEAD_SUMS, 0)
    for day, counts in days.items():
        if start <= day <= end:
            for name in LEAD_SUMS:
                totals[name] += counts[name] or 0
    return totals


def lead_totals(filters: Filters, days: dict[date, dict[str, int]] | None = None) -> dict[str, Any]:
    """The lead figures of the range (``days``: its ``lead_days`` when already read)."""
    days = lead_days(filters) if days is None else days
    counts = counts_between(days, filters.start, filters.end)
    return {**lead_metrics(counts), "opportunity_value": opportunity_value(filters)}


def score_distribution(filters: Filters) -> dict[str, list[int]]:
    """Per fit grade, the leads in each engagement band (a score below the first band counts in none)."""
    grid = {grade: [0] * len(ENGAGEMENT_BANDS) for grade in GRADES}
    rows = (
        LeadDay.objects.filter(filters.segment(), band__gte=1)
        .values_list("fit_grade", "band")
        .annotate(n=Sum("leads"))
        .order_by()
    )
    for grade, band, n in rows:
        grid[grade][band - 1] = n
    return grid


def top_accounts(filters: Filters) -> list[dict[str, Any]]:
    """The TOP accounts by their people's combined engagement."""
    rows = (
        AccountDay.objects.filter(filters.segment())
        .values("account_domain")
        .annotate(
            people=Sum("people"),
            engagement=Sum("engagement"),
            last_activity_at=Max("last_activity_at"),
            **{name: Sum(name) for name in ("mqls", "sqls", "opportunities")},
        )
        .order_by("-engagement", "account_domain")[:TOP]
    )
    accounts = [
        {
            "account": row["account_domain"],
            "people": row["people"],
            "engagement": round(row["engagement"]),
            "stage": account_stage(row),
            "last_activity_at": row["last_activity_at"].isoformat() if row["last_activity_at"] else None,
        }
        for row in rows
    ]
    accounts.sort(key=lambda row: (-row["engagement"], row["account"]))
    return accounts


def lead_quality(filters: Filters) -> dict[str, Any]:
    """From the lead snapshot (``leads_snapshot``, taken by each rollup refresh): ``as_of`` says when."""
    snapshot = LeadSnapshot.objects.first()
    # One read of the days of this period and the one before gives the series and both periods' totals.
    previous = filters.previous()
    days = lead_days(replace(filters, start=previous.start))
    step = timedelta(days=0 if filters.grain == "day" else 6)
    series = [
        {"period": start.isoformat(), **lead_metrics(counts_between(days, max(start, filters.start), start + step))}
        for start in periods(filters)
    ]
    grid = score_distribution(filters)
    return {
        "as_of": snapshot.taken_at.isoformat() if snapshot else None,
        **lead_totals(filters, days),
        "previous": lead_totals(previous, days),
        "series": series,
        "score_distribution": {
            "bands": band_labels(),
            "mql_engagement": rule_set_active().mql_engagement,
            "grid": [{"fit_grade": grade, "counts": grid[grade]} for grade in GRADES],
        },
        "top_accounts": top_accounts(filters),
    }


# Product Engagement


def product_engagement(filters: Filters) -> dict[str, Any]:
    segment = filters.segment()
    started = int(DemoDay.objects.filter(segment).aggregate(n=Sum("demos"))["n"] or 0)
    features = [
        {"feature": row["feature"], "demos": row["demos"], "uses": row["uses"], "share": ratio(row["demos"], started)}
        for row in FeatureDay.objects.filter(segment)
        .values("feature")
        .annotate(demos=Sum("demos"), uses=Sum("uses"))
        .order_by("-demos", "feature")
    ]
    tours: dict[str, list[dict[str, Any]]] = {}
    for row in (
        TourStepDay.objects.filter(segment)
        .values("tour", "step")
        .annotate(reached=Sum("reached"), left=Sum("left"), position_sum=Sum("position_sum"))
        .order_by("tour")
    ):
        tours.setdefault(row["tour"], []).append(row)
    funnels = []
    for tour, steps in sorted(tours.items()):
        steps.sort(key=lambda s: (s["position_sum"] / s["reached"], -s["reached"], s["step"]))
        first = steps[0]["reached"]
        funnels.append(
            {
                "tour": tour,
                "steps": [
                    {
                        "step": s["step"],
                        "reached": s["reached"],
                        "left": s["left"],
                        "reached_share": ratio(s["reached"], first),
                    }
                    for s in steps
                ],
            }
        )
    exits = [
        {"path": row["path"], "demos": row["demos"]}
        for row in ExitPageDay.objects.filter(segment)
        .values("path")
        .annotate(demos=Sum("demos"))
        .order_by("-demos", "path")[: TOP * 2]
    ]
    return {
        "demos_started": started,
        "feature_usage": features,
        "top_features": [row["feature"] for row in features[:TOP]],
        "drop_off_points": {"tours": funnels, "exit_pages": exits},
    }


# The launch targets

TARGET_METRICS = (
    # (name, label, kind): a count or sum is paced over the window; a rate is compared as it is
    ("demos_started", "Demos started", "count"),
    ("completion_rate", "Completion rate", "rate"),
    ("leads_generated", "Leads generated", "count"),
    ("mql_rate", "MQL rate", "rate"),
    ("meetings_booked", "Sales meetings booked", "count"),
    ("pipeline", "Pipeline (USD)", "money"),
)


def launch_targets() -> LaunchTargets:
    """The targets row; until marketing sets one, the specification's targets from the first demo's day."""
    targets = LaunchTargets.objects.first()
    if targets is None:
        first = DemoDay.objects.order_by("day").values_list("day", flat=True).first()
        targets = LaunchTargets(launch_date=first or day_of(timezone.now()))
    return targets


def pace(kind: str, actual: float | None, target: float, elapsed: int, window: int) -> dict[str, Any]:
    """On track, or behind by how much: a count is expected to grow evenly over its window; a rate is due all along."""
    if actual is None:
        return {"status": "no data", "expected": None, "behind_by": None}
    expected = target if kind == "rate" else target * min(elapsed, window) / window
    behind = expected - actual
    if behind <= 0:
        return {"status": "on track", "expected": round(expected, 4), "behind_by": 0}
    shown = round(behind * 100, 1) if kind == "rate" else math.ceil(behind)
    return {"status": "behind", "expected": round(expected, 4), "behind_by": shown}


def targets_progress(today: date | None = None) -> dict[str, Any]:
    """Actuals since the launch date against the 30- and 90-day targets, each window with its pace. The whole
    portal: the targets take no segment."""
    targets = launch_targets()
    today = today or day_of(timezone.now())
    elapsed = max(0, (today - targets.launch_date).days + 1)
    windows = []
    for window in (30, 90):
        end = min(today, targets.launch_date + timedelta(days=window - 1))
        filters = Filters(start=targets.launch_date, end=max(end, targets.launch_date))
        if elapsed:
            demos, leads = demo_totals(filters), lead_totals(filters)
        else:  # the launch is still to come: nothing to count
            demos, leads = demo_metrics({}), {**lead_metrics({}), "opportunity_value": {}}
        actuals: dict[str, float | None] = {
            "demos_started": demos["demos_started"],
            "completion_rate": demos["completion_rate"],
            "leads_generated": leads["leads_generated"],
            "mql_rate": leads["mql_rate"],
            "meetings_booked": demos["sales_meetings"],
            "pipeline": leads["opportunity_value"].get("USD", 0.0),
        }
        rows = []
        for name, label, kind in TARGET_METRICS:
            target = float(getattr(targets, f"{name}_{window}"))
            if kind == "rate":
                target /= 100
            rows.append(
                {
                    "metric": name,
                    "label": label,
                    "kind": kind,
                    "target": target,
                    "actual": actuals[name],
                    **pace(kind, actuals[name], target, elapsed, window),
                }
            )
        windows.append(
            {"days": window, "from": targets.launch_date.isoformat(), "to": end.isoformat(), "metrics": rows}
        )
    return {
        "launch_date": targets.launch_date.isoformat(),
        "set": targets.pk is not None,
        "days_since_launch": elapsed,
        "windows": windows,
    }
