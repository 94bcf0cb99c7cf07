"""A lead as the CRMs receive it (``LeadRecord``), built from the portal's own data at the moment of delivery,
so a delivery carries the lead's latest state however many triggers led to it.

Built for a batch of leads at once, in a fixed number of queries whatever the batch's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from analytics.models import Event, Lead, ScoreEntry
from analytics.scoring import FEATURE_EVENTS, VALUE_MOMENTS
from analytics.selectors.leads import breakdown_line, leads_scored
from analytics.services.leads import parameters_of, rule_set_active
from crm.sync.records import Activity, LeadRecord
from demoportal.core import catalogue
from demoportal.core.models import User
from sandboxes.models import Sandbox

BREAKDOWN_LINES = 40  # the newest; a CRM field is no place for a lead's whole history
COMPANY_UNKNOWN = "[not provided]"  # Salesforce requires a company


def lead_records(lead_ids: Sequence[int], now: datetime | None = None) -> dict[int, LeadRecord]:
    """The record of each of these leads (by lead id) as of ``now``; a lead that no longer exists is absent."""
    now = now or timezone.now()
    leads = list(leads_scored(now).filter(pk__in=list(lead_ids)))
    if not leads:
        return {}
    lines = breakdowns(leads, now)
    demos = activities(leads)
    return {lead.pk: record_of(lead, lines[lead.pk], demos[lead.user_id], now) for lead in leads}


def record_of(lead: Any, breakdown: list[str], demos: list[Activity], now: datetime) -> LeadRecord:
    user: User = lead.user
    local = user.email.partition("@")[0]
    running = [a for a in demos if a.watch_url]  # a watch link only while its sandbox runs
    return LeadRecord(
        key=f"lead-{lead.pk}",
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name or local,
        company=user.company or lead.account_domain or COMPANY_UNKNOWN,
        title=user.job_title or user.role,
        role=user.role,
        phone=user.phone,
        country=str(user.country or ""),
        stage=lead.stage,
        fit_grade=lead.fit_grade,
        fit_score=lead.fit_score,
        engagement_score=int(lead.engagement_score or 0),
        total_score=int(lead.total_score or 0),
        breakdown=breakdown,
        recommended_action=lead.recommended_action,
        lead_url=portal_url("admin:analytics_lead_change", lead.pk),
        watch_url=running[0].watch_url if running else "",
        activities=demos,
        built_at=now,
    )


def breakdowns(leads: Sequence[Lead], now: datetime) -> dict[int, list[str]]:
    """Each lead's breakdown as the admin shows it ("+50 requested pricing … (rule v3)"), fit first, then the
    newest engagement, with each line's points decayed to ``now`` where that differs."""
    half_lives = parameters_of(rule_set_active()).half_lives
    entries = (
        ScoreEntry.objects.filter(lead__in=leads)
        .select_related("rule_set")
        .order_by("lead_id", "kind", "-occurred_at", "-pk")
    )
    lines: dict[int, list[str]] = defaultdict(list)
    for entry in entries:
        if len(lines[entry.lead_id]) >= BREAKDOWN_LINES:
            continue
        line = breakdown_line(entry, now, half_lives)
        worth = round(line.decayed_points)
        lines[entry.lead_id].append(line.text + (f" — worth {worth:+d} now" if worth != entry.points else ""))
    return lines


def activities(leads: Sequence[Lead]) -> dict[int, list[Activity]]:
    """Each lead's demos (by user id), newest first: what they saw and earned in each."""
    users = [lead.user_id for lead in leads]
    sandboxes = list(
        Sandbox.objects.filter(owner_id__in=users, kind=Sandbox.Kind.DEMO)
        .exclude(status=Sandbox.Status.POOLED)
        .order_by("-created_at", "-pk")
    )
    ids = [s.pk for s in sandboxes]
    features: dict[int, dict[str, None]] = defaultdict(dict)
    spans: dict[int, list[datetime]] = {}
    completed: set[int] = set()
    events = (
        Event.objects.filter(sandbox_id__in=ids)
        .order_by("occurred_at")
        .values_list("sandbox_id", "name", "occurred_at", "properties__feature")
    )
    for sandbox_id, name, at, feature in events:
        span = spans.setdefault(sandbox_id, [at, at])
        span[1] = at
        if name in FEATURE_EVENTS:
            features[sandbox_id][str(feature or name)] = None
        elif name in VALUE_MOMENTS:
            features[sandbox_id][name] = None
        elif name == "demo_completed":
            completed.add(sandbox_id)
    points = dict(
        ScoreEntry.objects.filter(lead__in=leads, event__sandbox_id__in=ids)
        .values_list("event__sandbox_id")
        .annotate(total=Sum("points"))
        .values_list("event__sandbox_id", "total")
    )
    found: dict[int, list[Activity]] = defaultdict(list)
    for sandbox in sandboxes:
        first, last = spans.get(sandbox.pk, [sandbox.created_at, sandbox.created_at])
        running = sandbox.status == Sandbox.Status.READY
        found[sandbox.owner_id or 0].append(
            Activity(
                key=f"demo-{sandbox.pk}",
                product=catalogue.product_name(sandbox.product) or sandbox.product,
                industry=catalogue.industry_name(sandbox.industry) or sandbox.industry,
                started_at=sandbox.created_at,
                ended_at=None if running else (sandbox.ended_at or last),
                status="completed" if sandbox.pk in completed else "running" if running else "ended",
                duration_minutes=round((last - first).total_seconds() / 60),
                features=[feature_name(key) for key in features[sandbox.pk]],
                engagement_points=int(points.get(sandbox.pk) or 0),
                watch_url=portal_url("admin:sandboxes_sandbox_watch", sandbox.pk) if running else "",
            )
        )
    return found


def portal_url(name: str, *args: Any) -> str:
    """An absolute link into the portal (its admin lives in the public schema's URLs, not a sandbox's)."""
    base: str = settings.PORTAL_URL
    return base + reverse(name, args=args, urlconf=settings.PUBLIC_SCHEMA_URLCONF)


def feature_name(key: str) -> str:
    """ "o2_trim" → "O2 trim"; "savings_calculated" → "Savings calculated"."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
